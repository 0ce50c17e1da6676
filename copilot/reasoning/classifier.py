"""Per-category escalation classifiers: logistic regression over sentence embeddings, trained on the
pack's labelled utterances (its category examples, and ``escalation-examples.jsonl`` with near-misses).

Why a classifier beside the rules and nearest examples: a new wording rarely sits close to any one
example, but it usually falls on the right side of the line that the examples and the near-misses draw
together. It only adds recall to the coded triggers; what it finds is shown with its score and the
closest labelled example, so the rep can see why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from copilot.reasoning.examples import Vectors


@dataclass(frozen=True)
class Utterance:
    """A customer message and the categories it shows (none for a near-miss)."""

    text: str
    labels: frozenset[str]


STRENGTH = 0.1
"""L2 penalty on the weights: small, because the embedding already generalises and the sets are small."""
_ITERATIONS = 30


def _fit(features: np.ndarray, positive: np.ndarray, strength: float) -> np.ndarray:
    """Weights (last one the bias) by Newton's method. Classes keep their natural weight: reweighting
    rare categories up made ordinary messages ("is it lost?") read as escalations."""
    d = features.shape[1]
    penalty = strength * np.eye(d)
    penalty[-1, -1] = 0.0
    weights = np.zeros(d)
    for _ in range(_ITERATIONS):
        p = 1.0 / (1.0 + np.exp(-features @ weights))
        gradient = features.T @ (p - positive) + penalty @ weights
        hessian = (features * (p * (1 - p))[:, None]).T @ features + penalty
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if float(np.abs(step).max()) < 1e-6:
            break
    return weights


def _with_bias(vectors: np.ndarray) -> np.ndarray:
    return np.hstack([vectors, np.ones((len(vectors), 1), dtype=vectors.dtype)])


class Classifier:
    """One logistic regression per category; ``scores`` is one matrix product."""

    def __init__(self, categories: Sequence[str], weights: np.ndarray) -> None:
        self.categories = tuple(categories)
        self._weights = weights

    @classmethod
    def train(cls, utterances: Sequence[Utterance], vectors: Vectors, strength: float = STRENGTH) -> Classifier | None:
        """A classifier for every label with examples of it and of something else; None when there is none."""
        categories = sorted(
            c for c in {label for u in utterances for label in u.labels} if any(c not in u.labels for u in utterances)
        )
        if not categories:
            return None
        features = _with_bias(np.asarray(vectors([u.text for u in utterances]), dtype=np.float64))
        weights = np.stack(
            [
                _fit(features, np.array([c in u.labels for u in utterances], dtype=np.float64), strength)
                for c in categories
            ]
        )
        return cls(categories, weights)

    def scores(self, vector: np.ndarray) -> dict[str, float]:
        """Category → probability that a message with this embedding shows it."""
        logits = self._weights @ np.append(np.asarray(vector, dtype=np.float64), 1.0)
        return {c: float(p) for c, p in zip(self.categories, 1.0 / (1.0 + np.exp(-logits)), strict=True)}
