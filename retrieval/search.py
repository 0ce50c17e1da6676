"""Clause search: dense similarity plus a lexical boost, weighted toward the newest customer message.

The score is the clause's best-chunk cosine similarity to the query vector, plus up to
``LEXICAL_WEIGHT`` from BM25 (saturating, so no number of shared words outweighs meaning).
A relevance floor on that score keeps weak matches out: showing nothing beats showing noise.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass
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


class _Index:
    """The clauses of pack versions in priority order, with their BM25 index; rebuilt when the catalog changes."""

    def __init__(self, catalog: Catalog, keys: tuple[str, ...]) -> None:
        self.keys, self.generation = keys, catalog.generation
        self.clauses: list[StoredClause] = catalog.clauses_of(list(keys))
        self.bm25 = BM25([f"{c.title}\n{c.text}" for c in self.clauses])
        self.position = {c.citation: i for i, c in enumerate(self.clauses)}
        rank = {key: i for i, key in enumerate(keys)}
        owner: dict[str, int] = {}
        for i in sorted(range(len(self.clauses)), key=lambda i: rank[self.clauses[i].key]):
            owner.setdefault(self.clauses[i].clause_id, i)
        self.shadowed = {i for i, c in enumerate(self.clauses) if owner[c.clause_id] != i}
        """Clauses overridden by a higher-priority pack that defines the same clause id."""
        self._admitted: dict[str, frozenset[int]] = {}

    def admitted(self, jurisdiction: str) -> frozenset[int]:
        """The clauses that may be shown in ``jurisdiction``: not shadowed, and not scoped to other regions
        (worked out once per region, not once per candidate)."""
        found = self._admitted.get(jurisdiction)
        if found is None:
            found = self._admitted[jurisdiction] = frozenset(
                i
                for i, c in enumerate(self.clauses)
                if i not in self.shadowed and covers(c.jurisdictions, jurisdiction)
            )
        return found


Mode = Literal["hybrid", "dense"]

MEMO_SIZE = 4096
"""Texts whose vectors are remembered (oldest forgotten first)."""

INDEXES = 4
"""Sets of pack versions whose clause index is kept."""

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
        self._indexes: dict[tuple[str, ...], _Index] = {}
        self._memo: dict[str, np.ndarray] = {}
        self._pending: dict[str, tuple[Future[np.ndarray], int]] = {}
        """Texts being embedded right now: the batch's future and the text's row in it."""
        self._lock = threading.Lock()

    def _index(self, keys: tuple[str, ...]) -> _Index:
        """The index of these versions, built once per catalog change (a few sets of keys are kept: the
        pipeline and claim checks may search different ones)."""
        with self._lock:
            index = self._indexes.get(keys)
            if index is None or index.generation != self.catalog.generation:
                index = self._indexes[keys] = _Index(self.catalog, keys)
                while len(self._indexes) > INDEXES:
                    self._indexes.pop(next(iter(self._indexes)))
            return index

    def vectors(self, texts: Sequence[str]) -> list[np.ndarray]:
        """Vectors of texts, remembered: each turn of a conversation is embedded once, when it arrives.

        A text another thread is embedding right now is waited for, not embedded again: the pipeline's
        retrieval and its reasoning stages ask for the newest message's vector at the same time.
        """
        claimed: Future[np.ndarray] = Future()
        with self._lock:
            known = {t: self._memo[t] for t in texts if t in self._memo}
            waiting = {t: self._pending[t] for t in texts if t not in known and t in self._pending}
            mine = [t for t in dict.fromkeys(texts) if t not in known and t not in waiting]
            self._pending.update((t, (claimed, i)) for i, t in enumerate(mine))
        if mine:
            try:
                fresh = self.embedder.encode(mine)
            except BaseException as exc:
                claimed.set_exception(exc)
                raise
            else:
                claimed.set_result(fresh)
                known.update(zip(mine, fresh, strict=True))
            finally:
                with self._lock:
                    for text in mine:
                        self._pending.pop(text, None)
                    self._memo.update((t, known[t]) for t in mine if t in known)
                    while len(self._memo) > MEMO_SIZE:
                        self._memo.pop(next(iter(self._memo)))
        for text, (future, row) in waiting.items():
            known[text] = future.result()[row]
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
        scores: dict[int, float] = {}  # clause position -> score
        admitted = index.admitted(jurisdiction)
        for h in self.store.query(query, max(DENSE_CANDIDATES, k * 8), keys):
            i = index.position.get(h.citation)
            # A clause scores by its best chunk, the first one seen.
            if i is not None and i not in scores and i in admitted:
                scores[i] = h.score
        if self.mode == "hybrid":
            scores = self._add_lexical(index, scores, focus, context, weight, jurisdiction, k)
        floor = self.floor if floor is None else floor
        ranked = sorted(scores.items(), key=lambda item: -item[1])[:k]
        hits = tuple(_hit(index.clauses[i], round(score, 4)) for i, score in ranked if score >= floor)
        done = time.perf_counter()
        return SearchResult(hits, (embedded - started) * 1000, (done - embedded) * 1000)

    def _add_lexical(
        self,
        index: _Index,
        dense: dict[int, float],
        focus: str,
        context: Sequence[str],
        weight: float,
        jurisdiction: str,
        k: int,
    ) -> dict[int, float]:
        """Boost dense candidates by their BM25 score and bring in strong lexical matches the vectors missed."""
        lexical = index.bm25.scores([(focus, weight), (" ".join(context), 1 - weight)])
        # Relative to the best lexical match, damped when even that one is weak: long queries share many
        # words with everything, short ones with little, and neither should swamp the dense score.
        scale = LEXICAL_WEIGHT / (float(lexical.max(initial=0.0)) + LEXICAL_HALF)
        weakest = min(dense.values(), default=0.0)
        fused = {i: score + scale * float(lexical[i]) for i, score in dense.items()}
        admitted = index.admitted(jurisdiction)
        for i in top(lexical, max(LEXICAL_CANDIDATES, 2 * k)):
            if i not in fused and i in admitted:
                # Not among the nearest chunks: its cosine is at most the weakest one fetched.
                fused[i] = weakest + scale * float(lexical[i])
        return fused


def _hit(clause: StoredClause, score: float) -> ClauseHit:
    return ClauseHit(clause.citation, clause.name, clause.version, clause.clause_id, clause.title, clause.text, score)


def _unit(vector: np.ndarray) -> np.ndarray:
    return vector / max(float(np.linalg.norm(vector)), 1e-9)
