"""The rep's work in progress and the overrides and path decisions team leads review, in the records database.

- the draft being edited, per conversation, saved on every change: it survives a crash or restart;
- every insert of a draft that verification did not fully back, with the spans and the rep's override;
- every suggested path accepted or dismissed.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import delete, select

from copilot.reasoning.claims import Unsupported
from copilot.records.columns import now
from copilot.records.database import Sessions
from copilot.records.models import Decision, Draft, Insert


class Journal:
    """Each call is one short transaction, so nothing is lost on a crash."""

    def __init__(self, sessions: Sessions, rep: str = "") -> None:
        self._sessions = sessions
        self._rep = rep

    def save_draft(self, conversation_id: str, seq: int, text: str) -> None:
        with self._sessions.writing() as session:
            session.merge(Draft(conversation_id=conversation_id, seq=seq, text=text, saved_at=now(), rep=self._rep))

    def draft(self, conversation_id: str) -> tuple[int, str] | None:
        """The saved (seq, text) of a conversation's draft in progress."""
        with self._sessions.reading() as session:
            draft = session.get(Draft, conversation_id)
            return (draft.seq, draft.text) if draft else None

    def discard_draft(self, conversation_id: str) -> None:
        with self._sessions.writing() as session:
            session.execute(delete(Draft).where(Draft.conversation_id == conversation_id))

    def record_insert(self, conversation_id: str, seq: int, text: str, unsupported: Sequence[Unsupported]) -> None:
        """An inserted draft; with unsupported spans it is an override, kept with what was not backed."""
        spans = [{"text": u.text, "reason": u.reason, "start": u.start, "end": u.end} for u in unsupported]
        with self._sessions.writing() as session:
            session.add(
                Insert(
                    conversation_id=conversation_id,
                    seq=seq,
                    text=text,
                    unsupported=spans,
                    overridden=bool(spans),
                    at=now(),
                    rep=self._rep,
                )
            )
            session.execute(delete(Draft).where(Draft.conversation_id == conversation_id))

    def overrides(self) -> list[dict[str, object]]:
        """Inserts made over unsupported spans, oldest first."""
        with self._sessions.reading() as session:
            rows = session.scalars(select(Insert).where(Insert.overridden).order_by(Insert.id))
            return [
                {
                    "conversation_id": r.conversation_id,
                    "seq": r.seq,
                    "text": r.text,
                    "unsupported": r.unsupported,
                    "at": r.at,
                    "rep": r.rep,
                }
                for r in rows
            ]

    def record_decision(self, conversation_id: str, seq: int, intent: str, path: str, decision: str) -> None:
        """``accepted`` or ``dismissed`` for one suggested path."""
        with self._sessions.writing() as session:
            session.add(
                Decision(
                    conversation_id=conversation_id,
                    seq=seq,
                    intent=intent,
                    path=path,
                    decision=decision,
                    at=now(),
                    rep=self._rep,
                )
            )

    def decisions(self, conversation_id: str) -> list[tuple[int, str, str, str]]:
        """(seq, intent, path, decision) of the conversation's path decisions, in order."""
        with self._sessions.reading() as session:
            rows = session.scalars(
                select(Decision).where(Decision.conversation_id == conversation_id).order_by(Decision.id)
            )
            return [(r.seq, r.intent, r.path, r.decision) for r in rows]
