"""Clause search: one query vector weighted toward the newest customer message, a relevance floor."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.embed import Embedder
from retrieval.store import VectorStore

FOCUS_WEIGHT = 0.7
"""Share of the query vector taken by the focus text; the rest is the recent context."""

CHUNKS_PER_CLAUSE = 4
"""Nearest chunks fetched per wanted clause, so that long clauses with many chunks cannot crowd others out."""

FLOOR = 0.35
"""Cosine similarity below which a clause is not shown: a weak match is worse than none."""


@dataclass(frozen=True)
class ClauseHit:
    """A clause judged relevant, with everything needed to cite it."""

    citation: str
    """``pack@version#clause-id``."""
    pack: str
    version: str
    clause_id: str
    title: str
    text: str
    score: float


@dataclass(frozen=True)
class SearchResult:
    """Hits above the floor, best first, and where the time went."""

    hits: tuple[ClauseHit, ...]
    embed_ms: float
    search_ms: float


class Searcher:
    """Embeds a (focus, context) query and searches the active pack versions."""

    def __init__(self, embedder: Embedder, store: VectorStore, *, floor: float = FLOOR, k: int = 3) -> None:
        self.embedder = embedder
        self.store = store
        self.floor = floor
        self.k = k

    def search(self, focus: str, context: str, keys: Sequence[str]) -> SearchResult:
        """Search the pack versions named by ``keys`` (``name@version``) for ``focus`` in its ``context``."""
        started = time.perf_counter()
        texts = [focus, context] if context and context != focus else [focus]
        vectors = self.embedder.encode(texts)
        query = vectors[0] if len(vectors) == 1 else FOCUS_WEIGHT * vectors[0] + (1 - FOCUS_WEIGHT) * vectors[1]
        query = query / max(float(np.linalg.norm(query)), 1e-9)
        embedded = time.perf_counter()
        best: dict[str, ClauseHit] = {}
        for h in self.store.query(query, self.k * CHUNKS_PER_CLAUSE, keys):
            cite = str(h.metadata["citation"])
            if h.score >= self.floor and cite not in best:  # a clause scores by its best chunk
                best[cite] = ClauseHit(cite, str(h.metadata["pack"]), str(h.metadata["version"]),
                                       str(h.metadata["clause_id"]), str(h.metadata["title"]), h.document,
                                       round(h.score, 4))
        hits = tuple(list(best.values())[: self.k])
        done = time.perf_counter()
        return SearchResult(hits, (embedded - started) * 1000, (done - embedded) * 1000)
