"""One writer at a time for the packs: a lock file of a desk's data folder, or a PostgreSQL advisory lock of a
team's database, that processes and threads take in turn.

chromadb's store and the catalog's check-then-write of a version are each safe only with a single writer: two
loads at once lost vectors, and two loads of one version indexed one text under the other's citations. Every
change to the catalog or the vector store happens while this lock is held; readers (search) never take it.
In team mode the desks share no folder, so the lock is the database's: a session-level advisory lock, held on
a connection of its own for the whole change (a load embeds for minutes, longer than any one transaction).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from filelock import FileLock, Timeout
from sqlalchemy import Connection, Engine, text

log = logging.getLogger("copilot.retrieval")

PACK_WRITER_KEY = 0x7061636B73
"""The advisory lock key of the packs' writer in a team database (``packs`` in ASCII)."""
SCHEMA_KEY = 0x636F70696C6F74
"""The advisory lock key held while a team database's tables are created or upgraded (``copilot`` in ASCII), by
the records' migrations and by a catalog opening a database before them, so desks starting together do it once."""


class Writer(Protocol):
    """What the catalog needs of its writer lock."""

    def held(self) -> AbstractContextManager[None]:
        """Hold the lock for a block."""
        ...


class WriterLock:
    """The lock file of one catalog; held again by the thread that holds it (a load that activates)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = FileLock(path)
        """Thread-local (filelock's default): two threads of one process wait for each other like two processes."""

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block, waiting (and saying so once) while another writer has it."""
        try:
            self._lock.acquire(timeout=0)
        except Timeout:
            log.warning("waiting for another process to finish changing the packs (%s)", self.path)
            self._lock.acquire()
        try:
            yield
        finally:
            self._lock.release()


class AdvisoryLock:
    """A PostgreSQL session advisory lock; held again by the thread that holds it, like the lock file."""

    def __init__(self, engine: Engine, key: int = PACK_WRITER_KEY) -> None:
        self._engine = engine
        self._key = key
        self._mine = threading.local()
        """This thread's connection holding the lock, and how deep its holds are nested."""
        self._threads = threading.Lock()
        """Threads of one process queue here first: each would otherwise hold its own connection's lock."""

    @contextmanager
    def held(self) -> Iterator[None]:
        """Hold the lock for the block, waiting (and saying so once) while another desk or thread has it."""
        if getattr(self._mine, "depth", 0):
            self._mine.depth += 1
            try:
                yield
            finally:
                self._mine.depth -= 1
            return
        with self._threads, self._engine.connect() as connection:
            self._take(connection)
            self._mine.depth = 1
            try:
                yield
            finally:
                self._mine.depth = 0
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self._key})
                connection.commit()

    def _take(self, connection: Connection) -> None:
        if not connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self._key}).scalar():
            log.warning("waiting for another desk to finish changing the packs (%s)", self._engine.url.database)
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self._key})
        connection.commit()  # the lock belongs to the session, not to this transaction
