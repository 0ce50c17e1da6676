"""`copilot eval suggestions`: would the copilot have proposed the writes a good agent made, in time and
with the same arguments?

Each solved conversation (``reward`` 1 in the outcomes file) is replayed event by event through the panel's
supply loop (``replay.Supply``: the pre-approved lookups, the pipeline, the proposals): after every message,
and again right before each write the recorded agent made (its lookups since the message are facts by
then). A write counts as anticipated when a proposal of the same tool was shown after the customer's
latest message before it; exactly, when its arguments were the agent's too (the arguments a pack marks
``free_text``, someone's own words, are not compared). A proposal that matches none of the agent's writes
of the conversation is an extra; a proposal whose arguments agree with one of them on every argument it
gives is that write, not filled in completely. Nothing here knows a company: the pack names the write
tools (or the server, when one is given) and the conversations are the events of
docs/conversation-events.md.
"""

from __future__ import annotations

import json
import shlex
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from statistics import mean
from typing import Any

from base.errors import LineError
from base.jsonl import read_jsonl
from connectors.config import SystemConfig
from connectors.contract import ToolInfo
from connectors.systems import Systems, open_system
from copilot.action_policy import ActionPolicy
from copilot.actions.judge import Judge
from copilot.actions.proposals import Proposal, conversation_source, judged, situation_of
from copilot.conversation.events import ConversationStarted, Message, ToolCall, read_events
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline
from copilot.replay import Supply


@dataclass(frozen=True)
class Outcome:
    """One recorded conversation's result: whether its agent solved the task."""

    id: str
    """The conversation's file name without ``.jsonl``."""
    solved: bool


def read_outcomes(path: Path) -> list[Outcome]:
    """The outcomes of a JSONL file (``{"id", "reward", ...}`` a line); a LineError names the line and field."""
    found: list[Outcome] = []
    for line in read_jsonl(path):
        value = line.value
        if not isinstance(value.get("id"), str) or not value["id"]:
            raise line.error("must be the conversation's id (its file name without .jsonl)", "id")
        reward = value.get("reward")
        if isinstance(reward, bool) or not isinstance(reward, int | float):
            raise line.error("must be a number (1 for a solved task)", "reward")
        found.append(Outcome(value["id"], reward == 1))
    return found


@dataclass(frozen=True)
class Write:
    """One write call of the recorded agent."""

    tool: str
    arguments: dict[str, Any]
    turn: int
    """The index of the customer's latest message before it (0: the first), -1 before any."""
    shown_before: int
    """How many of the conversation's analyses came before it."""
    why: str = ""
    """Why the copilot would not make this call as it stood right before it: the paths and escalations
    shown did not name the tool, or the pack's verdict on the agent's own arguments (the diagnostic the
    misses print; empty when neither stood in its way)."""


@dataclass(frozen=True)
class Replayed:
    """One conversation replayed: the proposals of every analysis (with its customer turn) and the writes."""

    id: str
    analyses: tuple[tuple[int, tuple[Proposal, ...]], ...]
    writes: tuple[Write, ...]
    warnings: tuple[str, ...] = ()


@dataclass
class ToolTally:
    writes: int = 0
    named: int = 0
    exact: int = 0
    extra: int = 0
    earlier: list[int] = field(default_factory=list)
    """Per write proposed in time by name: how many customer turns before the agent it was shown."""
    exact_earlier: list[int] = field(default_factory=list)

    def as_json(self, conversations: int) -> dict[str, Any]:
        return {
            "writes": self.writes,
            "name_recall": _share(self.named, self.writes),
            "exact_recall": _share(self.exact, self.writes),
            "extra": self.extra,
            "extra_per_conversation": _share(self.extra, conversations),
            "turns_earlier": round(mean(self.earlier), 2) if self.earlier else None,
            "exact_turns_earlier": round(mean(self.exact_earlier), 2) if self.exact_earlier else None,
        }


