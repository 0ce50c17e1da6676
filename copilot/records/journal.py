"""What the rep does with the copilot's output, kept in ``journal.sqlite3`` in the data folder.

- the draft being edited, per conversation, saved on every change: it survives a crash or restart;
- every insert of a draft that verification did not fully back, with the spans and the rep's override;
- every suggestion accepted or dismissed, for team leads' review.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from base.sqlite import open_db
from copilot.reasoning.claims import Unsupported

_SCHEMA = """
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


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class Journal:
    """One SQLite file, written synchronously (each write is small) so nothing is lost on a crash."""

    def __init__(self, path: Path) -> None:
        self._db = open_db(path, _SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def save_draft(self, conversation_id: str, seq: int, text: str) -> None:
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO drafts VALUES (?, ?, ?, ?)", (conversation_id, seq, text, _now()))

    def draft(self, conversation_id: str) -> tuple[int, str] | None:
        """The saved (seq, text) of a conversation's draft in progress."""
        with self._lock:
            row = self._db.execute(
                "SELECT seq, text FROM drafts WHERE conversation_id = ?", (conversation_id,)
            ).fetchone()
        return (int(row[0]), str(row[1])) if row else None

    def discard_draft(self, conversation_id: str) -> None:
        with self._lock:
            self._db.execute("DELETE FROM drafts WHERE conversation_id = ?", (conversation_id,))

    def record_insert(self, conversation_id: str, seq: int, text: str, unsupported: Sequence[Unsupported]) -> None:
        """An inserted draft; with unsupported spans it is an override, kept with what was not backed."""
        spans = [{"text": u.text, "reason": u.reason, "start": u.start, "end": u.end} for u in unsupported]
        with self._lock:
            self._db.execute(
                "INSERT INTO inserts VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, seq, text, json.dumps(spans), int(bool(spans)), _now()),
            )
            self._db.execute("DELETE FROM drafts WHERE conversation_id = ?", (conversation_id,))

    def overrides(self) -> list[dict[str, object]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT conversation_id, seq, text, unsupported, at FROM inserts WHERE overridden = 1 ORDER BY rowid"
            ).fetchall()
        return [
            {"conversation_id": r[0], "seq": r[1], "text": r[2], "unsupported": json.loads(r[3]), "at": r[4]}
            for r in rows
        ]

    def record_decision(self, conversation_id: str, seq: int, intent: str, path: str, decision: str) -> None:
        """``accepted`` or ``dismissed`` for one suggested path."""
        with self._lock:
            self._db.execute(
                "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?)",
                (conversation_id, seq, intent, path, decision, _now()),
            )

    def decisions(self, conversation_id: str) -> list[tuple[int, str, str, str]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, intent, path, decision FROM decisions WHERE conversation_id = ? ORDER BY rowid",
                (conversation_id,),
            ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2]), str(r[3])) for r in rows]
