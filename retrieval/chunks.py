"""Splitting text to fit the embedding model's window, so that nothing is silently truncated.

A chunk is a span of its clause's text, not a copy: ingest holds (clause, span) pairs and makes the
text of one batch at a time, so memory stays flat however long a clause is, and a vector's id names
the span it embeds (``citation::start-end``).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

CHUNK_WORDS = 150
"""Words per chunk: all-MiniLM-L6-v2 reads 256 word pieces (about 1.3 per English word) and drops the rest."""

_LINE = re.compile(r"[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")
"""A line's characters: the separators are those of ``str.splitlines``."""
_WORD = re.compile(r"\S+")
"""A word as ``str.split`` finds it."""

Span = tuple[int, int]
"""(start, end) character offsets of a chunk in its clause's text."""


def chunk_spans(text: str, limit: int = CHUNK_WORDS) -> Iterator[Span]:
    """Spans of at most ``limit`` words, covering every word of ``text``, found lazily.

    Lines are kept whole where they fit, so a list item or paragraph is not cut mid-way; a single
    line longer than the limit is cut at word boundaries. Only ``limit + 1`` words of a line are
    looked at ahead, so a clause of one enormous line costs no more memory than a short one.
    """
    start = end = count = 0
    for line in _LINE.finditer(text):
        words = _WORD.finditer(text, line.start(), line.end())
        ahead = [w.span() for _, w in zip(range(limit + 1), words, strict=False)]
        while ahead:
            room = limit - count
            if room <= 0 or (len(ahead) > room and count and len(ahead) <= limit):
                yield start, end
                count = 0
                continue
            taken = ahead[:room]
            if not count:
                start = taken[0][0]
            end, count = taken[-1][1], count + len(taken)
            ahead = ahead[room:]
            ahead.extend(w.span() for _, w in zip(range(limit + 1 - len(ahead)), words, strict=False))
    if count:
        yield start, end


def chunk_words(text: str, span: Span) -> str:
    """The words of one span, joined by single spaces: what is embedded for it."""
    return " ".join(text[span[0] : span[1]].split())


def chunk_text(text: str, limit: int = CHUNK_WORDS) -> list[str]:
    """The texts of every chunk of ``text`` (see ``chunk_spans``)."""
    return [chunk_words(text, span) for span in chunk_spans(text, limit)]
