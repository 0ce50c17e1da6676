"""What to search for at a given message: the newest customer words, in the context of recent turns."""

from __future__ import annotations

from dataclasses import dataclass

from copilot.conversation.state import Conversation

CONTEXT_TURNS = 6


@dataclass(frozen=True)
class RetrievalQuery:
    """The two texts the searcher weighs: ``focus`` dominates, ``context`` steers."""

    focus: str
    """The latest customer message at or before the seq (the message itself when no customer spoke yet)."""
    context: tuple[str, ...]
    """Recent customer and rep turns, newest first."""


def build_query(conversation: Conversation, seq: int) -> RetrievalQuery | None:
    """The query for the state right after message ``seq``; None when there is nothing to search."""
    turns = [t for t in conversation.turns_upto(seq) if t.role in ("customer", "rep") and t.text.strip()]
    if not turns:
        return None
    customer = [t for t in turns if t.role == "customer"]
    focus = (customer[-1] if customer else turns[-1]).text.strip()
    recent = turns[-CONTEXT_TURNS:]
    return RetrievalQuery(focus, tuple(t.text.strip() for t in reversed(recent)))
