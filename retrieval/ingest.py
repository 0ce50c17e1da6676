"""Loading a validated pack into the store: chunk, embed, write vectors, then commit the catalog row.

A chunk is its clause's citation and a span of the clause text (retrieval/chunks.py); the text sent
to the model is made one batch at a time, so time and memory grow with the pack, never faster.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence

from retrieval.catalog import Catalog
from retrieval.chunks import Span, chunk_spans, chunk_words
from retrieval.embed import Embedder
from retrieval.packs import Clause, Pack
from retrieval.store import VectorStore

log = logging.getLogger("copilot.retrieval")

Progress = Callable[[int, int], None]
"""Called with (clauses done, clauses in all) as an ingest advances."""

BATCH = 256
"""Texts per embedding call: large enough for the encoder to group texts of similar length."""


def embedded_text(title: str, text: str, span: Span) -> str:
    """What is embedded for one chunk: the clause title, then the words of its span."""
    return f"{title}. {chunk_words(text, span)}"


def vector_id(citation: str, span: Span) -> str:
    """A vector's id: the clause it belongs to and the span of the clause text it embeds."""
    return f"{citation}::{span[0]}-{span[1]}"


def clause_chunks(clause: Clause) -> list[str]:
    """The texts embedded for a clause: each chunk within the model's window, each led by the clause title."""
    return [embedded_text(clause.title, clause.text, span) for span in chunk_spans(clause.text)]


def _batches(pack: Pack) -> Iterator[tuple[int, list[tuple[Clause, Span]]]]:
    """(clauses done, chunks) in pack order: a batch ends with a clause once it holds BATCH chunks, or inside
    a long clause at twice that, so progress counts whole clauses and a batch never grows with a clause."""
    batch: list[tuple[Clause, Span]] = []
    for done, clause in enumerate(pack.clauses, start=1):
        for span in chunk_spans(clause.text):
            batch.append((clause, span))
            if len(batch) == 2 * BATCH:
                yield done - 1, batch
                batch = []
        if len(batch) >= BATCH:
            yield done, batch
            batch = []
    if batch:
        yield len(pack.clauses), batch


def write_vectors(pack: Pack, store: VectorStore, embedder: Embedder, progress: Progress | None = None) -> None:
    """Embed every clause chunk of ``pack`` into the version's own collection, replacing any vectors it had.

    Call it while holding the catalog's ``writing`` lock: chromadb takes one writer at a time.
    """
    store.drop(pack.key)  # leftovers of an interrupted load, or of another embedding of this version
    total, done = len(pack.clauses), 0
    for done, batch in _batches(pack):
        texts: Sequence[str] = [embedded_text(c.title, c.text, span) for c, span in batch]
        store.upsert(pack.key, [vector_id(pack.citation(c), span) for c, span in batch], embedder.encode(texts))
        if progress:
            progress(done, total)
    if progress and done < total:  # the last batch ended inside the last clause
        progress(total, total)


def ingest(
    pack: Pack, catalog: Catalog, store: VectorStore, embedder: Embedder, progress: Progress | None = None
) -> None:
    """Embed and store every clause, then record the version (inactive) in the catalog, holding the writer lock.

    Search reads only the collections of versions the catalog holds, so an interruption before the
    last step leaves nothing visible; the next load of the version drops what was written.
    """
    with catalog.writing():
        write_vectors(pack, store, embedder, progress)
        catalog.record(pack)


def restore(catalog: Catalog, store: VectorStore, embedder: Embedder) -> int:
    """Write the vectors of every catalogued version that has none in ``store`` (a data folder from before
    per-version collections, or a lost collection); returns how many versions were written.

    ``embedder`` should be a CachedEmbedder: texts loaded before come from the embedding cache.
    """
    if not _missing(catalog, store):
        return 0
    with catalog.writing():
        missing = _missing(catalog, store)  # again: another process may have written them while we waited
        for key in missing:
            log.info("writing the vectors of %s for model %s", key, store.model_id)
            name, version = key.split("@", 1)
            write_vectors(catalog.pack(name, version), store, embedder)
        store.drop_legacy()
    return len(missing)


def _missing(catalog: Catalog, store: VectorStore) -> list[str]:
    stored = store.keys()
    return [v.key for v in catalog.versions() if v.key not in stored]
