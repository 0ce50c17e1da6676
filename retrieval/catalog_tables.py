"""The catalog's tables, the same on SQLite (``catalog.sqlite3`` of one desk) and PostgreSQL (a team's database).

On SQLite the catalog creates them itself, as it always did; on PostgreSQL the records' Alembic migrations
create them (revision 0004), next to the records, actions and audit log of the team. Texts are TEXT and the
columns keep the names of the first SQLite catalog, so a data folder from before opens as it is.

``activations`` and ``withdrawals`` (kind: deactivated, removed) are append-only: the history of what an admin
chose, which outlives the versions it names; ``activations.seq`` orders it. ``contents`` only grows too: a row
whose version is no longer in ``pack_versions`` is the tombstone of a removed version. ``catalog_state`` holds
one row whose ``generation`` every change bumps, so other desks notice a change with one small read.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Integer, MetaData, Table, Text, false

CATALOG = MetaData()

pack_versions = Table(
    "pack_versions",
    CATALOG,
    Column("name", Text, primary_key=True),
    Column("version", Text, primary_key=True),
    Column("title", Text, nullable=False),
    Column("jurisdictions", Text, nullable=False),
    Column("effective_from", Text, nullable=False),
    Column("effective_until", Text),
    Column("active", Boolean, nullable=False, server_default=false()),
    Column("loaded_at", Text, nullable=False),
    Column("clause_count", Integer, nullable=False),
)
clauses = Table(
    "clauses",
    CATALOG,
    Column("citation", Text, primary_key=True),
    Column("name", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("clause_id", Text, nullable=False),
    Column("title", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("jurisdictions", Text, nullable=False, server_default=""),
)
activations = Table(
    "activations",
    CATALOG,
    Column("name", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("at", Text, nullable=False),
    Column("seq", BigInteger),
    # No primary key: the first catalog had none, and SQLite cannot add one to a table in place. ``seq`` is
    # written under the writer lock (max + 1), and filled from SQLite's rowid for rows from before it.
)
guidance = Table(
    "guidance",
    CATALOG,
    Column("name", Text, primary_key=True),
    Column("version", Text, primary_key=True),
    Column("file", Text, primary_key=True),
    Column("text", Text, nullable=False),
)
priorities = Table(
    "priorities",
    CATALOG,
    Column("name", Text, primary_key=True),
    Column("rank", Integer, nullable=False),
)
withdrawals = Table(
    "withdrawals",
    CATALOG,
    Column("name", Text, nullable=False),
    Column("version", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("at", Text, nullable=False),
)
contents = Table(
    "contents",
    CATALOG,
    Column("name", Text, primary_key=True),
    Column("version", Text, primary_key=True),
    Column("fingerprint", Text, nullable=False),
)
catalog_state = Table(
    "catalog_state",
    CATALOG,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("generation", BigInteger, nullable=False),
)
