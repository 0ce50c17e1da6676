"""Clause vectors in a chromadb persistent store, one collection per embedding model.

We always pass our own vectors: chromadb's default embedding function would download a model.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from base.errors import StoreError

log = logging.getLogger("copilot.retrieval")

UPSERT_SLICE = 16
"""Vectors per chromadb call."""


@dataclass(frozen=True)
class VectorHit:
    """One stored vector near the query."""

    id: str
    """``citation::chunk``."""
    score: float
    """Cosine similarity in [-1, 1]."""
    metadata: dict[str, Any]
    document: str


class VectorStore:
    """A chromadb collection for one embedding model; vectors are tagged with their pack version key."""

    def __init__(self, path: Path, model_id: str) -> None:
        import chromadb
        from chromadb.config import Settings

        try:
            self._client = chromadb.PersistentClient(path=str(path), settings=Settings(anonymized_telemetry=False))
            name = "clauses-" + hashlib.sha1(model_id.encode()).hexdigest()[:16]
            self._collection = self._client.get_or_create_collection(
                name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )
        except Exception as exc:  # chromadb raises many types; all mean the same to the user
            raise StoreError(
                f"cannot open the clause store at {path}: {exc}. "
                "Check the folder is writable, or set COPILOT_HOME to another folder"
            ) from exc
        self._lock = threading.Lock()

    def upsert(
        self, ids: Sequence[str], vectors: np.ndarray, documents: Sequence[str], metadatas: Sequence[dict[str, Any]]
    ) -> None:
        # chromadb holds the GIL for a whole call: small slices keep the GUI thread's pauses short.
        for start in range(0, len(ids), UPSERT_SLICE):
            end = start + UPSERT_SLICE
            with self._lock:
                self._collection.upsert(
                    ids=list(ids[start:end]),
                    embeddings=vectors[start:end],
                    documents=list(documents[start:end]),
                    metadatas=list(metadatas[start:end]),
                )  # type: ignore[arg-type]

    def query(self, vector: np.ndarray, k: int, keys: Sequence[str]) -> list[VectorHit]:
        """Nearest ``k`` vectors among those tagged with one of ``keys`` (active pack versions)."""
        if not keys or k <= 0:
            return []
        with self._lock:
            result = self._collection.query(
                query_embeddings=vector.reshape(1, -1),
                n_results=k,
                where={"key": {"$in": list(keys)}},
                include=["distances", "metadatas", "documents"],
            )
        ids = result["ids"][0]
        distances = (result["distances"] or [[]])[0]
        metadatas = (result["metadatas"] or [[]])[0]
        documents = (result["documents"] or [[]])[0]
        return [
            VectorHit(i, 1.0 - float(d), dict(m), doc) for i, d, m, doc in zip(ids, distances, metadatas, documents)
        ]

    def delete_key(self, key: str) -> None:
        """Drop every vector of one pack version (leftovers of an interrupted load, or a removed version)."""
        with self._lock:
            self._collection.delete(where={"key": key})

    def count(self) -> int:
        with self._lock:
            return self._collection.count()
