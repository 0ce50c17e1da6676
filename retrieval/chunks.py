"""Splitting text to fit the embedding model's window, so that nothing is silently truncated."""

from __future__ import annotations

CHUNK_WORDS = 150
"""Words per chunk: all-MiniLM-L6-v2 reads 256 word pieces (about 1.3 per English word) and drops the rest."""


def chunk_text(text: str, limit: int = CHUNK_WORDS) -> list[str]:
    """Pieces of at most ``limit`` words, covering all of ``text``.

    Lines are kept whole where they fit, so a list item or paragraph is not cut mid-way; a single
    line longer than the limit is cut at word boundaries.
    """
    chunks: list[list[str]] = [[]]
    for line in text.splitlines():
        words = line.split()
        while words:
            room = limit - len(chunks[-1])
            if room <= 0 or (len(words) > room and chunks[-1] and len(words) <= limit):
                chunks.append([])
                continue
            chunks[-1].extend(words[:room])
            words = words[room:]
    return [" ".join(words) for words in chunks if words]
