"""The one way this app opens a SQLite file: WAL, autocommit, shared by worker threads behind the owner's lock."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

_WAL_PATIENCE_S = 30.0


def open_db(path: Path, schema: str) -> sqlite3.Connection:
    """Open (creating folder and tables as needed) a database that several threads use through one lock."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    use_wal(db)
    db.executescript(schema)
    return db


def use_wal(db: sqlite3.Connection) -> None:
    """Put a connection in WAL mode, waiting out another process that is opening or filling the same file.

    SQLite can answer the journal-mode change with "database is locked" at once, without calling the busy
    handler, while another connection holds the file (two desks starting on one fresh store both do this),
    so the waiting is done here, with the same patience as a busy write.
    """
    deadline = time.monotonic() + _WAL_PATIENCE_S
    pause = 0.01
    while True:
        try:
            db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
        time.sleep(pause)
        pause = min(pause * 2, 0.5)
