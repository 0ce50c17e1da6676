"""The records' tables as SQLAlchemy models: the journal's drafts, inserts and decisions, every card shown
with what the rep did with it, and what leads review: wrap-ups, customer questions (for knowledge gaps),
lead approvals, queue verdicts, coaching notes and change requests. Migrations (``migrations/versions``) build the same
schema; a test keeps the two equal."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, CheckConstraint, Enum, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from copilot.records.columns import UtcDateTime
from copilot.records.team_tables import register


class Kind(StrEnum):
    """What a card showed the rep."""

    CLAUSE = "clause"
    FLAG = "flag"
    ESCALATION = "escalation"
    SUGGESTION = "suggestion"
    DRAFT = "draft"
    ACTION = "action"
    """An action proposal (a tool call the rep may approve)."""


class Outcome(StrEnum):
    """What the rep did with a card; the first three are looks, the rest decisions."""

    DISPLAYED = "displayed"
    EXPANDED = "expanded"
    COPIED = "copied"
    INSERTED = "inserted"
    SENT = "sent"
    """Sent as suggested."""
    EDITED = "edited"
    """Sent after changing its words (the record keeps the word diff)."""
    REJECTED = "rejected"
    IGNORED = "ignored"
    """Never decided on before a newer message or conversation replaced it."""

    @property
    def decides(self) -> bool:
        return self not in LOOKS


LOOKS = frozenset({Outcome.DISPLAYED, Outcome.EXPANDED, Outcome.COPIED})
"""Outcomes that are not a decision: a card in one of them is still waiting for the rep."""


class Reason(StrEnum):
    """Why a card was rejected: a short list, one keystroke each (1-6 in the list's order)."""

    WRONG = "wrong"
    OUTDATED = "outdated"
    NOT_RELEVANT = "not_relevant"
    INCOMPLETE = "incomplete"
    TONE = "tone"
    OTHER = "other"


def _choice(enum: type[StrEnum], name: str, length: int = 16) -> Enum:
    """A column of ``enum``'s values, checked by the database (VARCHAR + CHECK: the same on both backends)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=length,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    """The records' metadata."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


register(Base.metadata)  # the catalog and what else a team shares: one schema, one chain of migrations


class Draft(Base):
    """The draft being edited in a conversation, saved on every change so a crash or restart keeps it."""

    __tablename__ = "drafts"
    conversation_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    seq: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    saved_at: Mapped[datetime]
    rep: Mapped[str] = mapped_column(String(200), default="")


class Insert(Base):
    """A draft the rep inserted; with unsupported spans it is an override, kept with what was not backed."""

    __tablename__ = "inserts"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    seq: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    unsupported: Mapped[list[Any]]
    """``[{"text", "reason", "start", "end"}]`` of each span verification did not back."""
    overridden: Mapped[bool]
    at: Mapped[datetime] = mapped_column(index=True)
    rep: Mapped[str] = mapped_column(String(200), default="")


class Decision(Base):
    """A suggested path accepted or dismissed."""

    __tablename__ = "decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    seq: Mapped[int]
    intent: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(Text)
    decision: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(index=True)
    rep: Mapped[str] = mapped_column(String(200), default="")


class Card(Base):
    """One card shown to a rep, and what they did with it."""

    __tablename__ = "cards"
    __table_args__ = (
        CheckConstraint("thumb IN (-1, 1)", name="ck_cards_thumb"),
        Index("ix_cards_rep_shown_at", "rep", "shown_at"),
        Index("ix_cards_conversation", "conversation_id", "seq"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int]
    """The message the card was made for."""
    kind: Mapped[Kind] = mapped_column(_choice(Kind, "card_kind"), index=True)
    key: Mapped[str] = mapped_column(String(500))
    """What the card is about: a citation, a rule id, an escalation category, a path, a proposal id."""
    text: Mapped[str] = mapped_column(Text)
    """What it showed (a draft's or suggestion's words; redacted unless an admin turned redaction off)."""
    citations: Mapped[list[Any]]
    packs: Mapped[list[Any]]
    """``name@version`` of the pack versions in force."""
    latency_ms: Mapped[float | None]
    """How long the advice took, message to card (the pipeline's total)."""
    topic: Mapped[str] = mapped_column(String(200))
    """The conversation's case: the intent the advice was for (``unknown`` when none)."""
    rep: Mapped[str] = mapped_column(String(200))
    shown_at: Mapped[datetime] = mapped_column(index=True)
    outcome: Mapped[Outcome] = mapped_column(_choice(Outcome, "card_outcome"), index=True)
    decided_at: Mapped[datetime | None]
    decision_ms: Mapped[int | None] = mapped_column(BigInteger)
    """Time to decision: from shown to the first decision."""
    sent_text: Mapped[str | None] = mapped_column(Text)
    """What the rep inserted or sent (redacted unless an admin turned redaction off)."""
    diff: Mapped[list[Any] | None]
    """Word diff of the sent text to the card's: ``[["=", "Hi"], ["-", "$500"], ["+", "$50"], ...]``."""
    edit_ratio: Mapped[float | None]
    """0 when sent as shown, 1 when every word was rewritten."""
    reason: Mapped[Reason | None] = mapped_column(_choice(Reason, "card_reason"))
    thumb: Mapped[int | None]
    """+1 thumbs up, -1 thumbs down."""
    actions: Mapped[list[CardAction]] = relationship(
        back_populates="card", order_by="CardAction.id", cascade="all, delete-orphan", passive_deletes=True
    )


class CardAction(Base):
    """Each thing the rep did with a card, in order (a card may be expanded, copied, then sent)."""

    __tablename__ = "card_actions"
    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id", ondelete="CASCADE"), index=True)
    action: Mapped[Outcome] = mapped_column(_choice(Outcome, "card_action"))
    at: Mapped[datetime]
    card: Mapped[Card] = relationship(back_populates="actions")


class Ending(StrEnum):
    """How a conversation ended, as its wrap-up says."""

    RESOLVED = "resolved"
    ESCALATED = "escalated"
    PENDING = "pending"
    FOLLOW_UP = "follow_up"
    """Resolved for now, with a follow-up due."""


class Wrapup(Base):
    """A conversation's wrap-up as the rep confirmed it: root causes from the pack's taxonomy, the ending and
    a summary. The review window filters and charts by root cause from these rows."""

    __tablename__ = "wrapups"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    rep: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(index=True)
    ending: Mapped[Ending] = mapped_column(_choice(Ending, "wrapup_ending"))
    root_causes: Mapped[list[Any]]
    """The taxonomy's ids the rep confirmed."""
    summary: Mapped[str] = mapped_column(Text)
    """Redacted unless an admin turned redaction off."""
    citations: Mapped[list[Any]]


class Question(Base):
    """A customer message the advice was for, with how well the pack answered it: the knowledge gaps are
    the questions no clause was relevant enough for, or whose drafts reps kept rewriting."""

    __tablename__ = "questions"
    __table_args__ = (Index("ix_questions_conversation", "conversation_id", "seq"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200))
    seq: Mapped[int]
    rep: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime] = mapped_column(index=True)
    text: Mapped[str] = mapped_column(Text)
    """The customer's words (redacted unless an admin turned redaction off)."""
    relevance: Mapped[float | None]
    """The best clause's relevance score (None: no clause was retrieved at all)."""
    answered: Mapped[bool]
    """Whether any clause passed the pack's relevance floor."""
    topic: Mapped[str] = mapped_column(String(200))


class Approval(Base):
    """An action run with a lead's second approval (the pack's action policy asked for one): leads review
    what needed them."""

    __tablename__ = "approvals"
    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[str] = mapped_column(String(200), index=True)
    seq: Mapped[int]
    rep: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(Text)
    """What ran, as the panel labelled it (redacted unless an admin turned redaction off)."""
    citations: Mapped[list[Any]]
    """The clauses of the rule that asked for the approval."""
    lead: Mapped[str] = mapped_column(String(200))
    """The lead who approved, as their credential named them."""
    at: Mapped[datetime] = mapped_column(index=True)


class Concern(StrEnum):
    """Why an item is in the leads' review queue."""

    OVERRIDE = "override"
    """A draft inserted although verification did not back some of it."""
    REJECTED = "rejected"
    """A suggestion or draft the rep rejected."""
    REWRITTEN = "rewritten"
    """A suggestion or draft sent after heavy editing."""
    NEEDED_LEAD = "needed_lead"
    """An action proposal that needed a lead's approval."""
    CLAUSE_WRONG = "clause_wrong"
    """A clause the rep marked outdated or wrong."""
    ESCALATION_SKIPPED = "escalation_skipped"
    """An escalation the copilot advised and the rep did not follow."""


class Verdict(StrEnum):
    """What a lead did with a queue item."""

    DISMISSED = "dismissed"
    COACHED = "coached"
    CHANGE_REQUESTED = "change_requested"


class Review(Base):
    """A lead's verdict on one queue item; an item with a verdict has left the queue."""

    __tablename__ = "reviews"
    __table_args__ = (UniqueConstraint("source", "source_id", name="uq_reviews_item"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(16))
    """``card``, ``insert`` or ``approval``: the record the item is about."""
    source_id: Mapped[int]
    concern: Mapped[Concern] = mapped_column(_choice(Concern, "review_concern", 24))
    verdict: Mapped[Verdict] = mapped_column(_choice(Verdict, "review_verdict", 24))
    lead: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    conversation_id: Mapped[str] = mapped_column(String(200))
    rep: Mapped[str] = mapped_column(String(200))


class Coaching(Base):
    """A lead's note to a rep, shown in the rep's panel until they have seen it."""

    __tablename__ = "coaching"
    __table_args__ = (Index("ix_coaching_rep_seen", "rep", "seen_at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    rep: Mapped[str] = mapped_column(String(200))
    lead: Mapped[str] = mapped_column(String(200))
    note: Mapped[str] = mapped_column(Text)
    conversation_id: Mapped[str] = mapped_column(String(200))
    """The conversation the note is about ('' when none)."""
    at: Mapped[datetime]
    seen_at: Mapped[datetime | None]


class RequestState(StrEnum):
    """Where a change request stands: admins accept (and change the pack) or decline it."""

    OPEN = "open"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class ChangeRequest(Base):
    """A lead's request to change a pack clause, kept with the evidence that prompted it; listed for admins."""

    __tablename__ = "change_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    clause: Mapped[str] = mapped_column(String(500), index=True)
    """The clause's citation."""
    packs: Mapped[list[Any]]
    """``name@version`` of the packs in force when the evidence was recorded."""
    note: Mapped[str] = mapped_column(Text)
    """What the lead says is wrong and should change."""
    evidence: Mapped[list[Any]]
    """``[{"conversation_id", "seq", "rep", "concern", "shown", "sent", "reason"}]``: what reps saw and did."""
    lead: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    state: Mapped[RequestState] = mapped_column(_choice(RequestState, "request_state"), index=True)
    closed_by: Mapped[str] = mapped_column(String(200), default="")
    closed_at: Mapped[datetime | None]
