"""Loading a validated pack into the store: chunk, embed, write vectors, then commit the catalog row."""

from __future__ import annotations

from collections.abc import Callable

from retrieval.catalog import Catalog
from retrieval.chunks import chunk_text
from retrieval.embed import Embedder
from retrieval.packs import Clause, Pack
from retrieval.store import VectorStore

Progress = Callable[[int, int], None]
"""Called with (clauses done, clauses in all) as an ingest advances."""

BATCH = 256
"""Texts per embedding call: large enough for the encoder to group texts of similar length."""


def clause_chunks(clause: Clause) -> list[str]:
    """The texts embedded for a clause: each chunk within the model's window, each led by the clause title."""
    return [f"{clause.title}. {chunk}" for chunk in chunk_text(clause.text)]


def write_vectors(pack: Pack, store: VectorStore, embedder: Embedder, progress: Progress | None = None) -> None:
    """Embed every clause chunk of ``pack`` and upsert the vectors, tagged with the version key."""
    key = f"{pack.name}@{pack.version}"
    pieces = [(clause, number, text) for clause in pack.clauses for number, text in enumerate(clause_chunks(clause))]
    total = len(pieces)
    for start in range(0, total, BATCH):
        batch = pieces[start : start + BATCH]
        store.upsert(
            ids=[f"{pack.citation(c)}::{n}" for c, n, _ in batch],
            vectors=embedder.encode([text for _, _, text in batch]),
            documents=[c.text for c, _, _ in batch],
            metadatas=[
                {
                    "key": key,
                    "pack": pack.name,
                    "version": pack.version,
                    "clause_id": c.id,
                    "title": c.title,
                    "citation": pack.citation(c),
                    "jurisdictions": ",".join(c.jurisdictions),
                }
                for c, _, _ in batch
            ],
        )
        if progress:
            progress(min(start + BATCH, total), total)


def ingest(
    pack: Pack, catalog: Catalog, store: VectorStore, embedder: Embedder, progress: Progress | None = None
) -> None:
    """Embed and store every clause, then record the version (inactive) in the catalog.

    Vectors are tagged with the version key and are filtered out of every search until the catalog
    row exists, so an interruption before the last step leaves nothing visible.
    """
    write_vectors(pack, store, embedder, progress)
    catalog.record(pack)
