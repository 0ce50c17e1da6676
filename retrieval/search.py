"""Clause search: dense similarity plus a lexical boost, weighted toward the newest customer message.

The score is the clause's best-chunk cosine similarity to the query vector, plus up to
``LEXICAL_WEIGHT`` from BM25 (saturating, so no number of shared words outweighs meaning).
A relevance floor on that score keeps weak matches out: showing nothing beats showing noise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from retrieval.catalog import Catalog, StoredClause
from retrieval.embed import Embedder
from retrieval.jurisdiction import covers
from retrieval.lexical import BM25
from retrieval.store import VectorStore

FOCUS_WEIGHT = 0.7
"""Share of the query taken by the focus text (newest customer message); the rest is recent context."""

SHORT_FOCUS_WORDS = 6
"""A focus shorter than this ("ok", "nope, nothing") says little alone: context then weighs as much."""

DENSE_CANDIDATES = 80
"""Nearest chunks fetched from the vector store per query."""

LEXICAL_CANDIDATES = 20
LEXICAL_WEIGHT = 0.25
LEXICAL_HALF = 6.0
"""BM25 score at which the lexical boost reaches half of ``LEXICAL_WEIGHT``."""

FLOOR = 0.4
"""Score below which a clause is not shown."""


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


class _LexicalIndex:
    """BM25 over the clauses of one set of pack versions, rebuilt when the set or the catalog changes."""

    def __init__(self, catalog: Catalog, keys: tuple[str, ...]) -> None:
        self.keys, self.generation = keys, catalog.generation
        self.clauses: list[StoredClause] = catalog.clauses_of(list(keys))
        self.bm25 = BM25([f"{c.title}\n{c.text}" for c in self.clauses])


class Searcher:
    """Embeds a (focus, context) query and searches the active pack versions."""

    def __init__(self, embedder: Embedder, store: VectorStore, catalog: Catalog, *, floor: float = FLOOR,
                 k: int = 3) -> None:
        self.embedder = embedder
        self.store = store
        self.catalog = catalog
        self.floor = floor
        self.k = k
        self._lexical: _LexicalIndex | None = None
        self._lock = threading.Lock()

    def _index(self, keys: tuple[str, ...]) -> _LexicalIndex:
        with self._lock:
            index = self._lexical
            if index is None or index.keys != keys or index.generation != self.catalog.generation:
                index = self._lexical = _LexicalIndex(self.catalog, keys)
            return index

    def search(self, focus: str, context: str, keys: Sequence[str], jurisdiction: str = "") -> SearchResult:
        """Search the pack versions named by ``keys`` (``name@version``) for ``focus`` in its ``context``.

        Clauses scoped to regions other than ``jurisdiction`` are left out.
        """
        started = time.perf_counter()
        weight = FOCUS_WEIGHT if len(focus.split()) >= SHORT_FOCUS_WORDS else 0.5
        texts = [focus, context] if context and context != focus else [focus]
        vectors = self.embedder.encode(texts)
        query = vectors[0] if len(vectors) == 1 else weight * vectors[0] + (1 - weight) * vectors[1]
        query = query / max(float(np.linalg.norm(query)), 1e-9)
        embedded = time.perf_counter()
        if not keys:
            return SearchResult((), (embedded - started) * 1000, 0.0)

        dense: dict[str, tuple[float, dict[str, object], str]] = {}
        for h in self.store.query(query, DENSE_CANDIDATES, keys):
            cite = str(h.metadata["citation"])
            if cite not in dense:  # a clause scores by its best chunk
                dense[cite] = (h.score, h.metadata, h.document)
        index = self._index(tuple(sorted(keys)))
        lexical = index.bm25.scores(index.bm25.query_weights([(focus, weight), (context, 1 - weight)]))
        best_lexical = sorted(lexical.items(), key=lambda item: -item[1])[:LEXICAL_CANDIDATES]
        boost = {index.clauses[i].citation: LEXICAL_WEIGHT * s / (s + LEXICAL_HALF) for i, s in lexical.items()}
        floor_dense = min((d[0] for d in dense.values()), default=0.0)

        candidates: dict[str, ClauseHit] = {}
        for cite, (cosine, meta, document) in dense.items():
            scopes = [s for s in str(meta.get("jurisdictions", "")).split(",") if s]
            if covers(scopes, jurisdiction):
                candidates[cite] = ClauseHit(cite, str(meta["pack"]), str(meta["version"]), str(meta["clause_id"]),
                                             str(meta["title"]), document, cosine + boost.get(cite, 0.0))
        for i, _ in best_lexical:
            clause = index.clauses[i]
            if clause.citation not in candidates and covers(clause.jurisdictions, jurisdiction):
                # Not among the nearest chunks: its cosine is at most the weakest one fetched.
                candidates[clause.citation] = ClauseHit(clause.citation, clause.name, clause.version, clause.clause_id,
                                                        clause.title, clause.text, floor_dense + boost[clause.citation])
        ranked = sorted(candidates.values(), key=lambda hit: -hit.score)
        hits = tuple(ClauseHit(h.citation, h.pack, h.version, h.clause_id, h.title, h.text, round(h.score, 4))
                     for h in ranked[: self.k] if h.score >= self.floor)
        done = time.perf_counter()
        return SearchResult(hits, (embedded - started) * 1000, (done - embedded) * 1000)
