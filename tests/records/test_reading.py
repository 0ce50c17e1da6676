"""A read of the records never waits for a writer: the panel reads a saved draft on the GUI thread."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from copilot.records.database import sqlite_url
from copilot.records.store import Records


def test_a_read_does_not_wait_for_a_write_in_progress(tmp_path: Path) -> None:
    records = Records.open(sqlite_url(tmp_path / "records.sqlite3"))
    records.journal.save_draft("c-1", 3, "Your refund is on its way.")
    writer = sqlite3.connect(tmp_path / "records.sqlite3", isolation_level=None)
    writer.execute("BEGIN IMMEDIATE")  # another desk thread or process, in the middle of a write
    writer.execute("DELETE FROM drafts")
    try:
        started = time.monotonic()
        assert records.journal.draft("c-1") == (3, "Your refund is on its way.")  # the last committed state
        assert time.monotonic() - started < 1.0  # not the busy timeout a write-locking BEGIN waits out
    finally:
        writer.execute("ROLLBACK")
        writer.close()
        records.engine.dispose()
