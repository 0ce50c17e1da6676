"""Typed records: the journal's tables with ids, times, JSON and the rep, and the cards a rep was shown.

The journal's rows are read, its tables rebuilt and the rows written back converted (ISO text to times,
JSON text to JSON, 0/1 to booleans); in one transaction, so an interrupted upgrade leaves the journal as
it was. Rows from before this revision have no rep: they were written before reps were named.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

from copilot.records.columns import UtcDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

KINDS = ("clause", "flag", "escalation", "suggestion", "draft", "action")
OUTCOMES = ("displayed", "expanded", "copied", "inserted", "sent", "edited", "rejected", "ignored")
REASONS = ("wrong", "outdated", "not_relevant", "incomplete", "tone", "other")


def _choice(values: tuple[str, ...], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=16)


def _time(text: str) -> datetime:
    """A journal time (``2025-06-01T10:00:00+00:00``); the journal wrote UTC, so a bare one is UTC too."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _rows(table: str) -> list[dict[str, Any]]:
    return [dict(row) for row in op.get_bind().execute(sa.text(f"SELECT * FROM {table}")).mappings()]


def _rep() -> sa.Column[str]:
    return sa.Column("rep", sa.String(200), nullable=False, server_default="")


def upgrade() -> None:
    drafts, inserts, decisions = _rows("drafts"), _rows("inserts"), _rows("decisions")
    for name in ("drafts", "inserts", "decisions"):
        op.drop_table(name)
    new_drafts = op.create_table(
        "drafts",
        sa.Column("conversation_id", sa.String(200), primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("saved_at", UtcDateTime(), nullable=False),
        _rep(),
    )
    new_inserts = op.create_table(
        "inserts",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("unsupported", sa.JSON, nullable=False),
        sa.Column("overridden", sa.Boolean, nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False, index=True),
        _rep(),
    )
    new_decisions = op.create_table(
        "decisions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("intent", sa.String(200), nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False, index=True),
        _rep(),
    )
    op.bulk_insert(new_drafts, [{**row, "saved_at": _time(row["saved_at"])} for row in drafts])
    op.bulk_insert(
        new_inserts,
        [
            {
                **row,
                "unsupported": json.loads(row["unsupported"]),
                "overridden": bool(row["overridden"]),
                "at": _time(row["at"]),
            }
            for row in inserts
        ],
    )
    op.bulk_insert(new_decisions, [{**row, "at": _time(row["at"])} for row in decisions])
    op.create_table(
        "cards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("kind", _choice(KINDS, "card_kind"), nullable=False, index=True),
        sa.Column("key", sa.String(500), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("packs", sa.JSON, nullable=False),
        sa.Column("latency_ms", sa.Double, nullable=True),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("rep", sa.String(200), nullable=False),
        sa.Column("shown_at", UtcDateTime(), nullable=False, index=True),
        sa.Column("outcome", _choice(OUTCOMES, "card_outcome"), nullable=False, index=True),
        sa.Column("decided_at", UtcDateTime(), nullable=True),
        sa.Column("decision_ms", sa.BigInteger, nullable=True),
        sa.Column("sent_text", sa.Text, nullable=True),
        sa.Column("diff", sa.JSON, nullable=True),
        sa.Column("edit_ratio", sa.Double, nullable=True),
        sa.Column("reason", _choice(REASONS, "card_reason"), nullable=True),
        sa.Column("thumb", sa.Integer, nullable=True),
        sa.CheckConstraint("thumb IN (-1, 1)", name="ck_cards_thumb"),
        sa.Index("ix_cards_rep_shown_at", "rep", "shown_at"),
        sa.Index("ix_cards_conversation", "conversation_id", "seq"),
    )
    op.create_table(
        "card_actions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("card_id", sa.Integer, sa.ForeignKey("cards.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("action", _choice(OUTCOMES, "card_action"), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("records are only upgraded: restore a backup of the data folder to go back")
