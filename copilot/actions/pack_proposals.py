"""Proposals for the write tools a pack describes (its actions.toml): the tools the shown paths name, with
arguments filled from the records the conversation looked up and from the identified customer, each
judged by the pack's guardrails on fresh records (``ActionDesk``).

Arguments come from the systems' records, never from what the customer typed: an argument that no
record or identity supplies is left out and named, for the rep to fill in.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from connectors.systems import Systems, ToolInfo
from copilot.action_policy import ActionPolicy
from copilot.actions.desk import ActionDesk, Situation, customer_named, path_value
from copilot.actions.guardrails import Verdict
from copilot.actions.proposals import Proposal, proposal_id
from copilot.conversation.state import Conversation
from copilot.reasoner import Advice


def situation_of(conversation: Conversation, policy: ActionPolicy) -> Situation:
    """Who the conversation's lookups identified, what they read, and what the customer said."""
    situation = Situation(stated=[t.text for t in conversation.turns if t.role == "customer"])
    identifying = {how.tool: how for how in policy.systems.identify}
    kinds = {kind.tool: kind for kind in policy.systems.record}
    for event in conversation.tools:
        record = event.record() if event.kind == "result" else None
        if record is None:
            continue
        if event.name in kinds:
            situation.seen.setdefault(kinds[event.name].name, []).append(record)
        how = identifying.get(event.name)
        found = customer_named(how, record, {}) if how is not None else None
        if found is not None and not situation.customer_id:
            situation.customer, situation.customer_id = record, str(found)
    return situation


def arguments_for(
    info: ToolInfo, policy: ActionPolicy, situation: Situation, conversation: Conversation
) -> tuple[dict[str, Any], list[str]]:
    """The tool's required arguments that records and identity supply, and the names of those they do not.
    Of several records of a kind, the one whose id the conversation mentioned last is the one in question."""
    by_key = {kind.key: kind.name for kind in policy.systems.record}
    identity_fields = {name for how in policy.systems.identify for name in how.by}
    texts = [turn.text for turn in conversation.turns]
    filled: dict[str, Any] = {}
    missing: list[str] = []
    for name in info.schema.get("required", []):
        ids = [str(v) for r in situation.seen.get(by_key.get(name, ""), []) if (v := path_value(r, name)) is not None]
        value = (
            max(reversed(ids), key=lambda i: max((n for n, t in enumerate(texts) if i in t), default=-1))
            if ids
            else None
        )
        if value is None and name in identity_fields and situation.customer_id:
            value = situation.customer_id
        if value is None:
            missing.append(name)
        else:
            filled[name] = value
    return filled, missing


async def pack_proposals(
    conversation: Conversation, advice: Advice, policy: ActionPolicy, systems: Systems, max_proposals: int = 3
) -> tuple[Proposal, ...]:
    """A proposal for each described write tool the shown paths name (best path first)."""
    tools = await systems.tools()
    situation = situation_of(conversation, policy)
    desk = ActionDesk(policy, systems, situation)
    proposals: dict[str, Proposal] = {}
    for suggestion in advice.suggestions:
        for tool in suggestion.actions:
            entry = tools.get(tool)
            if entry is None or entry[1].read_only or tool not in policy.tools or len(proposals) >= max_proposals:
                continue
            arguments, missing = arguments_for(entry[1], policy, situation, conversation)
            verdict = _waiting_for(tool, missing) if missing else (await desk.judge(tool, arguments)).verdict
            key = proposal_id(conversation.id, tool, arguments)
            proposals.setdefault(
                key, Proposal(key, conversation.id, tool, arguments, suggestion.title, suggestion.citations, verdict)
            )
    return tuple(proposals.values())


def _waiting_for(tool: str, missing: Sequence[str]) -> Verdict:
    return Verdict("blocked", f"{tool} needs {', '.join(missing)}: ask the customer or look it up first.", "arguments")


def described(policy: ActionPolicy, tools: Mapping[str, object]) -> bool:
    """Whether the pack in force describes any tool the connected systems offer."""
    return any(name in tools for name in policy.tools)
