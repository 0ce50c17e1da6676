"""Clause vectors in chromadb: one collection per (embedding model, pack version), in a persistent folder of
this desk (embedded) or on a Chroma server a team shares (``chroma run``; chromadb's HttpClient).

A search queries only the collections of the versions in force, so it never pays for a metadata
filter, and removing a version drops its collection whole; a small version is read once and searched
exactly in memory. Vector ids are ``citation::chunk``; the clause itself (text, title, regions) is read
from the catalog, so nothing else is stored with them. We always pass our own vectors: chromadb's
default embedding function would download a model.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import numpy as np

from base.errors import StoreError

if TYPE_CHECKING:
    from chromadb.api import ClientAPI
    from chromadb.api.models.Collection import Collection

log = logging.getLogger("copilot.retrieval")

UPSERT_SLICE = 16
"""Vectors per chromadb call."""

READ_PAGE = 1000
"""Vectors read back per chromadb call (checking a store)."""

EXACT_LIMIT = 5000
"""Versions with at most this many vectors are searched exactly, in memory (a few MB; well under a
millisecond): a chromadb query costs about a millisecond however small its collection."""


@dataclass(frozen=True)
class VectorHit:
    """One stored vector near the query."""

    id: str
    """``citation::chunk``."""
    score: float
    """Cosine similarity in [-1, 1]."""
    citation: str = field(init=False)
    """The clause the vector belongs to (its id without the chunk number)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "citation", self.id.rsplit("::", 1)[0])


def _in_memory(collection: Collection) -> tuple[list[str], np.ndarray] | None:
    """The ids and unit vectors of a collection small enough to search exactly in memory, else None."""
    if collection.count() > EXACT_LIMIT:
        return None
    stored = collection.get(include=["embeddings"])
    matrix = np.asarray(stored["embeddings"], dtype=np.float32).reshape(len(stored["ids"]), -1)
    return stored["ids"], matrix / np.maximum(np.linalg.norm(matrix, axis=1, keepdims=True), 1e-9)


def _digest(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:16]


def preload(path: Path) -> None:
    """Import chromadb and start its system for the store at ``path``, on the calling thread. The app calls
    it before its first paint: both hold the GIL in long native steps (loading the Rust extension,
    starting the Rust system), which from a worker thread froze a window already on screen for 40-80 ms.
    chromadb keeps one system per path, so the store opened later in a worker thread reuses this one."""
    import chromadb
    from chromadb.config import Settings

    with contextlib.suppress(Exception):  # opening for real reports any problem, with its fix
        chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))


def _open_client(where: Path | str) -> ClientAPI:
    """A chromadb client of a persistent folder, or of the Chroma server at an ``http(s)://host:port`` URL."""
    import chromadb
    from chromadb.config import Settings

    settings = Settings(anonymized_telemetry=False)
    if isinstance(where, Path):
        try:
            return chromadb.PersistentClient(path=str(where), settings=settings)
        except Exception as exc:  # chromadb raises many types; all mean the same to the user
            raise StoreError(
                f"cannot open the clause store at {where}: {exc}. "
                "Check the folder is writable, or set COPILOT_HOME to another folder"
            ) from exc
    url = urlsplit(where)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise StoreError(
            f"chroma_url {where!r} in settings.json is not an http(s) URL; use e.g. http://chroma.example.internal:8000"
        )
    try:
        client = chromadb.HttpClient(
            host=url.hostname,
            port=url.port or (443 if url.scheme == "https" else 8000),
            ssl=url.scheme == "https",
            settings=settings,
        )
        client.heartbeat()
    except Exception as exc:  # connection refused, TLS, a proxy's answer: all mean the server is not there
        raise StoreError(
            f"cannot reach the Chroma server at {where}: {exc}. Check chroma_url in settings.json and that "
            "`chroma run` is serving there (docs/deployment.md)"
        ) from exc
    return client


