"""Opening a SQLite file another process is holding waits for it instead of failing at the journal-mode switch."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from base.sqlite import use_wal


def test_switching_to_wal_waits_while_another_connection_holds_the_file(tmp_path: Path) -> None:
    path = tmp_path / "store.sqlite3"
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")  # what a desk seeding a fresh store holds
    opener = sqlite3.connect(path, isolation_level=None, timeout=0)
    with pytest.raises(sqlite3.OperationalError, match="locked"):
        opener.execute("PRAGMA journal_mode=WAL")  # SQLite's own answer, without waiting
    release = threading.Timer(0.3, holder.execute, ("COMMIT",))
    release.start()
    started = time.monotonic()
    use_wal(opener)
    assert time.monotonic() - started >= 0.2
    assert opener.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    release.join()
    holder.close()
    opener.close()
