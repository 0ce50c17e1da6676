"""The catalog of loaded pack versions (SQLite): what exists, what is active, and every clause's text.

The catalog row is the commit point of an ingest: vectors written before it are invisible to search
until the row exists, so an interrupted load never leaves a half-visible version.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from retrieval.jurisdiction import covers
from retrieval.packs import Pack

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pack_versions (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    title TEXT NOT NULL,
    jurisdictions TEXT NOT NULL,
    effective_from TEXT NOT NULL,
    effective_until TEXT,
    active INTEGER NOT NULL DEFAULT 0,
    loaded_at TEXT NOT NULL,
    clause_count INTEGER NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS clauses (
    citation TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    clause_id TEXT NOT NULL,
    title TEXT NOT NULL,
    text TEXT NOT NULL,
    jurisdictions TEXT NOT NULL DEFAULT ''
);
"""


@dataclass(frozen=True)
class PackVersion:
    """One loaded version of a pack, as the catalog knows it."""

    name: str
    version: str
    title: str
    jurisdictions: tuple[str, ...]
    effective_from: date
    effective_until: date | None
    active: bool
    loaded_at: str
    clause_count: int

    @property
    def key(self) -> str:
        """``name@version``: how vectors of this version are tagged in the store."""
        return f"{self.name}@{self.version}"

    def applies_to(self, jurisdiction: str, when: date | None) -> bool:
        """Whether this version governs a conversation in ``jurisdiction`` started on ``when``.

        ``US`` covers ``US-CA``; a version without jurisdictions, or a conversation without one,
        matches every region; a conversation without a start date is judged as of today.
        """
        if not covers(self.jurisdictions, jurisdiction):
            return False
        day = when or datetime.now(timezone.utc).date()
        if day < self.effective_from:
            return False
        return self.effective_until is None or day < self.effective_until


@dataclass(frozen=True)
class StoredClause:
    """A clause as stored, with its citation."""

    citation: str
    name: str
    version: str
    clause_id: str
    title: str
    text: str
    jurisdictions: tuple[str, ...] = ()
    """Regions the clause alone applies to; empty: wherever its pack applies."""


_CLAUSE_COLUMNS = "citation, name, version, clause_id, title, text, jurisdictions"


def _clause(row: tuple[str, ...]) -> StoredClause:
    return StoredClause(*row[:6], tuple(j for j in row[6].split(",") if j))


class Catalog:
    """SQLite catalog; safe to call from worker threads (one connection behind a lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self.generation = 0
        """Bumped on every change of clause content, so derived indexes know to rebuild."""

    def close(self) -> None:
        self._db.close()

    def record(self, pack: Pack) -> None:
        """Add (or replace) a pack version and its clauses in one transaction; it starts inactive."""
        now = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with self._lock:
            self._db.execute("BEGIN")
            try:
                self._db.execute("DELETE FROM clauses WHERE name = ? AND version = ?", (pack.name, pack.version))
                self._db.execute("DELETE FROM pack_versions WHERE name = ? AND version = ?", (pack.name, pack.version))
                self._db.executemany(
                    "INSERT INTO clauses VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(pack.citation(c), pack.name, pack.version, c.id, c.title, c.text, ",".join(c.jurisdictions))
                     for c in pack.clauses])
                self._db.execute(
                    "INSERT INTO pack_versions VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                    (pack.name, pack.version, pack.title, json.dumps(list(pack.jurisdictions)),
                     pack.effective_from.isoformat(),
                     pack.effective_until.isoformat() if pack.effective_until else None, now, len(pack.clauses)))
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.generation += 1

    def activate(self, name: str, version: str) -> None:
        """Make ``version`` the one active version of pack ``name``."""
        with self._lock:
            self._db.execute("BEGIN")
            self._db.execute("UPDATE pack_versions SET active = (version = ?) WHERE name = ?", (version, name))
            self._db.execute("COMMIT")

    def versions(self) -> list[PackVersion]:
        with self._lock:
            rows = self._db.execute(
                "SELECT name, version, title, jurisdictions, effective_from, effective_until, active, loaded_at, "
                "clause_count FROM pack_versions ORDER BY name, loaded_at").fetchall()
        return [PackVersion(r[0], r[1], r[2], tuple(json.loads(r[3])), date.fromisoformat(r[4]),
                            date.fromisoformat(r[5]) if r[5] else None, bool(r[6]), r[7], r[8]) for r in rows]

    def active_versions(self) -> list[PackVersion]:
        return [v for v in self.versions() if v.active]

    def clause(self, cite: str) -> StoredClause | None:
        """Resolve any citation ever shown, whichever version is active now."""
        with self._lock:
            row = self._db.execute(f"SELECT {_CLAUSE_COLUMNS} FROM clauses WHERE citation = ?", (cite,)).fetchone()
        return _clause(row) if row else None

    def clauses_of(self, keys: list[str]) -> list[StoredClause]:
        """Every clause of the pack versions named ``name@version``, in a stable order."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_CLAUSE_COLUMNS} FROM clauses WHERE name || '@' || version IN "
                                    f"({','.join('?' * len(keys))}) ORDER BY citation", keys).fetchall()
        return [_clause(row) for row in rows]

    def has(self, name: str, version: str) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM pack_versions WHERE name = ? AND version = ?",
                                    (name, version)).fetchone() is not None

