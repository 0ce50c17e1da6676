"""A piece of text found to be personal, and the helpers every detector uses to report one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple


class Span(NamedTuple):
    """Characters ``start:stop`` of a text hold personal data of ``kind`` (the placeholder's word)."""

    start: int
    stop: int
    kind: str


def matched(pattern: re.Pattern[str], text: str, kind: str) -> Iterator[Span]:
    """Spans of a pattern's ``v`` group where it has one (the value, not the cue word before it)."""
    group = "v" if "v" in pattern.groupindex else 0
    for m in pattern.finditer(text):
        if m.start(group) < m.end(group):
            yield Span(m.start(group), m.end(group), kind)


def digits(text: str) -> str:
    """The digits of ``text``, separators dropped."""
    return "".join(ch for ch in text if ch.isdigit())
