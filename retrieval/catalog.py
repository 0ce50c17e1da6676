"""The catalog of loaded pack versions (SQLite): what exists, what is active, in which priority, and
every clause's text (kept even after a version is removed, so every citation ever shown resolves).

The catalog row is the commit point of an ingest: vectors written before it are invisible to search
until the row exists, so an interrupted load never leaves a half-visible version.

``name@version`` is immutable: ``contents`` keeps the hash of every version ever loaded here, and keeps
it after the version is removed (its tombstone), so a version can come back only with the same text.
One process at a time changes the packs of a data folder (``writing``, a lock file beside the catalog).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from packaging.version import Version

from base.errors import PackError
from base.sqlite import open_db
from retrieval.jurisdiction import covers
from retrieval.lock import WriterLock
from retrieval.packs import Clause, Manifest, Pack

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
CREATE TABLE IF NOT EXISTS activations (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS guidance (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    file TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (name, version, file)
);
CREATE TABLE IF NOT EXISTS priorities (
    name TEXT PRIMARY KEY,
    rank INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS withdrawals (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    kind TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS contents (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    PRIMARY KEY (name, version)
);
"""
# ``activations`` and ``withdrawals`` (kind: deactivated, removed) are append-only: the history of what an
# admin chose in this data folder, which outlives the versions it names. ``contents`` only grows too: a row
# whose version is no longer in ``pack_versions`` is the tombstone of a removed version.


def fingerprint(pack: Pack) -> str:
    """A hash of everything citable in a pack version: same fingerprint, same clauses and guidance."""
    return _content_hash(((c.id, c.title, c.text, c.jurisdictions) for c in pack.clauses), pack.guidance)


def _content_hash(clauses: Iterable[tuple[str, str, str, tuple[str, ...]]], guidance: Iterable[tuple[str, str]]) -> str:
    """Clauses count in id order and guidance in file order, so a version read back from the catalog hashes
    as the pack it was loaded from."""
    digest = hashlib.sha256()
    for clause_id, title, text, regions in sorted(clauses):
        digest.update(json.dumps([clause_id, title, text, list(regions)]).encode())
    for file, text in sorted(guidance):
        digest.update(json.dumps([file, text]).encode())
    return digest.hexdigest()


Known = Literal["new", "loaded", "removed"]
"""What the catalog holds of a version: nothing, the version itself, or the tombstone of a removed one."""


@dataclass(frozen=True)
class PackVersion(Manifest):
    """One loaded version of a pack, as the catalog knows it: its manifest and its state."""

    active: bool
    loaded_at: str
    clause_count: int

    def status(self, today: date | None = None) -> str:
        """``active``, ``scheduled`` (activated, but its effective date is still to come) or ``inactive``."""
        if not self.active:
            return "inactive"
        return "scheduled" if (today or _today()) < self.effective_from else "active"

    def applies_to(self, jurisdiction: str, when: date | None) -> bool:
        """Whether this version governs a conversation in ``jurisdiction`` started on ``when``.

        ``US`` covers ``US-CA``; a version without jurisdictions, or a conversation without one,
        matches every region; a conversation without a start date is judged as of today.
        """
        if not covers(self.jurisdictions, jurisdiction):
            return False
        day = when or _today()
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

    @property
    def key(self) -> str:
        """``name@version`` of the pack version the clause belongs to."""
        return f"{self.name}@{self.version}"


_CLAUSE_COLUMNS = "citation, name, version, clause_id, title, text, jurisdictions"
_VERSION_COLUMNS = (
    "name, version, title, jurisdictions, effective_from, effective_until, active, loaded_at, clause_count"
)


def _today() -> date:
    return datetime.now(UTC).date()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _clause(row: tuple[str, str, str, str, str, str, str]) -> StoredClause:
    return StoredClause(row[0], row[1], row[2], row[3], row[4], row[5], tuple(j for j in row[6].split(",") if j))


