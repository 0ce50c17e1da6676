"""Loading a validated pack into the store: chunk, embed, write vectors, then commit the catalog row."""

from __future__ import annotations

import logging
from collections.abc import Callable

from retrieval.catalog import Catalog
from retrieval.chunks import chunk_text
from retrieval.embed import Embedder
from retrieval.packs import Clause, Pack
from retrieval.store import VectorStore

log = logging.getLogger("copilot.retrieval")

Progress = Callable[[int, int], None]
"""Called with (clauses done, clauses in all) as an ingest advances."""

BATCH = 256
"""Texts per embedding call: large enough for the encoder to group texts of similar length."""


def clause_chunks(clause: Clause) -> list[str]:
    """The texts embedded for a clause: each chunk within the model's window, each led by the clause title."""
    return [f"{clause.title}. {chunk}" for chunk in chunk_text(clause.text)]


def write_vectors(pack: Pack, store: VectorStore, embedder: Embedder, progress: Progress | None = None) -> None:
    """Embed every clause chunk of ``pack`` into the version's own collection, replacing any vectors it had."""
    store.drop(pack.key)  # leftovers of an interrupted load, or of another embedding of this version
    pieces = [(clause, number, text) for clause in pack.clauses for number, text in enumerate(clause_chunks(clause))]
    total = len(pieces)
    for start in range(0, total, BATCH):
        batch = pieces[start : start + BATCH]
        store.upsert(
            pack.key, [f"{pack.citation(c)}::{n}" for c, n, _ in batch], embedder.encode([t for _, _, t in batch])
        )
        if progress:
            progress(min(start + BATCH, total), total)


def ingest(
    pack: Pack, catalog: Catalog, store: VectorStore, embedder: Embedder, progress: Progress | None = None
) -> None:
    """Embed and store every clause, then record the version (inactive) in the catalog.

    Search reads only the collections of versions the catalog holds, so an interruption before the
    last step leaves nothing visible; the next load of the version drops what was written.
    """
    write_vectors(pack, store, embedder, progress)
    catalog.record(pack)


def restore(catalog: Catalog, store: VectorStore, embedder: Embedder) -> int:
    """Write the vectors of every catalogued version that has none in ``store`` (a data folder from before
    per-version collections, or a lost collection); returns how many versions were written.

    ``embedder`` should be a CachedEmbedder: texts loaded before come from the embedding cache.
    """
    stored = store.keys()
    missing = [v for v in catalog.versions() if v.key not in stored]
    for version in missing:
        log.info("writing the vectors of %s for model %s", version.key, store.model_id)
        write_vectors(catalog.pack(version.name, version.version), store, embedder)
    store.drop_legacy()
    return len(missing)
