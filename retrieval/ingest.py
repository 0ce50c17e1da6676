"""Loading a validated pack into the store: chunk, embed, write vectors, then commit the catalog row."""

from __future__ import annotations

from collections.abc import Callable

from retrieval.catalog import Catalog
from retrieval.embed import Embedder
from retrieval.packs import Clause, Pack
from retrieval.store import VectorStore

Progress = Callable[[int, int], None]
"""Called with (clauses done, clauses in all) as an ingest advances."""

BATCH = 32
CHUNK_WORDS = 150
"""Words per chunk: all-MiniLM-L6-v2 reads 256 word pieces (about 1.3 per English word) and drops the rest."""


def clause_chunks(clause: Clause, limit: int = CHUNK_WORDS) -> list[str]:
    """The texts embedded for a clause, each within the model's window, each led by the clause title.

    Lines are kept whole where they fit, so a list item or paragraph is not cut mid-way; a single
    line longer than the limit is cut at word boundaries. Nothing of the clause is dropped.
    """
    chunks: list[list[str]] = [[]]
    for line in clause.text.splitlines():
        words = line.split()
        while words:
            room = limit - len(chunks[-1])
            if room <= 0 or (len(words) > room and chunks[-1] and len(words) <= limit):
                chunks.append([])
                continue
            chunks[-1].extend(words[:room])
            words = words[room:]
    return [f"{clause.title}. {' '.join(words)}" for words in chunks if words]


def ingest(pack: Pack, catalog: Catalog, store: VectorStore, embedder: Embedder,
           progress: Progress | None = None) -> None:
    """Embed and store every clause, then record the version (inactive) in the catalog.

    Vectors are tagged with the version key and are filtered out of every search until the catalog
    row exists, so an interruption before the last step leaves nothing visible.
    """
    key = f"{pack.name}@{pack.version}"
    pieces = [(clause, number, text) for clause in pack.clauses for number, text in enumerate(clause_chunks(clause))]
    total = len(pieces)
    for start in range(0, total, BATCH):
        batch = pieces[start:start + BATCH]
        store.upsert(
            ids=[f"{pack.citation(c)}::{n}" for c, n, _ in batch],
            vectors=embedder.encode([text for _, _, text in batch]),
            documents=[c.text for c, _, _ in batch],
            metadatas=[{"key": key, "pack": pack.name, "version": pack.version, "clause_id": c.id,
                        "title": c.title, "citation": pack.citation(c),
                        "jurisdictions": ",".join(c.jurisdictions)} for c, _, _ in batch],
        )
        if progress:
            progress(min(start + BATCH, total), total)
    catalog.record(pack)
