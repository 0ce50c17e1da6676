"""Clause vectors on a real chromadb: one collection per pack version, atomic loads, vectors restored from the cache."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import chromadb
import pytest
from chromadb.config import Settings

from retrieval import store
from retrieval.cache import CachedEmbedder, EmbeddingCache
from retrieval.catalog import Catalog
from retrieval.embed import LocalEmbedder
from retrieval.ingest import ingest, restore, write_vectors
from retrieval.packs import Clause, Manifest, Pack
from retrieval.search import Searcher
from retrieval.store import VectorStore

WINDOW = Clause("refunds.window", "Refund window", "Refunds are accepted within 30 days of delivery.", "r.md", 1)
METHOD = Clause("refunds.method", "Refund method", "Refunds go back to the original card.", "r.md", 4)
EXPRESS = Clause("shipping.express", "Express delivery", "Express parcels arrive the next business day.", "s.md", 1)


def pack(version: str, *clauses: Clause) -> Pack:
    return Pack("acme", version, "Acme", (), date(2025, 1, 1), None, clauses)


class Parts:
    """Catalog, store, cache and searcher over one temporary folder, as the workspace wires them."""

    def __init__(self, home: Path, embedder: LocalEmbedder) -> None:
        self.home = home
        self.catalog = Catalog(home / "catalog.sqlite3")
        self.store = VectorStore(home / "chroma", embedder.model_id)
        self.cache = EmbeddingCache(home / "embeddings.sqlite3")
        self.embedder = embedder
        self.searcher = Searcher(embedder, self.store, self.catalog)

    def cached(self) -> CachedEmbedder:
        return CachedEmbedder(self.embedder, self.cache)

    def found(self, text: str, keys: list[str]) -> list[str]:
        return [h.citation for h in self.searcher.search(text, (), keys, k=5, floor=0.0).hits]

    def close(self) -> None:
        self.catalog.close()
        self.cache.close()


@pytest.fixture
def parts(tmp_path: Path, embedder: LocalEmbedder) -> Iterator[Parts]:
    opened = Parts(tmp_path / "home", embedder)
    yield opened
    opened.close()


def test_each_version_has_its_own_collection_and_a_search_reads_only_the_versions_asked(parts: Parts) -> None:
    first, second = pack("1.0", WINDOW), pack("2.0", WINDOW, METHOD)
    for loaded in (first, second):
        ingest(loaded, parts.catalog, parts.store, parts.cached())
    assert parts.store.keys() == {"acme@1.0", "acme@2.0"}
    assert parts.store.count() == 3
    assert parts.found("refund to my card", ["acme@1.0"]) == ["acme@1.0#refunds.window"]
    assert set(parts.found("refund to my card", ["acme@2.0"])) == {"acme@2.0#refunds.window", "acme@2.0#refunds.method"}
    version = parts.catalog.get("acme", "2.0")
    assert isinstance(version, Manifest) and version.key == "acme@2.0" and version.clause_count == 2
    assert {c.id: c.text for c in parts.catalog.pack("acme", "2.0").clauses}[METHOD.id] == METHOD.text
    parts.store.drop("acme@1.0")
    assert parts.store.keys() == {"acme@2.0"} and parts.store.count() == 2


def test_an_interrupted_load_is_never_searched_and_the_next_load_clears_it(parts: Parts) -> None:
    write_vectors(pack("1.0", WINDOW, METHOD, EXPRESS), parts.store, parts.cached())  # killed before the catalog row
    assert parts.found("express parcel next day", ["acme@1.0"]) == []
    ingest(pack("1.0", WINDOW, METHOD), parts.catalog, parts.store, parts.cached())  # the pack changed meanwhile
    assert parts.store.count() == 2, "the leftover vector of the interrupted load is gone"
    assert parts.found("express parcel next day", ["acme@1.0"])[0] == "acme@1.0#refunds.window"


def test_a_folder_from_before_per_version_collections_gets_its_vectors_back_from_the_cache(parts: Parts) -> None:
    ingest(pack("1.0", WINDOW, METHOD), parts.catalog, parts.store, parts.cached())
    client = chromadb.PersistentClient(path=str(parts.home / "chroma"), settings=Settings(anonymized_telemetry=False))
    parts.store.drop("acme@1.0")
    # The old layout: one collection per model, named by a hash of the model id.
    legacy = "clauses-" + hashlib.sha1(parts.embedder.model_id.encode()).hexdigest()[:16]
    client.create_collection(legacy, embedding_function=None)
    cached = parts.cached()
    assert restore(parts.catalog, parts.store, cached) == 1
    assert cached.embedded == 0, "every text came from the embedding cache"
    assert parts.found("how many days for a refund", ["acme@1.0"])[0] == "acme@1.0#refunds.window"
    assert [c.name for c in client.list_collections() if c.name.startswith("clauses-")] == []
    assert restore(parts.catalog, parts.store, parts.cached()) == 0


def test_small_versions_searched_in_memory_rank_as_chromadb_does(parts: Parts, monkeypatch: pytest.MonkeyPatch) -> None:
    ingest(pack("1.0", WINDOW, METHOD, EXPRESS), parts.catalog, parts.store, parts.cached())
    vector = parts.searcher.vectors(["when will my refund reach the card"])[0]
    in_memory = parts.store.query(vector, 3, ["acme@1.0"])
    monkeypatch.setattr(store, "EXACT_LIMIT", 0)  # every version is "large" now: chromadb answers
    by_chromadb = VectorStore(parts.home / "chroma", parts.embedder.model_id).query(vector, 3, ["acme@1.0"])
    assert [h.id for h in in_memory] == [h.id for h in by_chromadb]
    assert [h.score for h in in_memory] == pytest.approx([h.score for h in by_chromadb], abs=1e-5)
