"""Wrap-up: what a rep files when a conversation ends (a ``conversation_end`` event, or the rep's key) —
root-cause tags suggested from the pack's taxonomy (the rep confirms), the outcome, a one-paragraph summary
with its citations, and a CSAT survey message in the customer's language from the pack's template.

Everything comes from the insights the panel (or replay) already made for the conversation's messages and
from the pack's qa.toml; nothing is computed again, and the summary is the handoff's extractive one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from base.errors import CopilotError, EventError
from copilot.conversation.language import customer_language_code
from copilot.conversation.state import Conversation
from copilot.handoff import build_handoff
from copilot.pipeline import Insight, Pipeline
from copilot.qa.causes import suggest_causes
from copilot.qa.policy import EscalationCheck, QaPolicy, qa_in_force
from copilot.qa.transcript import folded
from copilot.reasoning.guidance import in_language
from copilot.replay import replay_states

Outcome = Literal["resolved", "escalated", "pending", "follow_up"]
"""How a conversation ended: the values of the records' ``Ending`` (copilot/records/models.py)."""
LAST_REP_MESSAGES = 2
"""Rep messages at the end read for a promised follow-up or a wait: what the rep said while closing."""


@dataclass(frozen=True)
class Tag:
    """A root cause suggested for the conversation."""

    id: str
    title: str
    score: int
    """How strongly the conversation shows it (copilot/qa/causes.py WEIGHTS); the first tag is the best."""


@dataclass(frozen=True)
class WrapUp:
    """A conversation's wrap-up, as suggested: the rep confirms or changes the tags and the outcome."""

    conversation_id: str
    tags: tuple[Tag, ...]
    outcome: Outcome
    why: str
    """What the outcome was read from, in a few words."""
    summary: str
    """One paragraph, its citations named at its end."""
    citations: tuple[str, ...]
    csat: str
    """The survey message to send the customer, in their language where the pack has the template in it."""
    language: str

    def record(self) -> dict[str, Any]:
        return {
            "conversation_id": self.conversation_id,
            "root_causes": [{"id": t.id, "title": t.title, "score": t.score} for t in self.tags],
            "outcome": self.outcome,
            "why": self.why,
            "summary": self.summary,
            "citations": list(self.citations),
            "csat": self.csat,
            "language": self.language,
        }

    def markdown(self, title: str) -> str:
        tags = ", ".join(f"{t.title} (`{t.id}`)" for t in self.tags) or "none suggested"
        return (
            f"## Wrap-up: {title}\n\n**Root causes:** {tags}\n\n**Outcome:** {self.outcome.replace('_', ' ')} "
            f"({self.why})\n\n{self.summary}\n\n**CSAT survey**\n\n> {self.csat}\n"
        )


def wrap_up(conversation: Conversation, insights: Sequence[Insight], policy: QaPolicy | None) -> WrapUp:
    """The wrap-up of ``conversation`` from the ``insights`` of its messages (at least the newest one), with
    the pack's ``policy`` (its qa.toml; None: no tags, the default CSAT text). The panel calls this with the
    insights it holds; ``wrap_up_file`` with those of a replay."""
    if not insights:
        raise CopilotError(f"{conversation.id}: no analysed message to wrap up; wrap up after the first message")
    last = insights[-1]
    tags: tuple[Tag, ...] = ()
    if policy is not None:
        titles = {c.id: c.title for c in policy.file.root_cause}
        intents = {t.intent for i in insights for t in i.advice.topics.topics if t.known}
        causes = suggest_causes(
            policy,
            intents | {i.advice.intent.id for i in insights},
            {e.category for i in insights for e in i.advice.escalations},
            {f.rule for i in insights for f in i.advice.flags},
            (folded(t.text) for t in conversation.turns if t.role == "customer"),
        )
        tags = tuple(Tag(cause, titles[cause], score) for cause, score in causes[: policy.file.wrapup.max_tags])
    outcome, why = _outcome(conversation, insights, policy)
    handoff = build_handoff(conversation, last)
    cited = ", ".join(f"[{c}]" for c in handoff.citations)
    summary = f"{handoff.summary} Outcome: {outcome.replace('_', ' ')} ({why})." + (
        f" Policy: {cited}." if cited else ""
    )
    language = customer_language_code(conversation.turns) or (policy.guidance.languages[0] if policy else "en")
    settings = policy.file.wrapup if policy else None
    template = in_language(settings.csat, settings.csat_by_language, language) if settings else ""
    first = conversation.customer_name.split()[0] if conversation.customer_name.strip() else ""
    csat = (
        template.replace("{customer_first_name}", first)
        if first
        else re.sub(r"\s*\{customer_first_name\}", "", template)
    )
    return WrapUp(conversation.id, tags, outcome, why, summary, tuple(handoff.citations), csat, language)


def _outcome(conversation: Conversation, insights: Sequence[Insight], policy: QaPolicy | None) -> tuple[Outcome, str]:
    """How the conversation ended: handed over (the transfer tool, or the rep's hand-over words), a follow-up
    the rep promised, a wait on someone, or resolved."""
    reps = [folded(t.text) for t in conversation.turns if t.role == "rep"]
    closing = reps[-LAST_REP_MESSAGES:]
    transfer = policy.transfer_tool if policy else ""
    if transfer and any(t.kind == "call" and t.name == transfer for t in conversation.tools):
        return "escalated", f"{transfer} was called"
    if policy is not None:
        handed = [policy.words[c.id] for c in policy.file.check if isinstance(c, EscalationCheck)]
        escalations = {e.category for i in insights for e in i.advice.escalations}
        if escalations and any(p is not None and p.search(t) for p in handed for t in reps):
            return "escalated", f"the rep handed over ({', '.join(sorted(escalations))})"
        endings: tuple[tuple[Outcome, str, str], ...] = (
            ("follow_up", "wrapup.follow_up", "the rep promised to come back"),
            ("pending", "wrapup.pending", "waiting on someone"),
        )
        for outcome, key, why in endings:
            words = policy.words[key]
            if words is not None and any(words.search(t) for t in closing):
                return outcome, why
    if conversation.turns and conversation.turns[-1].role == "customer" and not reps:
        return "pending", "the customer has had no answer"
    return "resolved", "nothing left open"


def wrap_up_file(path: Path, pipeline: Pipeline) -> tuple[WrapUp, list[EventError]]:
    """`copilot wrapup`: every message of the event file through the replay's pipeline, then the wrap-up; with
    the lines that could not be read."""
    states, errors = replay_states(path)
    if not states:
        raise CopilotError(
            f"{path}: no messages to wrap up"
            + (f" ({len(errors)} line(s) could not be read: {errors[0]})" if errors else "")
        )
    insights = [pipeline.run(conversation, seq) for conversation, seq in states]
    policy = qa_in_force(pipeline.workspace.catalog, insights[-1].packs)
    return wrap_up(states[-1][0], insights, policy), errors
