"""How far a sent text is from the card's: a word diff a lead can read, and one number to chart."""

from __future__ import annotations

from dataclasses import dataclass
from difflib import SequenceMatcher


@dataclass(frozen=True)
class WordDiff:
    ops: list[list[str]]
    """``[op, words]`` in order: ``=`` kept, ``-`` removed from the card's text, ``+`` added by the rep."""
    edit_ratio: float
    """0 when the words are the card's, 1 when none are left."""


def word_diff(suggested: str, sent: str) -> WordDiff:
    """Compare by words (whitespace changes are no edit): what a rep changes is words, not characters."""
    before, after = suggested.split(), sent.split()
    matcher = SequenceMatcher(None, before, after, autojunk=False)
    ops: list[list[str]] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            ops.append(["=", " ".join(before[i1:i2])])
            continue
        if i2 > i1:
            ops.append(["-", " ".join(before[i1:i2])])
        if j2 > j1:
            ops.append(["+", " ".join(after[j1:j2])])
    return WordDiff(ops, round(1.0 - matcher.ratio(), 4))