@dataclass
class SuggestionScores:
    conversations: int = 0
    total: ToolTally = field(default_factory=ToolTally)
    by_tool: dict[str, ToolTally] = field(default_factory=dict)
    misses: list[dict[str, Any]] = field(default_factory=list)
    """The writes not proposed exactly: the agent's arguments and the copilot's of the same tool."""
    extras: list[dict[str, Any]] = field(default_factory=list)

    def tally(self, tool: str) -> list[ToolTally]:
        return [self.total, self.by_tool.setdefault(tool, ToolTally())]

    def as_json(self) -> dict[str, Any]:
        return {
            "conversations": self.conversations,
            "overall": self.total.as_json(self.conversations),
            "by_tool": {tool: t.as_json(self.conversations) for tool, t in sorted(self.by_tool.items())},
            "misses": self.misses,
            "extras": self.extras,
        }


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _plain(value: Any) -> Any:
    """A JSON value compared as data: whole floats as ints, so 250 and 250.0 are one amount."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


class Matcher:
    """Whether a proposal is an agent's write, by the pack's tools (their ``free_text`` arguments aside) and
    the tools' JSON schemas (fields a schema does not name, which the system ignores, aside)."""

    def __init__(self, policy: ActionPolicy, schemas: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.policy = policy
        self.schemas = dict(schemas or {})

    def compared(self, tool: str, arguments: Mapping[str, Any]) -> dict[str, Any]:
        described = self.policy.tools.get(tool)
        ignored = set(described.free_text) if described else set()
        kept = {k: v for k, v in arguments.items() if k not in ignored}
        plain: dict[str, Any] = _plain(_named_by(self.schemas.get(tool, {}), kept))
        return plain

    @staticmethod
    def named(proposal: Proposal, write: Write) -> bool:
        return proposal.tool == write.tool

    def exact(self, proposal: Proposal, write: Write) -> bool:
        return proposal.tool == write.tool and self.compared(proposal.tool, proposal.arguments) == self.compared(
            write.tool, write.arguments
        )

    def agrees(self, proposal: Proposal, write: Write) -> bool:
        """The proposal is this write, perhaps not filled in completely: every argument it gives is the agent's."""
        if proposal.tool != write.tool:
            return False
        wanted = self.compared(write.tool, write.arguments)
        return all(
            wanted.get(name) == value for name, value in self.compared(proposal.tool, proposal.arguments).items()
        )


def _named_by(schema: Mapping[str, Any], value: Any) -> Any:
    """The value with only the object fields its schema names (an object schema without ``properties``, or
    no schema, keeps them all): an agent's ``{"flight_number", "date", "origin"}`` where the tool takes the
    first two is the call the system runs."""
    properties = schema.get("properties")
    if isinstance(value, Mapping) and isinstance(properties, Mapping) and properties:
        return {k: _named_by(properties[k], v) for k, v in value.items() if k in properties}
    items = schema.get("items")
    if isinstance(value, list) and isinstance(items, Mapping):
        return [_named_by(items, v) for v in value]
    return value


def score(replayed: Sequence[Replayed], matcher: Matcher) -> SuggestionScores:
    """Recall in time by name and with exact arguments, turns earlier, and extras, per tool and overall."""
    scores = SuggestionScores(conversations=len(replayed))
    for one in replayed:
        by_turn: dict[int, list[Proposal]] = {}
        for turn, proposals in one.analyses:
            by_turn.setdefault(turn, []).extend(proposals)
        for write in one.writes:
            window = [p for turn, shown in one.analyses[: write.shown_before] if turn == write.turn for p in shown]
            named = any(Matcher.named(p, write) for p in window)
            exact = any(matcher.exact(p, write) for p in window)
            for tally in scores.tally(write.tool):
                tally.writes += 1
                tally.named += named
                tally.exact += exact
                if named:
                    tally.earlier.append(_run_before(by_turn, write, Matcher.named))
                if exact:
                    tally.exact_earlier.append(_run_before(by_turn, write, matcher.exact))
            if not exact:
                scores.misses.append(
                    {
                        "conversation": one.id,
                        "tool": write.tool,
                        "arguments": write.arguments,
                        "proposed": _distinct([p.arguments for p in window if p.tool == write.tool]),
                        "why": write.why,
                    }
                )
        extras: dict[str, Proposal] = {}
        for _, proposals in one.analyses:
            for proposal in proposals:
                if not any(matcher.agrees(proposal, write) for write in one.writes):
                    extras.setdefault(proposal.id, proposal)
        for proposal in extras.values():
            for tally in scores.tally(proposal.tool):
                tally.extra += 1
            scores.extras.append(
                {
                    "conversation": one.id,
                    "tool": proposal.tool,
                    "arguments": proposal.arguments,
                    "verdict": proposal.verdict.kind,
                    "why": proposal.why,
                }
            )
    return scores


def _run_before(
    by_turn: Mapping[int, Sequence[Proposal]], write: Write, matches: Callable[[Proposal, Write], bool]
) -> int:
    """How many customer turns right before the write's showed a matching proposal, without a gap."""
    earlier, turn = 0, write.turn
    while turn - earlier - 1 >= 0 and any(matches(p, write) for p in by_turn.get(turn - earlier - 1, ())):
        earlier += 1
    return earlier


def _distinct(values: list[dict[str, Any]]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for value in values:
        seen.setdefault(json.dumps(value, sort_keys=True, default=str), value)
    return list(seen.values())


async def replay_conversation(path: Path, supply: Supply, writes: set[str], policy: ActionPolicy) -> Replayed:
    """Analyses after every message and right before every write call (when something arrived since the
    message), each with the customer turn it belongs to; the write calls of the tools in ``writes``, each
    with why the copilot would not have made it then (``diagnosis``, its ``why``)."""
    log = read_events(path)
    conversation: Conversation | None = None
    analyses: list[tuple[int, tuple[Proposal, ...]]] = []
    found: list[Write] = []
    turn, message, changed = -1, None, False
    insight: Insight | None = None
    for event in log.events:
        if isinstance(event, ConversationStarted):
            conversation = Conversation.start(event)
            continue
        if conversation is None:
            conversation = Conversation(id=getattr(event, "conversation_id", path.stem))
        if isinstance(event, ToolCall) and event.name in writes:
            if changed and message is not None:
                insight, proposals = await supply.advise(conversation, message)
                analyses.append((turn, proposals))
                changed = False
            why = diagnosis(
                replace(conversation, tools=(*conversation.tools, *supply.found)), event, insight, supply, policy
            )
            found.append(Write(event.name, dict(event.arguments), turn, len(analyses), why))
        conversation = conversation.apply(event)
        if isinstance(event, Message):
            turn += event.role == "customer"
            message, changed = event.seq, False
            insight, proposals = await supply.advise(conversation, event.seq)
            analyses.append((turn, proposals))
        else:
            changed = True
    return Replayed(path.stem, tuple(analyses), tuple(found), tuple(str(e) for e in log.errors))


def diagnosis(
    conversation: Conversation, call: ToolCall, insight: Insight | None, supply: Supply, policy: ActionPolicy
) -> str:
    """Why the copilot would not have proposed the agent's call right before it: no path or escalation shown
    named the tool, or the pack's verdict on the agent's own arguments (what the copilot filled differently
    is in the miss itself). Empty when neither stood in the way."""
    reasons: list[str] = []
    if insight is not None:
        advice = insight.advice
        named = {tool for s in advice.suggestions for tool in s.actions}
        if policy.systems.transfer is not None and advice.escalations:
            named.add(policy.systems.transfer.tool)
        if call.name not in named:
            paths = "; ".join(s.title for s in advice.suggestions) or "none"
            reasons.append(f"not triggered (paths shown: {paths})")
    judge = Judge(policy, situation_of(conversation, policy, supply.role))
    info = supply.tools.get(call.name)
    verdict = judged(judge, conversation, call.name, dict(call.arguments), info)
    if verdict.kind == "blocked":
        reasons.append(f"the agent's call is {verdict.kind} ({verdict.rule}): {verdict.reason}")
    described = policy.tools.get(call.name)
    if described is not None and described.arguments:  # what the pack fills, and whether it would offer it
        source = conversation_source(conversation)
        filled = judge.fill(described.model_copy(update={"offer": ""}), source) or {}
        offered = judge.fill(described, source) is not None
        own = judged(judge, conversation, call.name, filled, info)
        reasons.append(
            f"the pack fills {json.dumps(filled, default=str)} (offer {'holds' if offered else 'does not hold'}; "
            f"{own.kind}{f' ({own.rule}): {own.reason}' if own.rule else ''})"
        )
    return "; ".join(reasons)


def offline_tools(policy: ActionPolicy) -> dict[str, ToolInfo]:
    """Without a server: the write tools the pack describes and the lookups it names (no schemas)."""
    reads = [kind.tool for kind in policy.systems.record] + [how.tool for how in policy.systems.identify]
    tools = {name: ToolInfo(name, read_only=True) for name in reads}
    tools.update({name: ToolInfo(name) for name in policy.tools})
    return tools


async def evaluate_suggestions(
    pipeline: Pipeline,
    policy: ActionPolicy,
    conversations: Path,
    outcomes: Sequence[Outcome],
    server: str | None,
    progress: Callable[[int, int], None] | None = None,
    warn: Callable[[str], None] = lambda _: None,
    only: Sequence[str] = (),
) -> SuggestionScores:
    """Replay every solved conversation of ``outcomes`` (files ``conversations/ID.jsonl``) and score it.
    ``server`` starts the company's system afresh for each conversation (``{state}``: a new empty folder,
    ``{task}``: empty), whose pre-approved lookups are the ones the pack's systems.toml names. ``only``
    (conversation ids) measures just those, to try a pack change on the conversations it is about."""
    solved = [o for o in outcomes if o.solved and (not only or o.id in only)]
    unknown = sorted(set(only) - {o.id for o in outcomes if o.solved})
    if unknown:
        raise LineError(str(conversations), 0, "only", f"names no solved conversation {', '.join(unknown[:3])}")
    missing = [o.id for o in solved if not (conversations / f"{o.id}.jsonl").is_file()]
    if missing:
        raise LineError(
            str(conversations), 0, "file", f"has no conversation file for {', '.join(missing[:3])}.jsonl (solved)"
        )
    replayed: list[Replayed] = []
    schemas: dict[str, dict[str, Any]] = {}
    for number, outcome in enumerate(solved, start=1):
        path = conversations / f"{outcome.id}.jsonl"
        if server is None:
            tools = offline_tools(policy)
            replayed.append(
                await replay_conversation(path, Supply(pipeline, None, tools, warn=warn), set(policy.tools), policy)
            )
        else:
            replayed.append(await _with_server(pipeline, policy, path, server, warn, schemas))
        for warning in replayed[-1].warnings:
            warn(f"skipped: {warning}")
        if progress:
            progress(number, len(solved))
    return score(replayed, Matcher(policy, schemas))


async def _with_server(
    pipeline: Pipeline,
    policy: ActionPolicy,
    path: Path,
    server: str,
    warn: Callable[[str], None],
    schemas: dict[str, dict[str, Any]],
) -> Replayed:
    """One conversation with the system started fresh for it; the writes are the tools it does not mark
    read-only. ``schemas`` gets the tools' argument schemas, which the arguments are compared by."""
    lookups = {kind.tool for kind in policy.systems.record} | {how.tool for how in policy.systems.identify}
    lookups |= {lookup.tool for lookup in policy.systems.lookup}
    with tempfile.TemporaryDirectory(prefix="copilot-eval-suggestions-") as state:
        command = tuple(part.replace("{state}", state).replace("{task}", "") for part in shlex.split(server))
        config = SystemConfig(
            name="eval", transport="stdio", command=command, timeout_s=60, pre_approved=tuple(sorted(lookups))
        )
        systems = Systems([open_system(config)])
        try:
            tools = {name: info for name, (_, info) in (await systems.tools()).items()}
            schemas.update({name: info.schema for name, info in tools.items()})
            writes = {name for name, info in tools.items() if not info.read_only}
            return await replay_conversation(path, Supply(pipeline, systems, tools, warn=warn), writes, policy)
        finally:
            await systems.aclose()
