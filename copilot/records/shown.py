"""The cards an insight puts on the panel, as records keep them: every clause, flag, escalation, suggested path
and the draft, with the pack versions, latency and case of the message they were made for."""

from __future__ import annotations

from typing import TYPE_CHECKING

from copilot.records.models import Kind
from copilot.records.store import Shown

if TYPE_CHECKING:
    from copilot.pipeline import Insight

DRAFT_KEY = "reply"
"""The key of an insight's draft card (there is one draft per message)."""


def shown_for(
    insight: Insight, kind: Kind, key: str, text: str, citations: tuple[str, ...] = (), names: tuple[str, ...] = ()
) -> Shown:
    """A card made for ``insight``'s message: its pack versions, latency and case go with it."""
    return Shown(
        insight.conversation_id,
        insight.seq,
        kind,
        key,
        text,
        citations,
        insight.packs,
        insight.timings_ms.get("total"),
        insight.advice.intent.id,
        names,
    )


def cards_of(insight: Insight, names: tuple[str, ...] = ()) -> list[Shown]:
    """The panel's cards for ``insight``, in the order the panel shows its sections."""
    advice = insight.advice
    found = [
        *((Kind.CLAUSE, hit.citation, hit.text, (hit.citation,)) for hit in insight.clauses),
        *((Kind.ESCALATION, e.category, e.queue, ()) for e in advice.escalations),
        *((Kind.FLAG, f.rule, f.message, (f.clause,) if f.clause else ()) for f in advice.flags),
        *((Kind.SUGGESTION, s.title, s.template, s.citations) for s in advice.suggestions),
        *([(Kind.DRAFT, DRAFT_KEY, advice.reply.text, advice.reply.citations)] if advice.reply.text else []),
    ]
    return [shown_for(insight, kind, key, text, citations, names) for kind, key, text, citations in found]
