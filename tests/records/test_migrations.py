"""The schema comes from the migrations; a data folder of the raw-sqlite3 journal is upgraded in place on start."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from base.errors import RecordsError
from copilot.records.database import DEFAULT_FILE, MIGRATIONS, engine_for, sqlite_url
from copilot.records.folder import open_records
from copilot.records.models import Base, Kind
from copilot.records.store import Records, Shown
from copilot.settings import Settings

NEWEST = ScriptDirectory(str(MIGRATIONS)).get_current_head()
"""The newest revision: an upgraded data folder ends there, whichever revisions are added later."""

LEGACY_SCHEMA = """
CREATE TABLE IF NOT EXISTS drafts (
    conversation_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    saved_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS inserts (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    text TEXT NOT NULL,
    unsupported TEXT NOT NULL,
    overridden INTEGER NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS decisions (
    conversation_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    intent TEXT NOT NULL,
    path TEXT NOT NULL,
    decision TEXT NOT NULL,
    at TEXT NOT NULL
);
"""
"""The journal's schema before records, exactly as copilot/records/journal.py created it (opened by base.sqlite)."""


def legacy_journal(folder: Path, at: datetime) -> Path:
    """A journal.sqlite3 as the raw-sqlite3 journal left it: WAL mode, its rows written as it wrote them."""
    path = folder / DEFAULT_FILE
    folder.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.executescript(LEGACY_SCHEMA)
    stamp = at.isoformat(timespec="seconds")
    spans = [{"text": "$500", "reason": "not backed", "start": 23, "end": 27}]
    db.execute("INSERT OR REPLACE INTO drafts VALUES (?, ?, ?, ?)", ("c2", 7, "Hi Bo, one moment please", stamp))
    db.execute(
        "INSERT INTO inserts VALUES (?, ?, ?, ?, ?, ?)",
        ("c1", 4, "Hi Ana, your refund of $500 arrives tomorrow.", json.dumps(spans), 1, stamp),
    )
    db.execute("INSERT INTO inserts VALUES (?, ?, ?, ?, ?, ?)", ("c1", 5, "Thanks!", "[]", 0, stamp))
    for path_title, decision in (("Refund issued", "accepted"), ("Offer store credit", "dismissed")):
        db.execute(
            "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?)",
            ("c1", 4, "refund_status", path_title, decision, stamp),
        )
    db.close()
    return path


def test_an_older_data_folder_is_upgraded_on_start_and_keeps_its_rows(tmp_path: Path) -> None:
    written = datetime.now(UTC).replace(microsecond=0)
    legacy_journal(tmp_path, written)
    records, purged = open_records(tmp_path, Settings(user_name="ana"))  # what the app does on start
    journal = records.journal
    assert purged.total == 0
    assert journal.draft("c2") == (7, "Hi Bo, one moment please")
    assert journal.decisions("c1") == [
        (4, "refund_status", "Refund issued", "accepted"),
        (4, "refund_status", "Offer store credit", "dismissed"),
    ]
    [override] = journal.overrides()
    assert override == {
        "conversation_id": "c1",
        "seq": 4,
        "text": "Hi Ana, your refund of $500 arrives tomorrow.",
        "unsupported": [{"text": "$500", "reason": "not backed", "start": 23, "end": 27}],
        "at": written,
        "rep": "",
    }
    journal.record_decision("c1", 6, "refund_status", "Refund issued", "accepted")
    card = records.card_shown(Shown("c1", 6, Kind.DRAFT, "reply", "Anything else?"))
    records.close()
    reopened = Records.open(sqlite_url(tmp_path / DEFAULT_FILE))  # a second start changes nothing
    assert len(reopened.journal.decisions("c1")) == 3
    assert [c.id for c in reopened.cards()] == [card]
    with reopened.engine.connect() as connection:
        assert connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == NEWEST
        assert not compare_metadata(MigrationContext.configure(connection), Base.metadata)
    reopened.close()


def test_an_interrupted_upgrade_leaves_the_old_journal_as_it_was(tmp_path: Path) -> None:
    path = legacy_journal(tmp_path, datetime.now(UTC))
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("INSERT INTO decisions VALUES ('c1', 9, 'x', 'y', 'accepted', 'not a time')")
    db.close()
    with pytest.raises(RecordsError, match="cannot be opened or upgraded: ValueError: Invalid isoformat string"):
        Records.open(sqlite_url(path))
    db = sqlite3.connect(path)
    tables = {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert tables == {"drafts", "inserts", "decisions"}
    assert db.execute("SELECT count(*) FROM decisions").fetchone() == (3,)
    db.close()


def test_a_new_database_gets_the_models_schema_from_the_migrations(records_url: str) -> None:
    records = Records.open(records_url)
    records.close()
    Records.open(records_url).close()  # upgrading again is a no-op
    engine = engine_for(records_url)
    try:
        assert set(inspect(engine).get_table_names()) == {*Base.metadata.tables, "alembic_version"}
        with engine.connect() as connection:
            assert not compare_metadata(MigrationContext.configure(connection), Base.metadata)
    finally:
        engine.dispose()


def test_a_database_that_cannot_be_reached_is_named_without_its_password() -> None:
    with pytest.raises(RecordsError) as raised:
        Records.open("postgresql://rep:s3cret@127.0.0.1:1/copilot")
    message = str(raised.value)
    assert "postgresql+psycopg://rep:***@127.0.0.1:1/copilot cannot be opened or upgraded" in message
    assert "s3cret" not in message
    with pytest.raises(RecordsError, match=r"records_url 'journal' in settings\.json is not a database URL"):
        Records.open("journal")
