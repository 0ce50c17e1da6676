"""What leads review: wrap-ups, customer questions, lead approvals, the queue's verdicts, coaching, change requests.

Revision 0003, after 0002. New tables only: nothing existing is read or changed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from copilot.records.columns import UtcDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ENDINGS = ("resolved", "escalated", "pending", "follow_up")
CONCERNS = ("override", "rejected", "rewritten", "needed_lead", "clause_wrong", "escalation_skipped")
VERDICTS = ("dismissed", "coached", "change_requested")
REQUEST_STATES = ("open", "accepted", "declined")


def _choice(values: tuple[str, ...], name: str, length: int = 16) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=length)


def _name(column: str) -> sa.Column[str]:
    return sa.Column(column, sa.String(200), nullable=False)


def upgrade() -> None:
    op.create_table(
        "wrapups",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
        _name("rep"),
        sa.Column("at", UtcDateTime(), nullable=False, index=True),
        sa.Column("ending", _choice(ENDINGS, "wrapup_ending"), nullable=False),
        sa.Column("root_causes", sa.JSON, nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
    )
    op.create_table(
        "questions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        _name("rep"),
        sa.Column("at", UtcDateTime(), nullable=False, index=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("relevance", sa.Double, nullable=True),
        sa.Column("answered", sa.Boolean, nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Index("ix_questions_conversation", "conversation_id", "seq"),
    )
    op.create_table(
        "approvals",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("conversation_id", sa.String(200), nullable=False, index=True),
        sa.Column("seq", sa.Integer, nullable=False),
        _name("rep"),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        _name("lead"),
        sa.Column("at", UtcDateTime(), nullable=False, index=True),
    )
    op.create_table(
        "reviews",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("source_id", sa.Integer, nullable=False),
        sa.Column("concern", _choice(CONCERNS, "review_concern", 24), nullable=False),
        sa.Column("verdict", _choice(VERDICTS, "review_verdict", 24), nullable=False),
        _name("lead"),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        _name("rep"),
        sa.UniqueConstraint("source", "source_id", name="uq_reviews_item"),
    )
    op.create_table(
        "coaching",
        sa.Column("id", sa.Integer, primary_key=True),
        _name("rep"),
        _name("lead"),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("seen_at", UtcDateTime(), nullable=True),
        sa.Index("ix_coaching_rep_seen", "rep", "seen_at"),
    )
    op.create_table(
        "change_requests",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("clause", sa.String(500), nullable=False, index=True),
        sa.Column("packs", sa.JSON, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("evidence", sa.JSON, nullable=False),
        _name("lead"),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("state", _choice(REQUEST_STATES, "request_state"), nullable=False, index=True),
        sa.Column("closed_by", sa.String(200), nullable=False),
        sa.Column("closed_at", UtcDateTime(), nullable=True),
    )


def downgrade() -> None:
    raise NotImplementedError("records are only upgraded: restore a backup of the data folder to go back")