class VectorStore:
    """The collections of one embedding model, one per pack version (``name@version``)."""

    def __init__(self, where: Path | str, model_id: str) -> None:
        """``where``: this desk's chromadb folder, or the URL of a team's Chroma server."""
        from chromadb.errors import NotFoundError

        self._client = _open_client(where)
        self._missing = NotFoundError
        self.model_id = model_id
        self._prefix = f"v-{_digest(model_id)}-"
        self._open: dict[str, Collection] = {}
        self._memory: dict[str, tuple[list[str], np.ndarray] | None] = {}
        """Vectors of the small versions searched in memory, by key; None: a large one, searched by chromadb."""
        self._lock = threading.Lock()

    def _name(self, key: str) -> str:
        return self._prefix + _digest(key)

    def _collection(self, key: str, *, create: bool = False) -> Collection | None:
        """The collection of one version (None if it has none); handles are kept, lookups cost a round trip."""
        found = self._open.get(key)
        if found is None:
            if create:
                found = self._client.get_or_create_collection(
                    self._name(key),
                    metadata={"key": key, "model": self.model_id},
                    embedding_function=None,
                    configuration={"hnsw": {"space": "cosine"}},
                )
            else:
                try:
                    found = self._client.get_collection(self._name(key), embedding_function=None)
                except self._missing:
                    return None
            self._open[key] = found
        return found

    def upsert(self, key: str, ids: Sequence[str], vectors: np.ndarray) -> None:
        """Write vectors of version ``key``; invisible to search until its catalog row exists."""
        with self._lock:
            collection = self._collection(key, create=True)
            self._memory.pop(key, None)
        assert collection is not None
        # chromadb holds the GIL for a whole call: small slices keep the GUI thread's pauses short.
        for start in range(0, len(ids), UPSERT_SLICE):
            with self._lock:
                collection.upsert(
                    ids=list(ids[start : start + UPSERT_SLICE]), embeddings=vectors[start : start + UPSERT_SLICE]
                )

    def query(self, vector: np.ndarray, k: int, keys: Sequence[str]) -> list[VectorHit]:
        """The ``k`` vectors nearest to ``vector`` (a unit vector) among the versions ``keys``, nearest first."""
        if k <= 0:
            return []
        hits: list[VectorHit] = []
        with self._lock:
            for key in keys:
                hits.extend(self._query(key, vector, k))
        hits.sort(key=lambda hit: -hit.score)
        return hits[:k]

    def _query(self, key: str, vector: np.ndarray, k: int) -> list[VectorHit]:
        for attempt in range(2):
            collection = self._collection(key)
            if collection is None:
                log.warning("pack version %s has no vectors for model %s; load it again", key, self.model_id)
                return []
            try:
                if key not in self._memory:
                    self._memory[key] = _in_memory(collection)
                exact = self._memory[key]
                if exact is not None:
                    ids, matrix = exact
                    scores = matrix @ vector
                    best = np.argsort(-scores, kind="stable")[:k]
                    return [VectorHit(ids[i], float(scores[i])) for i in best]
                result = collection.query(query_embeddings=vector.reshape(1, -1), n_results=k, include=["distances"])
            except self._missing:
                # Another process dropped (and maybe re-created) this collection: look it up again, once.
                self._open.pop(key, None)
                self._memory.pop(key, None)
                if attempt:
                    raise
                continue
            distances = (result["distances"] or [[]])[0]
            return [VectorHit(i, 1.0 - float(d)) for i, d in zip(result["ids"][0], distances, strict=True)]
        return []

    def drop(self, key: str) -> None:
        """Drop every vector of one pack version (leftovers of an interrupted load, or a removed version)."""
        with self._lock:
            self._open.pop(key, None)
            self._memory.pop(key, None)
            with contextlib.suppress(self._missing):
                self._client.delete_collection(self._name(key))

    def ids(self, key: str) -> set[str]:
        """Every vector id of version ``key`` (empty when it has no collection)."""
        with self._lock:
            collection = self._collection(key)
            if collection is None:
                return set()
            found: set[str] = set()
            while page := collection.get(include=[], limit=READ_PAGE, offset=len(found))["ids"]:
                found.update(page)
        return found

    def vectors(self, key: str, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of these ids of version ``key`` (ids it lacks are left out)."""
        with self._lock:
            collection = self._collection(key)
            if collection is None or not ids:
                return {}
            stored = collection.get(ids=list(ids), include=["embeddings"])
        matrix = np.asarray(stored["embeddings"], dtype=np.float32).reshape(len(stored["ids"]), -1)
        return dict(zip(stored["ids"], matrix, strict=True))

    def drop_legacy(self) -> None:
        """Drop this model's one collection of every version, from before per-version collections."""
        with self._lock, contextlib.suppress(self._missing):
            self._client.delete_collection("clauses-" + _digest(self.model_id))

    def keys(self) -> set[str]:
        """Versions that have a collection for this model."""
        with self._lock:
            collections = self._client.list_collections()
        return {
            str((c.metadata or {}).get("key"))
            for c in collections
            if c.name.startswith(self._prefix) and (c.metadata or {}).get("key")
        }

    def count(self) -> int:
        """Vectors of this model, over every version."""
        with self._lock:
            return sum(c.count() for c in self._client.list_collections() if c.name.startswith(self._prefix))