def _version(r: tuple[str, str, str, str, str, str | None, int, str, int]) -> PackVersion:
    return PackVersion(
        r[0],
        r[1],
        r[2],
        tuple(json.loads(r[3])),
        date.fromisoformat(r[4]),
        date.fromisoformat(r[5]) if r[5] else None,
        bool(r[6]),
        r[7],
        int(r[8]),
    )


class Catalog:
    """SQLite catalog; safe to call from worker threads (one connection behind a lock)."""

    def __init__(self, path: Path) -> None:
        self._db = open_db(path, _SCHEMA)
        self._lock = threading.Lock()
        """This process's threads share one connection: one statement or transaction at a time."""
        self._writer = WriterLock(path.with_suffix(".lock"))
        self.generation = 0
        """Bumped on every change of clause content or activation, so derived indexes know to rebuild."""
        self._hash_older_versions()

    def close(self) -> None:
        self._db.close()

    def writing(self) -> AbstractContextManager[None]:
        """Hold the data folder's pack writer lock: every change to the catalog or the vector store happens
        inside it, so a check and the write it allows see no other writer in between."""
        return self._writer.held()

    def _hash_older_versions(self) -> None:
        """Record the content hash of versions loaded before hashes were kept (removed ones included: their
        clause texts stayed), so they are immutable too."""
        query = "SELECT DISTINCT name, version FROM clauses EXCEPT SELECT name, version FROM contents"
        with self._lock:
            if not self._db.execute(query).fetchone():
                return
        with self.writing():
            with self._lock:
                unhashed = self._db.execute(query).fetchall()
            hashes = [(name, version, self.stored_fingerprint(f"{name}@{version}")) for name, version in unhashed]
            with self._transaction() as db:
                db.executemany("INSERT OR IGNORE INTO contents VALUES (?, ?, ?)", hashes)

    def stored_fingerprint(self, key: str) -> str:
        """The content hash of version ``name@version`` as the catalog holds its clauses and guidance now."""
        clauses = ((c.clause_id, c.title, c.text, c.jurisdictions) for c in self.clauses_of([key]))
        return _content_hash(clauses, self.guidance_of(key))

    def known(self, pack: Pack, where: str) -> Known:
        """What the catalog holds of ``pack``'s version; one known with other content is refused (a citation
        must always mean one text, also after its version was removed)."""
        with self._lock:
            row = self._db.execute(
                "SELECT c.fingerprint, v.name IS NOT NULL FROM contents c LEFT JOIN pack_versions v "
                "ON v.name = c.name AND v.version = c.version WHERE c.name = ? AND c.version = ?",
                (pack.name, pack.version),
            ).fetchone()
        if row is None:
            return "new"
        if row[0] != fingerprint(pack):
            was = "is already loaded" if row[1] else "was loaded before (and removed since)"
            raise PackError(
                where,
                None,
                f"{pack.key} {was} with different clauses; a version never changes its text",
                "load it as a new version (in pack.toml, or `copilot packs load PATH --version V`), or a different "
                "document under another name (`--name N`); a citation must always mean one text",
            )
        return "loaded" if row[1] else "removed"

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self.generation += 1

    def record(self, pack: Pack) -> None:
        """Add a pack version and its clauses in one transaction; it starts inactive.

        A version removed before comes back only with the same content (``known`` refuses any other).
        """
        with self.writing():
            if self.known(pack, pack.key) == "loaded":
                raise PackError(pack.key, None, "this version is already loaded", "activate it, or load another")
            self._write(pack)

    def _write(self, pack: Pack) -> None:
        with self._transaction() as db:
            db.execute("INSERT OR IGNORE INTO contents VALUES (?, ?, ?)", (pack.name, pack.version, fingerprint(pack)))
            db.execute("DELETE FROM clauses WHERE name = ? AND version = ?", (pack.name, pack.version))
            db.executemany(
                "INSERT INTO clauses VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (pack.citation(c), pack.name, pack.version, c.id, c.title, c.text, ",".join(c.jurisdictions))
                    for c in pack.clauses
                ],
            )
            db.execute("DELETE FROM guidance WHERE name = ? AND version = ?", (pack.name, pack.version))
            db.executemany(
                "INSERT INTO guidance VALUES (?, ?, ?, ?)",
                [(pack.name, pack.version, file, text) for file, text in pack.guidance],
            )
            db.execute(
                f"INSERT INTO pack_versions ({_VERSION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, 0, ?, ?)",
                (
                    pack.name,
                    pack.version,
                    pack.title,
                    json.dumps(list(pack.jurisdictions)),
                    pack.effective_from.isoformat(),
                    pack.effective_until.isoformat() if pack.effective_until else None,
                    _now(),
                    len(pack.clauses),
                ),
            )
            db.execute(
                "INSERT OR IGNORE INTO priorities VALUES (?, (SELECT COALESCE(MAX(rank), 0) + 1 FROM priorities))",
                (pack.name,),
            )

    def fingerprint_of(self, name: str, version: str) -> str | None:
        """The content hash recorded when ``name@version`` was loaded (kept after it is removed)."""
        with self._lock:
            row = self._db.execute(
                "SELECT fingerprint FROM contents WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
        return row[0] if row else None

    def get(self, name: str, version: str) -> PackVersion:
        found = [v for v in self.versions() if v.name == name and v.version == version]
        if not found:
            known = ", ".join(v.version for v in self.versions() if v.name == name) or "none"
            raise PackError(
                f"{name}@{version}",
                None,
                "no such pack version loaded",
                f"load it first with `copilot packs load`; loaded versions of {name}: {known}",
            )
        return found[0]

    def activate(self, name: str, version: str) -> None:
        """Make ``version`` the one active version of pack ``name``; remembered for rollback."""
        with self.writing():
            self.get(name, version)
            with self._transaction() as db:
                db.execute("UPDATE pack_versions SET active = (version = ?) WHERE name = ?", (version, name))
                db.execute("INSERT INTO activations VALUES (?, ?, ?)", (name, version, _now()))

    def deactivate(self, name: str) -> str | None:
        """Leave pack ``name`` with no active version; returns the version that was active (None: none was).

        Its versions stay loaded, so ``activate`` or ``rollback`` brings one back; the deactivation is
        recorded with the activations, for good.
        """
        with self.writing():
            mine = [v for v in self.versions() if v.name == name]
            if not mine:
                loaded = ", ".join(self.pack_names()) or "none"
                raise PackError(name, None, "no such pack loaded", f"name one of the loaded packs: {loaded}")
            active = next((v.version for v in mine if v.active), None)
            if active is not None:
                with self._transaction() as db:
                    db.execute("UPDATE pack_versions SET active = 0 WHERE name = ?", (name,))
                    db.execute("INSERT INTO withdrawals VALUES (?, ?, 'deactivated', ?)", (name, active, _now()))
            return active

    def rollback(self, name: str) -> str:
        """Re-activate the version that was active before the current one (with none active, the last one that
        was); returns it."""
        with self.writing():
            with self._lock:
                history = [
                    str(r[0])
                    for r in self._db.execute(
                        "SELECT version FROM activations WHERE name = ? ORDER BY rowid", (name,)
                    ).fetchall()
                ]
            current = next((v.version for v in self.versions() if v.name == name and v.active), None)
            loaded = {v.version for v in self.versions() if v.name == name}
            previous = next((v for v in reversed(history) if v != current and v in loaded), None)
            if previous is None:
                raise PackError(
                    name,
                    None,
                    "nothing to roll back to",
                    "rollback returns to the version active before the current one (or, with none active, to the "
                    "last one that was); activate a version with `copilot packs activate` instead",
                )
            self.activate(name, previous)
            return previous

    def remove(self, name: str, version: str) -> None:
        """Forget a version (refused while active). Its clause texts and content hash stay, so old citations
        still resolve and the version can come back only with the same text. Call it while ``writing``,
        with the version's vectors dropped in the same hold."""
        with self.writing():
            if self.get(name, version).active:
                raise PackError(
                    f"{name}@{version}",
                    None,
                    "this version is active and cannot be removed",
                    "activate another version (or roll back) first",
                )
            with self._transaction() as db:
                db.execute("DELETE FROM pack_versions WHERE name = ? AND version = ?", (name, version))
                db.execute("INSERT INTO withdrawals VALUES (?, ?, 'removed', ?)", (name, version, _now()))

    def set_priority(self, names: list[str]) -> None:
        """Priority order, highest first: where two active packs define the same clause id, the higher wins."""
        with self.writing():
            loaded = {v.name for v in self.versions()}
            unknown = [n for n in names if n not in loaded]
            if unknown:
                raise PackError(unknown[0], None, "no such pack loaded", f"loaded packs: {', '.join(sorted(loaded))}")
            rest = [n for n in self.pack_names() if n not in names]
            with self._transaction() as db:
                db.executemany(
                    "INSERT OR REPLACE INTO priorities VALUES (?, ?)",
                    [(n, rank) for rank, n in enumerate([*names, *rest], start=1)],
                )

    def pack_names(self) -> list[str]:
        """Loaded pack names, highest priority first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT DISTINCT v.name FROM pack_versions v LEFT JOIN priorities p "
                "ON p.name = v.name ORDER BY COALESCE(p.rank, 1e9), v.name"
            ).fetchall()
        return [r[0] for r in rows]

    def versions(self) -> list[PackVersion]:
        """Every loaded version: packs in priority order, versions in PEP 440 order."""
        with self._lock:
            rows = self._db.execute(f"SELECT {_VERSION_COLUMNS} FROM pack_versions").fetchall()
        order = {name: rank for rank, name in enumerate(self.pack_names())}
        return sorted((_version(r) for r in rows), key=lambda v: (order.get(v.name, 1 << 30), Version(v.version)))

    def active_versions(self) -> list[PackVersion]:
        return [v for v in self.versions() if v.active]

    def clause(self, cite: str) -> StoredClause | None:
        """Resolve any citation ever shown, whichever version is active now (or removed since)."""
        with self._lock:
            row = self._db.execute(f"SELECT {_CLAUSE_COLUMNS} FROM clauses WHERE citation = ?", (cite,)).fetchone()
        return _clause(row) if row else None

    def clauses_of(self, keys: list[str]) -> list[StoredClause]:
        """Every clause of the pack versions named ``name@version``, in a stable order."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_CLAUSE_COLUMNS} FROM clauses WHERE name || '@' || version IN "
                f"({','.join('?' * len(keys))}) ORDER BY citation",
                keys,
            ).fetchall()
        return [_clause(row) for row in rows]

    def pack(self, name: str, version: str) -> Pack:
        """A loaded version rebuilt from the catalog (to embed it again with another model)."""
        meta = self.get(name, version)
        clauses = tuple(
            Clause(c.clause_id, c.title, c.text, "catalog", 0, c.jurisdictions) for c in self.clauses_of([meta.key])
        )
        return Pack.of(meta, clauses, self.guidance_of(meta.key))

    def guidance_of(self, key: str) -> tuple[tuple[str, str], ...]:
        """The (file, text) guidance files stored with the pack version ``name@version``."""
        with self._lock:
            rows = self._db.execute(
                "SELECT file, text FROM guidance WHERE name || '@' || version = ? ORDER BY file", (key,)
            ).fetchall()
        return tuple((str(f), str(t)) for f, t in rows)

    def ever_activated(self) -> set[str]:
        """Every pack name that had a version activated in this data folder, loaded or not today."""
        with self._lock:
            rows = self._db.execute("SELECT DISTINCT name FROM activations").fetchall()
        return {str(r[0]) for r in rows}

    def withdrawn(self, name: str) -> bool:
        """Whether pack ``name`` was ever deactivated or had a version removed in this data folder."""
        with self._lock:
            row = self._db.execute("SELECT 1 FROM withdrawals WHERE name = ? LIMIT 1", (name,)).fetchone()
        return row is not None

    def has(self, name: str, version: str) -> bool:
        """Whether ``name@version`` is loaded now (not removed)."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM pack_versions WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
        return row is not None
