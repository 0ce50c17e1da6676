"""Alembic migrations of the records database, run by ``copilot.records.database.upgrade`` (no alembic.ini)."""
