"""Clause search: dense similarity plus a lexical boost, weighted toward the newest customer message.

The score is the clause's best-chunk cosine similarity to the query vector, plus up to
``LEXICAL_WEIGHT`` from BM25 (saturating, so no number of shared words outweighs meaning).
A relevance floor on that score keeps weak matches out: showing nothing beats showing noise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

from retrieval.catalog import Catalog, StoredClause
from retrieval.chunks import chunk_text
from retrieval.embed import Embedder
from retrieval.jurisdiction import covers
from retrieval.lexical import BM25, top
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
    """BM25 over the clauses of pack versions in priority order, rebuilt when they or the catalog change."""

    def __init__(self, catalog: Catalog, keys: tuple[str, ...]) -> None:
        self.keys, self.generation = keys, catalog.generation
        self.clauses: list[StoredClause] = catalog.clauses_of(list(keys))
        self.bm25 = BM25([f"{c.title}\n{c.text}" for c in self.clauses])
        self.position = {c.citation: i for i, c in enumerate(self.clauses)}
        rank = {key: i for i, key in enumerate(keys)}
        owner: dict[str, StoredClause] = {}
        for clause in sorted(self.clauses, key=lambda c: rank[f"{c.name}@{c.version}"]):
            owner.setdefault(clause.clause_id, clause)
        self.shadowed = {c.citation for c in self.clauses if owner[c.clause_id] is not c}
        """Citations overridden by a higher-priority pack that defines the same clause id."""


Mode = Literal["hybrid", "dense"]

MEMO_SIZE = 4096
"""Texts whose vectors are remembered (oldest forgotten first)."""

QUERY_CHUNK_WORDS = 100
"""A long focus (a long message, a case description) is embedded in pieces of this size and averaged."""


class Searcher:
    """Embeds a (focus, context) query and searches the given pack versions."""

    def __init__(
        self,
        embedder: Embedder,
        store: VectorStore,
        catalog: Catalog,
        *,
        floor: float = FLOOR,
        k: int = 3,
        mode: Mode = "hybrid",
    ) -> None:
        self.embedder = embedder
        self.store = store
        self.catalog = catalog
        self.floor = floor
        self.k = k
        self.mode = mode
        self._lexical: _LexicalIndex | None = None
        self._memo: dict[str, np.ndarray] = {}
        self._lock = threading.Lock()

    def _index(self, keys: tuple[str, ...]) -> _LexicalIndex:
        with self._lock:
            index = self._lexical
            if index is None or index.keys != keys or index.generation != self.catalog.generation:
                index = self._lexical = _LexicalIndex(self.catalog, keys)
            return index

    def vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Vectors of texts, remembered: each turn of a conversation is embedded once, when it arrives."""
        with self._lock:
            known = {t: self._memo[t] for t in texts if t in self._memo}
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            known.update(zip(missing, self.embedder.encode(missing)))
            with self._lock:
                self._memo.update((t, known[t]) for t in missing)
                while len(self._memo) > MEMO_SIZE:
                    self._memo.pop(next(iter(self._memo)))
        return [known[t] for t in texts]

    def _query_vector(self, focus: str, context: Sequence[str], weight: float) -> np.ndarray:
        """The focus (averaged over its pieces when long) blended with the mean of the context turns."""
        pieces = chunk_text(focus, QUERY_CHUNK_WORDS) or [focus]
        turns = [t for t in context if t and t != focus]
        vectors = self.vectors(pieces + turns)
        query = _unit(np.mean(vectors[: len(pieces)], axis=0))
        if turns:  # newer turns count more: 1, 1/2, 1/3, ...
            recency = np.array([1 / (i + 1) for i in range(len(turns))])[:, None]
            context_vector = _unit((np.array(vectors[len(pieces) :]) * recency).sum(axis=0))
            query = _unit(weight * query + (1 - weight) * context_vector)
        return query

    def search(
        self,
        focus: str,
        context: Sequence[str],
        keys: Sequence[str],
        jurisdiction: str = "",
        *,
        k: int | None = None,
        floor: float | None = None,
    ) -> SearchResult:
        """Search the pack versions named by ``keys`` (``name@version``) for ``focus`` in its ``context``
        (recent turns, newest first).

        Clauses scoped to regions other than ``jurisdiction`` are left out; at most ``k`` (default
        ``self.k``) hits above the floor come back, best first.
        """
        k = k or self.k
        started = time.perf_counter()
        weight = FOCUS_WEIGHT if len(focus.split()) >= SHORT_FOCUS_WORDS else 0.5
        query = self._query_vector(focus, context, weight)
        embedded = time.perf_counter()
        if not keys:
            return SearchResult((), (embedded - started) * 1000, 0.0)

        index = self._index(tuple(keys))
        candidates: dict[str, ClauseHit] = {}
        for h in self.store.query(query, max(DENSE_CANDIDATES, k * 8), keys):
            cite = str(h.metadata["citation"])
            scopes = [s for s in str(h.metadata.get("jurisdictions", "")).split(",") if s]
            # A clause scores by its best chunk (the first one seen); shadowed and out-of-region ones are skipped.
            if cite in index.shadowed or cite in candidates or not covers(scopes, jurisdiction):
                continue
            candidates[cite] = ClauseHit(
                cite,
                str(h.metadata["pack"]),
                str(h.metadata["version"]),
                str(h.metadata["clause_id"]),
                str(h.metadata["title"]),
                h.document,
                h.score,
            )
        if self.mode == "hybrid":
            candidates = self._add_lexical(index, candidates, focus, context, weight, jurisdiction, k)
        ranked = sorted(candidates.values(), key=lambda hit: -hit.score)
        floor = self.floor if floor is None else floor
        hits = tuple(replace(h, score=round(h.score, 4)) for h in ranked[:k] if h.score >= floor)
        done = time.perf_counter()
        return SearchResult(hits, (embedded - started) * 1000, (done - embedded) * 1000)

    def _add_lexical(
        self,
        index: _LexicalIndex,
        dense: dict[str, ClauseHit],
        focus: str,
        context: Sequence[str],
        weight: float,
        jurisdiction: str,
        k: int,
    ) -> dict[str, ClauseHit]:
        """Boost dense candidates by their BM25 score and bring in strong lexical matches the vectors missed."""
        lexical = index.bm25.scores(index.bm25.query_weights([(focus, weight), (" ".join(context), 1 - weight)]))
        # Relative to the best lexical match, damped when even that one is weak: long queries share many
        # words with everything, short ones with little, and neither should swamp the dense score.
        scale = LEXICAL_WEIGHT / (float(lexical.max(initial=0.0)) + LEXICAL_HALF)
        weakest = min((hit.score for hit in dense.values()), default=0.0)
        fused = {
            cite: replace(hit, score=hit.score + scale * float(lexical[index.position[cite]]))
            for cite, hit in dense.items()
        }
        for i in top(lexical, max(LEXICAL_CANDIDATES, 2 * k)):
            clause = index.clauses[i]
            if (
                clause.citation not in fused
                and clause.citation not in index.shadowed
                and covers(clause.jurisdictions, jurisdiction)
            ):
                # Not among the nearest chunks: its cosine is at most the weakest one fetched.
                fused[clause.citation] = ClauseHit(
                    clause.citation,
                    clause.name,
                    clause.version,
                    clause.clause_id,
                    clause.title,
                    clause.text,
                    weakest + scale * float(lexical[i]),
                )
        return fused


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-9)
