"""Headless replay: the panel's pipeline over an event file, one record per message."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from base.errors import ConnectorError, EventError
from connectors.contract import ToolInfo
from copilot.action_policy import policy_in_force
from copilot.actions.customer import Lookup, lookups
from copilot.actions.proposals import ActionContext, Proposal, propose
from copilot.conversation.events import ConversationStarted, Message, read_events
from copilot.conversation.state import Conversation, ToolEvent
from copilot.pipeline import Insight, Pipeline

if TYPE_CHECKING:
    from connectors.systems import Systems
    from copilot.actions.approvals import Desk


def replay_states(path: Path) -> tuple[list[tuple[Conversation, int]], list[EventError]]:
    """The conversation state after each message of ``path``, and the lines that could not be read."""
    log = read_events(path)
    states: list[tuple[Conversation, int]] = []
    conversation: Conversation | None = None
    for event in log.events:
        if isinstance(event, ConversationStarted):
            conversation = Conversation.start(event)
            continue
        if conversation is None:
            conversation = Conversation(id=getattr(event, "conversation_id", path.stem))
        conversation = conversation.apply(event)
        if isinstance(event, Message):
            states.append((conversation, event.seq))
    return states, log.errors


def replay(path: Path, pipeline: Pipeline) -> tuple[Iterator[Insight], list[EventError]]:
    """Insights for every message of ``path`` in order, and the errors of lines that could not be read."""
    states, errors = replay_states(path)
    return (pipeline.run(conversation, seq) for conversation, seq in states), errors


def insight_record(insight: Insight) -> dict[str, Any]:
    """The compact JSON shape of one insight, as ``copilot replay --json`` prints it."""
    advice = insight.advice
    return {
        "conversation_id": insight.conversation_id,
        "seq": insight.seq,
        "role": insight.role,
        "clauses": [{"citation": c.citation, "title": c.title, "score": c.score} for c in insight.clauses],
        "notices": list(insight.notices),
        "grounded": insight.grounded,
        "escalations": [
            {"category": e.category, "severity": e.severity, "seq": e.seq, "evidence": e.evidence, "queue": e.queue}
            for e in advice.escalations
        ],
        "flags": [
            {"rule": f.rule, "category": f.category, "severity": f.severity, "evidence": f.evidence, "clause": f.clause}
            for f in advice.flags
        ],
        "intent": {"id": advice.intent.id, "confidence": advice.intent.confidence},
        "suggestions": [
            {
                "title": s.title,
                "playbook": s.playbook,
                "next_step": s.next_step.text if s.next_step else "",
                "citations": list(s.citations),
                "actions": list(s.actions),
            }
            for s in advice.suggestions
        ],
        "draft": {
            "text": advice.reply.text,
            "source": advice.reply.source,
            "citations": list(advice.reply.citations),
            "missing": list(advice.reply.missing),
            "unsupported": [u.text for u in advice.reply_review.unsupported],
            "flags": [f.category for f in advice.reply_review.flags],
        },
        "timings_ms": insight.timings_ms,
    }


class Supply:
    """The live panel's supply loop for one conversation, without the panel: before each analysis the
    pre-approved lookups the conversation names, then those its proposals wait for, until nothing new is
    read. ``systems`` None: no lookups (the conversation's own tool results are all the facts)."""

    def __init__(
        self,
        pipeline: Pipeline,
        systems: Systems | None,
        tools: Mapping[str, ToolInfo],
        role: str = "rep",
        warn: Callable[[str], None] = lambda _: None,
    ) -> None:
        self.pipeline = pipeline
        self.systems = systems
        self.tools = tools
        self.role = role
        self.warn = warn
        self.found: list[ToolEvent] = []
        """The copilot's own lookups so far (call and result), joined to every later state."""
        self._done: set[str] = set()

    async def advise(self, conversation: Conversation, seq: int) -> tuple[Insight, tuple[Proposal, ...]]:
        """The insight and proposals for message ``seq`` of ``conversation`` (a state of the recorded events),
        with every lookup made so far joined to it."""
        conversation = replace(conversation, tools=(*conversation.tools, *self.found))
        pipeline = self.pipeline
        packs = pipeline.pinned or tuple(v.key for v in pipeline.workspace.applicable(conversation))
        policy = policy_in_force(pipeline.workspace.catalog, packs)
        while True:  # as the panel does: what the conversation names, then what a proposal waits for
            known = len(self.found)
            conversation = await self._look_up(conversation, seq, lookups(conversation, policy))
            if len(self.found) > known:
                continue
            insight = pipeline.run(conversation, seq)
            advice = insight.advice
            context = ActionContext(advice.suggestions, advice.escalations, self.tools, self.role)
            proposals = propose(conversation, context, policy, pipeline.workspace.guidance(insight.packs))
            calls = [Lookup(*call) for p in proposals if (call := p.verdict.lookup_call) is not None]
            conversation = await self._look_up(conversation, seq, calls)
            if len(self.found) == known:
                return insight, proposals

    async def _look_up(self, conversation: Conversation, seq: int, wanted: list[Lookup]) -> Conversation:
        """The conversation with the results of the pre-approved lookups not made before."""
        systems = self.systems
        for lookup in wanted:
            if systems is None or lookup.key in self._done or not systems.pre_approved(lookup.tool):
                continue
            self._done.add(lookup.key)
            try:
                result = await systems.call(lookup.tool, lookup.arguments)
            except ConnectorError as exc:
                self.warn(f"lookup {lookup.tool} failed: {exc}")
                continue
            self.found.extend(
                (
                    ToolEvent(seq, "call", lookup.tool, json.dumps(lookup.arguments)),
                    ToolEvent(seq, "result", lookup.tool, json.dumps(result)),
                )
            )
            conversation = replace(conversation, tools=(*conversation.tools, *self.found[-2:]))
        return conversation


async def replay_with_systems(
    path: Path, pipeline: Pipeline, desk: Desk, warn: Callable[[str], None]
) -> tuple[list[tuple[Insight, tuple[Proposal, ...]]], list[EventError]]:
    """Like ``replay``, with the live panel's pre-approved lookups and each message's action proposals.

    Proposals are offered to ``desk`` (so each lands in the audit log once) but nothing is executed.
    """
    states, errors = replay_states(path)
    tools = await desk.systems.tools()
    supply = Supply(pipeline, desk.systems, {name: info for name, (_, info) in tools.items()}, desk.role, warn)
    out: list[tuple[Insight, tuple[Proposal, ...]]] = []
    for conversation, seq in states:
        insight, proposals = await supply.advise(conversation, seq)
        desk.offer(proposals)
        out.append((insight, proposals))
    return out, errors
