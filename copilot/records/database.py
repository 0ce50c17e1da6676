"""Where the records live: an engine for any SQLAlchemy URL, brought up to the newest schema when opened."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from base.errors import RecordsError
from base.sqlite import use_wal
from retrieval.lock import SCHEMA_KEY

DEFAULT_FILE = "journal.sqlite3"
"""The records' SQLite file in the data folder: the journal's own file, so an older folder is upgraded in place."""
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT_S = 5
"""How long a records server may take to answer before the app gives up on it (and runs without records)."""


def sqlite_url(path: Path) -> str:
    return URL.create("sqlite+pysqlite", database=str(path)).render_as_string()


def shown(url: str | URL) -> str:
    """The URL as it may appear in a message or log: without its password."""
    return make_url(url).render_as_string(hide_password=True)


def engine_for(url: str) -> Engine:
    """An engine for ``url``; ``postgresql://`` means psycopg 3 (the driver installed), not psycopg2."""
    try:
        parsed = make_url(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        if parsed.get_backend_name() == "sqlite":
            return _sqlite_engine(parsed)
        if parsed.get_backend_name() == "postgresql":
            return create_engine(parsed, pool_pre_ping=True, connect_args={"connect_timeout": CONNECT_TIMEOUT_S})
        return create_engine(parsed)
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise RecordsError(
            f"records_url {url!r} in settings.json is not a database URL SQLAlchemy can use ({exc}); "
            "use e.g. postgresql://rep@db.example/copilot, or leave it empty for the data folder's SQLite file"
        ) from None


_READING = "copilot_records_reading"
"""Execution option marking a read-only session's connection (see ``_sqlite_engine``)."""


def _sqlite_engine(url: URL) -> Engine:
    """SQLite in WAL mode, with transactions that really begin where SQLAlchemy begins them.

    pysqlite's own transaction handling skips DDL, so a migration would not be atomic; its documented
    workaround (driver-level autocommit, BEGIN emitted by SQLAlchemy) makes it one. IMMEDIATE takes the
    write lock at the start, so two writers wait for each other (busy timeout) instead of failing mid-way.
    A read (``Sessions.reading``) begins a deferred transaction instead: in WAL mode it never waits for a
    writer, which matters on the GUI thread (a saved draft read behind the records thread's write froze
    the panel for 20 ms).
    """
    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection: object, _record: object) -> None:
        dbapi_connection.isolation_level = None  # type: ignore[attr-defined]
        use_wal(dbapi_connection)  # type: ignore[arg-type]
        dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[attr-defined]

    @event.listens_for(engine, "begin")
    def _begin(connection: object) -> None:
        reading = connection.get_execution_options().get(_READING)  # type: ignore[attr-defined]
        connection.exec_driver_sql("BEGIN" if reading else "BEGIN IMMEDIATE")  # type: ignore[attr-defined]

    return engine


def upgrade(engine: Engine) -> None:
    """Bring the database to the newest revision (a legacy journal file is adopted as revision 0001)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    try:
        with engine.begin() as connection:
            if connection.dialect.name == "postgresql":
                connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_KEY})
            config.attributes["connection"] = connection
            command.upgrade(config, "head")
    except (SQLAlchemyError, ValueError) as exc:  # ValueError: a row an upgrade cannot convert
        raise RecordsError(
            f"the records database {shown(engine.url)} cannot be opened or upgraded: {exc.__class__.__name__}: "
            f"{str(exc).splitlines()[0]}. Check records_url in settings.json and that the database is reachable; "
            "an upgrade that fails changes nothing"
        ) from None


class Sessions:
    """Short transactions on one engine; a database error becomes a RecordsError naming the database."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._make = sessionmaker(engine, expire_on_commit=False)
        self._make_reading = sessionmaker(engine.execution_options(**{_READING: True}), expire_on_commit=False)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A transaction committed when the block ends (rolled back if it raises)."""
        with self._failing("written"), self._make.begin() as session:
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reads only: on SQLite its transaction does not take the write lock."""
        with self._failing("read"), self._make_reading() as session:
            yield session

    @contextmanager
    def _failing(self, verb: str) -> Iterator[None]:
        try:
            yield
        except SQLAlchemyError as exc:
            raise RecordsError(
                f"the records database {shown(self.engine.url)} could not be {verb}: {exc.__class__.__name__}: "
                f"{str(exc).splitlines()[0]}"
            ) from None
