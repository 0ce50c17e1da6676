"""One writer at a time for a data folder's packs: a lock file that processes and threads take in turn.

chromadb's persistent store and the catalog's check-then-write of a version are each safe only with a
single writer: two loads at once lost vectors, and two loads of one version indexed one text under the
other's citations. Every change to the catalog or the vector store happens while this lock is held;
readers (search) never take it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

log = logging.getLogger("copilot.retrieval")


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
