"""Embeddings cached by (model, text hash) in SQLite: unchanged clauses are never embedded twice."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from base.sqlite import open_db
from retrieval.embed import Embedder


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class EmbeddingCache:
    """A table of vectors keyed by model id and the SHA-256 of the embedded text."""

    def __init__(self, path: Path) -> None:
        self._db = open_db(
            path,
            "CREATE TABLE IF NOT EXISTS embeddings (model TEXT NOT NULL, hash TEXT NOT NULL, "
            "vector BLOB NOT NULL, PRIMARY KEY (model, hash))",
        )
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

    def get(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for start in range(0, len(hashes), 500):
                part = list(hashes[start : start + 500])
                rows = self._db.execute(
                    f"SELECT hash, vector FROM embeddings WHERE model = ? AND hash IN ({','.join('?' * len(part))})",
                    [model, *part],
                ).fetchall()
                found.update((h, np.frombuffer(v, dtype=np.float32)) for h, v in rows)
        return found

    def put(self, model: str, items: dict[str, np.ndarray]) -> None:
        with self._lock:
            self._db.executemany(
                "INSERT OR REPLACE INTO embeddings VALUES (?, ?, ?)",
                [(model, h, np.asarray(v, dtype=np.float32).tobytes()) for h, v in items.items()],
            )

    def forget(self, model: str, hashes: Sequence[str]) -> None:
        """Drop these texts' vectors, so they are embedded afresh (a vector found wrong is never reused)."""
        with self._lock:
            self._db.executemany("DELETE FROM embeddings WHERE model = ? AND hash = ?", [(model, h) for h in hashes])


class CachedEmbedder:
    """An Embedder that answers from the cache and embeds only texts it has not seen with this model."""

    def __init__(self, embedder: Embedder, cache: EmbeddingCache) -> None:
        self.embedder = embedder
        self.cache = cache
        self.model_id = embedder.model_id
        self.embedded = 0
        """How many texts this wrapper actually sent to the model (the rest came from the cache)."""

    def load(self) -> None:
        self.embedder.load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        hashes = [text_hash(t) for t in texts]
        found = self.cache.get(self.model_id, hashes)
        missing = sorted({h: t for h, t in zip(hashes, texts, strict=True) if h not in found}.items())
        if missing:
            vectors = self.embedder.encode([t for _, t in missing])
            fresh = {h: v for (h, _), v in zip(missing, vectors, strict=True)}
            self.cache.put(self.model_id, fresh)
            found.update(fresh)
            self.embedded += len(missing)
        return np.stack([found[h] for h in hashes]) if hashes else np.zeros((0, 0), dtype=np.float32)
