"""The journal as the app kept it before records: three tables, written with raw sqlite3.

A data folder from then has these tables and no ``alembic_version``: they are left as they are (so their
rows survive) and the database is stamped; a new database gets them empty, and 0002 converts both alike.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_TABLES = {
    "drafts": (
        sa.Column("conversation_id", sa.Text, primary_key=True),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("saved_at", sa.Text, nullable=False),
    ),
    "inserts": (
        sa.Column("conversation_id", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("unsupported", sa.Text, nullable=False),
        sa.Column("overridden", sa.Integer, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
    ),
    "decisions": (
        sa.Column("conversation_id", sa.Text, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("intent", sa.Text, nullable=False),
        sa.Column("path", sa.Text, nullable=False),
        sa.Column("decision", sa.Text, nullable=False),
        sa.Column("at", sa.Text, nullable=False),
    ),
}


def upgrade() -> None:
    existing = sa.inspect(op.get_bind()).get_table_names()
    for name, columns in _TABLES.items():
        if name not in existing:
            op.create_table(name, *columns)


def downgrade() -> None:
    for name in _TABLES:
        op.drop_table(name)
