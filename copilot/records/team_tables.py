"""The tables a team shares in its PostgreSQL database besides the records: the pack catalog, the audit log with
its signed head, and the idempotency claims of actions. Revision 0004 creates them; ``register`` adds them to the
records' metadata, so the test that compares migrations and models covers them too.

On one desk these live in the data folder's own files (``catalog.sqlite3``, ``audit.sqlite3`` with
``audit.head.json``, ``actions.sqlite3``); the tables exist in its ``journal.sqlite3`` as well, empty.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, MetaData, Table, Text

from retrieval.catalog_tables import CATALOG

_TEAM = MetaData()

audit_records = Table(
    "audit_records",
    _TEAM,
    Column("log", Text, primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    # The columns of a desk's audit.sqlite3 ``records``, in its order, so one verification reads both.
    Column("at", Text, nullable=False),
    Column("actor", Text, nullable=False),
    Column("conversation_id", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("action_id", Text, nullable=False, index=True),
    Column("tool", Text, nullable=False),
    Column("arguments", Text, nullable=False),
    Column("result", Text, nullable=False),
    Column("citations", Text, nullable=False),
    Column("prev_hash", Text, nullable=False),
    Column("hash", Text, nullable=False),
    Column("key_id", Text),
    Column("signature", Text),
)
"""Every record of a team's audit logs (a database may hold several logs, by id)."""

audit_heads = Table(
    "audit_heads",
    _TEAM,
    Column("log", Text, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("root", Text, nullable=False),
    Column("unkeyed", BigInteger, nullable=False),
    Column("at", Text, nullable=False),
    Column("key_id", Text, nullable=False),
    Column("signature", Text, nullable=False),
)
"""Each log's signed head: the second place, and the row an append locks (``FOR UPDATE``) so appends queue."""

action_claims = Table(
    "action_claims",
    _TEAM,
    Column("key", Text, primary_key=True),
    Column("desk", Text, nullable=False),
    Column("tool", Text, nullable=False),
    Column("claimed_at", Text, nullable=False),
    Column("outcome", Text),
)
"""Who runs an action: the first desk to insert its idempotency key (the primary key refuses a second)."""


def register(metadata: MetaData) -> None:
    """Add the catalog's and the team's tables to ``metadata`` (the records')."""
    for table in (*CATALOG.tables.values(), *_TEAM.tables.values()):
        table.to_metadata(metadata)
