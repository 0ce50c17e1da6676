"""`copilot eval retrieval`: recall@k, success@5, MRR and latency of BM25, dense and hybrid on labelled data.

Dense and hybrid go through the app's own Searcher over the passages ingested like a pack, so the
numbers describe what the panel does; BM25 is the reference Okapi of ../shared/benchdata/README.md.
"""

from __future__ import annotations

import hashlib
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from functools import partial
from pathlib import Path

from base.errors import LineError
from base.jsonl import JsonLine, read_jsonl
from retrieval.cache import CachedEmbedder, EmbeddingCache
from retrieval.catalog import Catalog
from retrieval.embed import Embedder
from retrieval.ingest import Progress, ingest, restore
from retrieval.lexical import BM25, plain_tokens, top
from retrieval.packs import Clause, Pack
from retrieval.search import Mode, Searcher
from retrieval.store import VectorStore

DEPTH = 100
"""Ranking depth for MRR; recall@k uses the top k of the same ranking."""

_TURN = re.compile(r"^(customer|rep)\s*:\s*(.*)$", re.IGNORECASE)


@dataclass(frozen=True)
class LabelledQuery:
    """A query and the ids of the passages that answer it."""

    id: str
    text: str
    relevant: frozenset[str]


def _rows(path: Path, fields: tuple[str, ...]) -> list[JsonLine]:
    """The objects of a JSONL file, each holding ``fields``; an error names file:line and the problem."""
    rows = list(read_jsonl(path))
    for row in rows:
        missing = next((f for f in fields if f not in row.value), None)
        if missing is not None:
            raise row.error("is missing", missing)
    if not rows:
        raise LineError(str(path), 0, "file", "holds no rows")
    return rows


def read_passages(path: Path) -> list[Clause]:
    """Passages as clauses (id, title, text), in file order."""
    return [
        Clause(str(r.value["id"]), str(r.value.get("title", "")), str(r.value["text"]), r.origin, r.number)
        for r in _rows(path, ("id", "text"))
    ]


def read_queries(path: Path) -> list[LabelledQuery]:
    """Queries with the ids of their relevant passages."""
    queries = []
    for row in _rows(path, ("id", "text", "relevant")):
        relevant = row.value["relevant"]
        if not isinstance(relevant, list) or not relevant:
            raise row.error("must be a non-empty list of passage ids", "relevant")
        queries.append(LabelledQuery(str(row.value["id"]), str(row.value["text"]), frozenset(map(str, relevant))))
    return queries


def query_parts(text: str) -> tuple[str, tuple[str, ...]]:
    """(focus, context) of a query: a dialogue ("customer: ..." lines) focuses on its last customer turn."""
    turns = [m.groups() for m in map(_TURN.match, text.splitlines()) if m]
    if not turns:
        return text, ()
    customer = [t for role, t in turns if role.lower() == "customer"]
    focus = customer[-1] if customer else turns[-1][1]
    return focus, tuple(t for _, t in reversed(turns[-6:]))


def _metrics(
    rankings: list[list[str]], queries: list[LabelledQuery], ks: list[int], latencies: list[float]
) -> dict[str, float]:
    result: dict[str, float] = {}
    for k in ks:
        result[f"recall@{k}"] = statistics.mean(
            len(q.relevant & set(r[:k])) / len(q.relevant) for r, q in zip(rankings, queries, strict=True)
        )
    result["success@5"] = statistics.mean(
        float(bool(q.relevant & set(r[:5]))) for r, q in zip(rankings, queries, strict=True)
    )
    result["mrr"] = statistics.mean(
        next((1 / (i + 1) for i, doc in enumerate(r) if doc in q.relevant), 0.0)
        for r, q in zip(rankings, queries, strict=True)
    )
    result["p50_ms"] = statistics.median(latencies)
    result["p95_ms"] = statistics.quantiles(latencies, n=20)[-1] if len(latencies) > 1 else latencies[0]
    return {name: round(value, 4) for name, value in result.items()}


def _timed(
    run: Callable[[LabelledQuery], list[str]], queries: list[LabelledQuery]
) -> tuple[list[list[str]], list[float]]:
    rankings, latencies = [], []
    for query in queries:
        started = time.perf_counter()
        rankings.append(run(query))
        latencies.append((time.perf_counter() - started) * 1000)
    return rankings, latencies


def _ranked(searcher: Searcher, keys: list[str], depth: int, query: LabelledQuery) -> list[str]:
    focus, context = query_parts(query.text)
    return [hit.clause_id for hit in searcher.search(focus, context, keys, k=depth).hits]


def evaluate_retrieval(
    passages_path: Path,
    queries_path: Path,
    home: Path,
    embedder: Embedder,
    ks: list[int],
    progress: Progress | None = None,
) -> dict[str, dict[str, float]]:
    """Metrics per mode; passages are embedded once and cached under ``home`` for later runs."""
    clauses = read_passages(passages_path)
    queries = read_queries(queries_path)
    depth = max(DEPTH, *ks)

    reference = BM25([f"{c.title}\n{c.text}" for c in clauses], analyzer=plain_tokens)

    def bm25(query: LabelledQuery) -> list[str]:
        return [clauses[i].id for i in top(reference.scores([(query.text, 1.0)]), depth)]

    digest = hashlib.sha256(passages_path.read_bytes()).hexdigest()[:12]
    pack = Pack(f"eval-{digest}", "1", passages_path.name, (), date(2000, 1, 1), None, tuple(clauses))
    catalog = Catalog(home / "eval" / "catalog.sqlite3")
    store = VectorStore(home / "eval" / "chroma", embedder.model_id)
    cache = EmbeddingCache(home / "embeddings.sqlite3")
    try:
        cached = CachedEmbedder(embedder, cache)
        if not catalog.has(pack.name, pack.version):
            ingest(pack, catalog, store, cached, progress)
        restore(catalog, store, cached)  # an eval folder from before per-version collections
        results: dict[str, dict[str, float]] = {}
        rankings, latencies = _timed(bm25, queries)
        results["bm25"] = _metrics(rankings, queries, ks, latencies)
        modes: tuple[Mode, ...] = ("dense", "hybrid")
        for mode in modes:
            searcher = Searcher(embedder, store, catalog, floor=float("-inf"), mode=mode)
            rankings, latencies = _timed(partial(_ranked, searcher, [pack.key], depth), queries)
            results[mode] = _metrics(rankings, queries, ks, latencies)
    finally:
        catalog.close()
        cache.close()
    return results
