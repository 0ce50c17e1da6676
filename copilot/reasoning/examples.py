"""Labelled example utterances, embedded once, that a new message is compared with: the pack's playbook
examples give the intent, its escalation examples catch wordings no trigger phrase foresaw.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

Vectors = Callable[[Sequence[str]], np.ndarray]
"""Texts → one unit-length row per text (the workspace's cached embedder)."""


@dataclass(frozen=True)
class Match:
    label: str
    score: float
    """Cosine similarity to the closest example of the label."""
    example: str


class ExampleIndex:
    """(label, example) pairs as one matrix; a query's best match per label is one product."""

    def __init__(self, pairs: Sequence[tuple[str, str]], vectors: Vectors) -> None:
        self.labels = [label for label, _ in pairs]
        self.examples = [example for _, example in pairs]
        matrix = vectors(self.examples) if pairs else np.zeros((0, 1), dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True) if len(matrix) else 1
        self._matrix = matrix / np.maximum(norms, 1e-9)
        # Labels numbered in order of first appearance; a query's best row per label is then one stable sort
        # (by label, then by descending score): the first row of each label's run, as argmax would pick.
        numbers: dict[str, int] = {}
        self._label_of_row = np.array([numbers.setdefault(label, len(numbers)) for label in self.labels])
        self._names = list(numbers)
        counts = np.bincount(self._label_of_row, minlength=len(numbers)) if self.labels else np.zeros(0, dtype=int)
        self._starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(int) if len(counts) else counts

    def __bool__(self) -> bool:
        return bool(self.labels)

    def best(self, vector: np.ndarray) -> list[Match]:
        """The closest example of every label, best label first."""
        if not self.labels:
            return []
        scores = self._matrix @ (vector / max(float(np.linalg.norm(vector)), 1e-9))
        ranked = np.lexsort((-scores, self._label_of_row))
        rows = ranked[self._starts]
        order = np.argsort(-scores[rows], kind="stable")
        return [Match(self._names[i], round(float(scores[rows[i]]), 4), self.examples[rows[i]]) for i in order]
