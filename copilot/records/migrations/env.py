"""Alembic's environment: migrations run on the connection ``copilot.records.database.upgrade`` hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy.engine import Connection

from copilot.records.models import Base

connection = context.config.attributes["connection"]
assert isinstance(connection, Connection)  # only ever run through copilot.records.database.upgrade
# SQLite cannot alter a column or add a constraint in place: batch mode copies the table instead.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
