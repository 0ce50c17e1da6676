"""The catalog of loaded pack versions: what exists, what is active, in which priority, and every clause's text
(kept even after a version is removed, so every citation ever shown resolves). A desk keeps it in SQLite
(``catalog.sqlite3``); a team in its PostgreSQL database, where every desk reads the one an admin changed.

The catalog row is the commit point of an ingest: vectors written before it are invisible to search
until the row exists, so an interrupted load never leaves a half-visible version.

``name@version`` is immutable: ``contents`` keeps the hash of every version ever loaded here, and keeps
it after the version is removed (its tombstone), so a version can come back only with the same text.
One process at a time changes the packs (``writing``: a lock file beside a desk's catalog, an advisory lock of a
team's database). Other desks see an activation at once (the active versions are read from the database) and
rebuild what they derive from the catalog within a polling interval (``generation``).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, Literal

from packaging.version import Version
from sqlalchemy import (
    Connection,
    Engine,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    literal,
    select,
    text,
    update,
)
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from base.errors import PackError, StoreError
from base.sqlite import use_wal
from retrieval.catalog_tables import (
    CATALOG,
    activations,
    catalog_state,
    clauses,
    contents,
    guidance,
    pack_versions,
    priorities,
    withdrawals,
)
from retrieval.jurisdiction import covers
from retrieval.lock import SCHEMA_KEY, AdvisoryLock, Writer, WriterLock
from retrieval.packs import Clause, Manifest, Pack


def fingerprint(pack: Pack) -> str:
    """A hash of everything citable in a pack version: same fingerprint, same clauses and guidance."""
    return _content_hash(((c.id, c.title, c.text, c.jurisdictions) for c in pack.clauses), pack.guidance)


def _content_hash(
    clause_rows: Iterable[tuple[str, str, str, tuple[str, ...]]], guidance_files: Iterable[tuple[str, str]]
) -> str:
    """Clauses count in id order and guidance in file order, so a version read back from the catalog hashes
    as the pack it was loaded from."""
    digest = hashlib.sha256()
    for clause_id, title, body, regions in sorted(clause_rows):
        digest.update(json.dumps([clause_id, title, body, list(regions)]).encode())
    for file, body in sorted(guidance_files):
        digest.update(json.dumps([file, body]).encode())
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


_CLAUSE_COLUMNS = (
    clauses.c.citation,
    clauses.c.name,
    clauses.c.version,
    clauses.c.clause_id,
    clauses.c.title,
    clauses.c.text,
    clauses.c.jurisdictions,
)
_VERSION_COLUMNS = tuple(pack_versions.c)
CONNECT_TIMEOUT_S = 5
"""How long a team database may take to answer before opening the catalog fails, naming it."""
_LAST = 1 << 30
"""The rank of a pack without a priority row: after every ranked one."""


def _today() -> date:
    return datetime.now(UTC).date()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _clause(row: tuple[Any, ...]) -> StoredClause:
    return StoredClause(row[0], row[1], row[2], row[3], row[4], row[5], tuple(j for j in row[6].split(",") if j))


def _version(r: tuple[Any, ...]) -> PackVersion:
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


def sqlite_engine(path: Path) -> Engine:
    """A desk's catalog file: WAL, reads without a transaction (each statement its own snapshot, never waiting for a
    writer), and writes in ``BEGIN IMMEDIATE`` so a check and its write see no other writer in between."""
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(URL.create("sqlite+pysqlite", database=str(path)))

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: Any, _record: object) -> None:
        dbapi_connection.isolation_level = None  # pysqlite begins nothing itself; we say when below
        use_wal(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _begin(connection: Connection) -> None:
        if connection.get_execution_options().get("catalog_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


class Catalog:
    """The catalog of a desk (a SQLite file) or of a team (a PostgreSQL engine); safe to call from worker threads."""

    def __init__(self, where: Path | Engine, *, poll_s: float | None = None) -> None:
        """``where``: the desk's ``catalog.sqlite3`` (its tables are made here), or a team database the records'
        migrations already brought up to date. ``poll_s``: how often ``generation`` looks for other desks' changes
        (None: only this process changes the catalog that matters to it, as on one desk)."""
        if isinstance(where, Path):
            self._engine = sqlite_engine(where)
            self._writer: Writer = WriterLock(where.with_suffix(".lock"))
            self._create_tables()
        else:
            self._engine = where
            self._writer = AdvisoryLock(where)
        self._poll_s = poll_s
        self._checked = time.monotonic()
        self._generation = self._stored_generation()
        self._hash_older_versions()

    @classmethod
    def team(cls, url: str, *, poll_s: float) -> Catalog:
        """The catalog in a team's PostgreSQL database at ``url``, its tables made if it has none yet (the records'
        revision 0004 makes the same ones; whichever comes first, under the same lock)."""
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(f"database_url {url!r} in settings.json is not a database URL ({exc})") from None
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3, the driver installed
        engine = create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
        try:
            with engine.begin() as db:
                db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_KEY})
                CATALOG.create_all(db)
        except SQLAlchemyError as exc:
            raise StoreError(
                f"the team database {parsed.render_as_string(hide_password=True)} cannot be opened "
                f"({exc.__class__.__name__}: {str(exc).splitlines()[0]}); check database_url in settings.json and "
                "that the server is reachable (docs/deployment.md)"
            ) from None
        return cls(engine, poll_s=poll_s)

    @property
    def generation(self) -> int:
        """Changes with every change of clause content, activation or priority, so derived indexes know to rebuild;
        another desk's change shows within ``poll_s``."""
        if self._poll_s is not None and time.monotonic() - self._checked >= self._poll_s:
            self._checked = time.monotonic()
            self._generation = self._stored_generation()
        return self._generation

    def close(self) -> None:
        self._engine.dispose()

    def writing(self) -> AbstractContextManager[None]:
        """Hold the packs' writer lock: every change to the catalog or the vector store happens inside it, so a
        check and the write it allows see no other writer in between."""
        return self._writer.held()

    def _create_tables(self) -> None:
        """A desk's tables, as the first catalog made them; ``activations.seq`` added to a file from before it."""
        with self._write() as db:
            CATALOG.create_all(db)
            if "seq" not in {c["name"] for c in inspect(db).get_columns("activations")}:
                db.exec_driver_sql("ALTER TABLE activations ADD COLUMN seq INTEGER")
                db.exec_driver_sql("UPDATE activations SET seq = rowid")

    def _stored_generation(self) -> int:
        with self._engine.connect() as db:
            return int(db.scalar(select(catalog_state.c.generation).where(catalog_state.c.id == 1)) or 0)

    def _rows(self, statement: Any) -> list[tuple[Any, ...]]:
        with self._engine.connect() as db:
            return [tuple(row) for row in db.execute(statement)]

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction; the generation moves with it."""
        with self._engine.connect().execution_options(catalog_write=True) as db, db.begin():
            yield db
            bumped = db.execute(update(catalog_state).values(generation=catalog_state.c.generation + 1))
            if not bumped.rowcount:
                db.execute(insert(catalog_state).values(id=1, generation=1))
            generation = db.scalar(select(catalog_state.c.generation))
        self._generation = int(generation or 0)

    def _hash_older_versions(self) -> None:
        """Record the content hash of versions loaded before hashes were kept (removed ones included: their
        clause texts stayed), so they are immutable too."""
        query = select(clauses.c.name, clauses.c.version).except_(select(contents.c.name, contents.c.version))
        if not self._rows(query):
            return
        with self.writing():
            hashes = [
                {"name": name, "version": version, "fingerprint": self.stored_fingerprint(f"{name}@{version}")}
                for name, version in self._rows(query)
            ]
            if hashes:
                with self._write() as db:
                    db.execute(insert(contents), hashes)

    def stored_fingerprint(self, key: str) -> str:
        """The content hash of version ``name@version`` as the catalog holds its clauses and guidance now."""
        stored = ((c.clause_id, c.title, c.text, c.jurisdictions) for c in self.clauses_of([key]))
        return _content_hash(stored, self.guidance_of(key))

    def known(self, pack: Pack, where: str) -> Known:
        """What the catalog holds of ``pack``'s version; one known with other content is refused (a citation
        must always mean one text, also after its version was removed)."""
        found = self._rows(
            select(contents.c.fingerprint, pack_versions.c.name.is_not(None))
            .select_from(
                contents.outerjoin(
                    pack_versions,
                    and_(pack_versions.c.name == contents.c.name, pack_versions.c.version == contents.c.version),
                )
            )
            .where(contents.c.name == pack.name, contents.c.version == pack.version)
        )
        if not found:
            return "new"
        row = found[0]
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

    def record(self, pack: Pack) -> None:
        """Add a pack version and its clauses in one transaction; it starts inactive.

        A version removed before comes back only with the same content (``known`` refuses any other).
        """
        with self.writing():
            known = self.known(pack, pack.key)
            if known == "loaded":
                raise PackError(pack.key, None, "this version is already loaded", "activate it, or load another")
            self._insert(pack, hashed=known == "removed")

    def _insert(self, pack: Pack, *, hashed: bool) -> None:
        of_version = {"name": pack.name, "version": pack.version}
        with self._write() as db:
            if not hashed:
                db.execute(insert(contents).values(**of_version, fingerprint=fingerprint(pack)))
            db.execute(delete(clauses).where(clauses.c.name == pack.name, clauses.c.version == pack.version))
            if pack.clauses:
                db.execute(
                    insert(clauses),
                    [
                        {
                            **of_version,
                            "citation": pack.citation(c),
                            "clause_id": c.id,
                            "title": c.title,
                            "text": c.text,
                            "jurisdictions": ",".join(c.jurisdictions),
                        }
                        for c in pack.clauses
                    ],
                )
            db.execute(delete(guidance).where(guidance.c.name == pack.name, guidance.c.version == pack.version))
            if pack.guidance:
                db.execute(insert(guidance), [{**of_version, "file": f, "text": t} for f, t in pack.guidance])
            db.execute(
                insert(pack_versions).values(
                    **of_version,
                    title=pack.title,
                    jurisdictions=json.dumps(list(pack.jurisdictions)),
                    effective_from=pack.effective_from.isoformat(),
                    effective_until=pack.effective_until.isoformat() if pack.effective_until else None,
                    active=False,
                    loaded_at=_now(),
                    clause_count=len(pack.clauses),
                )
            )
            if db.scalar(select(priorities.c.rank).where(priorities.c.name == pack.name)) is None:
                lowest = db.scalar(select(func.coalesce(func.max(priorities.c.rank), 0)))
                db.execute(insert(priorities).values(name=pack.name, rank=int(lowest or 0) + 1))

    def fingerprint_of(self, name: str, version: str) -> str | None:
        """The content hash recorded when ``name@version`` was loaded (kept after it is removed)."""
        rows = self._rows(select(contents.c.fingerprint).where(contents.c.name == name, contents.c.version == version))
        return str(rows[0][0]) if rows else None

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
            with self._write() as db:
                db.execute(
                    update(pack_versions)
                    .where(pack_versions.c.name == name)
                    .values(active=pack_versions.c.version == literal(version))
                )
                last = db.scalar(select(func.coalesce(func.max(activations.c.seq), 0)))
                db.execute(insert(activations).values(name=name, version=version, at=_now(), seq=int(last or 0) + 1))

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
                with self._write() as db:
                    db.execute(update(pack_versions).where(pack_versions.c.name == name).values(active=False))
                    self._withdraw(db, name, active, "deactivated")
            return active

    @staticmethod
    def _withdraw(db: Connection, name: str, version: str, kind: str) -> None:
        db.execute(insert(withdrawals).values(name=name, version=version, kind=kind, at=_now()))

    def rollback(self, name: str) -> str:
        """Re-activate the version that was active before the current one (with none active, the last one that
        was); returns it."""
        with self.writing():
            history = [
                str(r[0])
                for r in self._rows(
                    select(activations.c.version).where(activations.c.name == name).order_by(activations.c.seq)
                )
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
            with self._write() as db:
                db.execute(
                    delete(pack_versions).where(pack_versions.c.name == name, pack_versions.c.version == version)
                )
                self._withdraw(db, name, version, "removed")

    def set_priority(self, names: list[str]) -> None:
        """Priority order, highest first: where two active packs define the same clause id, the higher wins."""
        with self.writing():
            loaded = {v.name for v in self.versions()}
            unknown = [n for n in names if n not in loaded]
            if unknown:
                raise PackError(unknown[0], None, "no such pack loaded", f"loaded packs: {', '.join(sorted(loaded))}")
            order = [*names, *(n for n in self.pack_names() if n not in names)]
            with self._write() as db:
                db.execute(delete(priorities).where(priorities.c.name.in_(order)))
                db.execute(insert(priorities), [{"name": n, "rank": rank} for rank, n in enumerate(order, start=1)])

    def pack_names(self) -> list[str]:
        """Loaded pack names, highest priority first."""
        rank = func.coalesce(priorities.c.rank, _LAST)
        rows = self._rows(
            select(pack_versions.c.name, func.min(rank))
            .select_from(pack_versions.outerjoin(priorities, priorities.c.name == pack_versions.c.name))
            .group_by(pack_versions.c.name)
            .order_by(func.min(rank), pack_versions.c.name)
        )
        return [str(r[0]) for r in rows]

    def versions(self) -> list[PackVersion]:
        """Every loaded version: packs in priority order, versions in PEP 440 order."""
        rows = self._rows(select(*_VERSION_COLUMNS))
        order = {name: rank for rank, name in enumerate(self.pack_names())}
        return sorted((_version(r) for r in rows), key=lambda v: (order.get(v.name, _LAST), Version(v.version)))

    def active_versions(self) -> list[PackVersion]:
        return [v for v in self.versions() if v.active]

    def clause(self, cite: str) -> StoredClause | None:
        """Resolve any citation ever shown, whichever version is active now (or removed since)."""
        rows = self._rows(select(*_CLAUSE_COLUMNS).where(clauses.c.citation == cite))
        return _clause(rows[0]) if rows else None

    def clauses_of(self, keys: Sequence[str]) -> list[StoredClause]:
        """Every clause of the pack versions named ``name@version``, in a stable order."""
        rows = self._rows(
            select(*_CLAUSE_COLUMNS)
            .where((clauses.c.name + "@" + clauses.c.version).in_(list(keys)))
            .order_by(clauses.c.citation)
        )
        return [_clause(row) for row in rows]

    def pack(self, name: str, version: str) -> Pack:
        """A loaded version rebuilt from the catalog (to embed it again with another model)."""
        meta = self.get(name, version)
        stored = tuple(
            Clause(c.clause_id, c.title, c.text, "catalog", 0, c.jurisdictions) for c in self.clauses_of([meta.key])
        )
        return Pack.of(meta, stored, self.guidance_of(meta.key))

    def guidance_of(self, key: str) -> tuple[tuple[str, str], ...]:
        """The (file, text) guidance files stored with the pack version ``name@version``."""
        rows = self._rows(
            select(guidance.c.file, guidance.c.text)
            .where(guidance.c.name + "@" + guidance.c.version == key)
            .order_by(guidance.c.file)
        )
        return tuple((str(f), str(t)) for f, t in rows)

    def ever_activated(self) -> set[str]:
        """Every pack name that had a version activated here, loaded or not today."""
        return {str(r[0]) for r in self._rows(select(activations.c.name).distinct())}

    def withdrawn(self, name: str) -> bool:
        """Whether pack ``name`` was ever deactivated or had a version removed here."""
        return bool(self._rows(select(literal(1)).where(withdrawals.c.name == name).limit(1)))

    def has(self, name: str, version: str) -> bool:
        """Whether ``name@version`` is loaded now (not removed)."""
        return bool(
            self._rows(
                select(literal(1)).where(pack_versions.c.name == name, pack_versions.c.version == version).limit(1)
            )
        )
