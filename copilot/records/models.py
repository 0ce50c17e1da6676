"""The records' tables as SQLAlchemy models: the journal's drafts, inserts and decisions, and every card shown
with what the rep did with it. Migrations (``migrations/versions``) build the same schema; a test keeps
the two equal."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, CheckConstraint, Enum, ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from copilot.records.columns import UtcDateTime


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


def _choice(enum: type[StrEnum], name: str) -> Enum:
    """A column of ``enum``'s values, checked by the database (VARCHAR + CHECK: the same on both backends)."""
    return Enum(
        enum,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=16,
        values_callable=lambda e: [m.value for m in e],
    )


class Base(DeclarativeBase):
    """The records' metadata."""

    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UtcDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


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
