"""`copilot packs verify`: the catalog, the vector store and the clause texts checked against each other.

The catalog is the source of truth: the content hash recorded when a version was loaded says what its
clause texts must be, and those texts say which vectors must exist (one per chunk span) and what each
must be (the embedding of its text). A repair only ever re-embeds the catalog's texts or drops vectors
no catalogued version owns; texts that no longer match their hash are reported, never re-embedded,
because nothing here can tell which text is the right one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from retrieval.cache import CachedEmbedder, EmbeddingCache, text_hash
from retrieval.catalog import Catalog
from retrieval.chunks import chunk_spans
from retrieval.embed import Embedder
from retrieval.ingest import embedded_text, vector_id, write_vectors
from retrieval.store import READ_PAGE, VectorStore

TOLERANCE = 1e-4
"""Largest difference, per component, between a stored vector and the cached embedding of its text."""


@dataclass
class Verification:
    """What a check found, and what it repaired."""

    problems: list[str] = field(default_factory=list)
    """Each inconsistency, in one line naming the version and what to do."""
    repaired: list[str] = field(default_factory=list)
    """The versions whose vectors were written again, or the stray collections dropped."""
    versions: int = 0
    vectors: int = 0
    """Vectors checked, over every version."""

    @property
    def unresolved(self) -> int:
        """Problems a repair did not (or could not) fix."""
        return len(self.problems) - len(self.repaired)


def verify(
    catalog: Catalog, store: VectorStore, embedder: Embedder, cache: EmbeddingCache, *, repair: bool
) -> Verification:
    """Check every loaded version (and every collection of this model), repairing vectors when ``repair``.

    Holds the writer lock throughout, so no load is half-way while the store is read.
    """
    found = Verification()
    with catalog.writing():
        loaded = catalog.versions()
        for version in loaded:
            found.versions += 1
            _check_version(catalog, store, embedder, cache, version.key, found, repair)
        for key in sorted(store.keys() - {v.key for v in loaded}):
            found.problems.append(
                f"{key}: vectors of a version the catalog does not hold (an interrupted load or a removed version)"
            )
            if repair:
                store.drop(key)
                found.repaired.append(f"{key}: its vectors dropped")
    return found


def _check_version(
    catalog: Catalog,
    store: VectorStore,
    embedder: Embedder,
    cache: EmbeddingCache,
    key: str,
    found: Verification,
    repair: bool,
) -> None:
    name, version = key.split("@", 1)
    recorded = catalog.fingerprint_of(name, version)
    if recorded != catalog.stored_fingerprint(key):
        found.problems.append(
            f"{key}: its clause texts in the catalog are not those it was loaded with (changed outside the app); "
            "not repaired: restore catalog.sqlite3 from a backup, or remove the version and load its pack again"
        )
        return
    stored = store.ids(key)
    expected: set[str] = set()
    wrong: list[str] = []  # hashes of texts whose stored vector is not their embedding
    for page in _pages(catalog, key):
        expected.update(page)
        cached = cache.get(store.model_id, [text_hash(text) for text in page.values()])
        vectors = store.vectors(key, [i for i in page if i in stored])
        for vid, vector in vectors.items():
            known = cached.get(text_hash(page[vid]))
            if known is not None and not np.allclose(known, vector, atol=TOLERANCE):
                wrong.append(text_hash(page[vid]))
        found.vectors += len(vectors)
    missing, stray = len(expected - stored), len(stored - expected)
    if not (missing or stray or wrong):
        return
    found.problems.append(
        f"{key}: {missing} vectors missing, {stray} not of its clause texts, {len(wrong)} not the embedding of "
        "their text" + ("" if repair else "; `copilot packs verify` without --check embeds them again")
    )
    if repair:
        cache.forget(store.model_id, wrong)  # the model embeds these afresh: a wrong vector is never reused
        write_vectors(catalog.pack(name, version), store, CachedEmbedder(embedder, cache))
        found.repaired.append(f"{key}: its vectors written again from the catalog's clause texts")


def _pages(catalog: Catalog, key: str) -> Iterator[dict[str, str]]:
    """{vector id: embedded text} of a version's chunks, READ_PAGE at a time."""
    page: dict[str, str] = {}
    for clause in catalog.clauses_of([key]):
        for span in chunk_spans(clause.text):
            page[vector_id(clause.citation, span)] = embedded_text(clause.title, clause.text, span)
            if len(page) == READ_PAGE:
                yield page
                page = {}
    if page:
        yield page
