"""Text that is never redacted: citations of policy clauses, and the clause texts a request quotes."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

CITATION = re.compile(r"(?<![\w.-])[a-z0-9][a-z0-9-]{0,99}@[A-Za-z0-9][\w.+-]{0,63}#[a-z0-9][a-z0-9._-]{0,199}")
"""``pack@version#clause.id`` as retrieval.packs.citation writes it: an email pattern would otherwise take
``pack@2025.4`` out of it, and the model could no longer cite the clause."""


def protected(text: str, quoted: Iterable[tuple[int, int]] = ()) -> list[tuple[int, int]]:
    """Ranges of ``text`` that stay as written: every citation, and the ``quoted`` ranges (clause texts)."""
    return sorted([*((m.start(), m.end()) for m in CITATION.finditer(text)), *quoted])


def outside(start: int, stop: int, ranges: list[tuple[int, int]]) -> Iterator[tuple[int, int]]:
    """The parts of ``start:stop`` that no range in ``ranges`` (sorted) covers."""
    for low, high in ranges:
        if high <= start or low >= stop:
            continue
        if low > start:
            yield start, low
        start = max(start, high)
        if start >= stop:
            return
    if start < stop:
        yield start, stop
