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
        # Each label with the rows of its examples: a label's best match is one argmax over them.
        rows: dict[str, list[int]] = {}
        for row, label in enumerate(self.labels):
            rows.setdefault(label, []).append(row)
        self._rows = [(label, np.array(found)) for label, found in rows.items()]

    def __bool__(self) -> bool:
        return bool(self.labels)

    def best(self, vector: np.ndarray) -> list[Match]:
        """The closest example of every label, best label first."""
        if not self.labels:
            return []
        scores = self._matrix @ (vector / max(float(np.linalg.norm(vector)), 1e-9))
        best = [(label, int(rows[np.argmax(scores[rows])])) for label, rows in self._rows]
        best.sort(key=lambda pair: -scores[pair[1]])
        return [Match(label, round(float(scores[row]), 4), self.examples[row]) for label, row in best]
