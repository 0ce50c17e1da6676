"""Okapi BM25 over clause texts: catches exact words (product names, "chargeback", "CVV") that embeddings blur."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
from scipy import sparse

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_WORD = re.compile(r"\w+")

STOP_WORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
        "hi",
        "hello",
        "thanks",
        "thank",
        "please",
        "ok",
        "okay",
        "yes",
        "also",
        "get",
        "got",
        "really",
        "just",
        "one",
    ]
)


def stem(word: str) -> str:
    """A deliberately light English suffix stripper: "refunds", "refunded", "refunding" all give "refund"."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            word = word[: -len(suffix)] + keep
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word  # "charge" and "charged" meet


def tokenize(text: str) -> list[str]:
    """The app's analyzer: lowercase, stemmed words; stop words, contractions and single letters dropped."""
    return [
        stem(t)
        for t in _TOKEN.findall(text.lower().replace("\u2019", "'"))
        if "'" not in t and len(t) > 1 and t not in STOP_WORDS
    ]


def plain_tokens(text: str) -> list[str]:
    """The reference analyzer of ../shared/benchdata/README.md: lowercase ``\\w+`` tokens, nothing removed."""
    return _WORD.findall(text.lower())


Analyzer = Callable[[str], list[str]]


class BM25:
    """Okapi BM25 over a fixed list of documents, as one sparse matrix: a query is one product with it."""

    def __init__(
        self, documents: Sequence[str], *, k1: float = 1.2, b: float = 0.75, analyzer: Analyzer = tokenize
    ) -> None:
        self.analyzer = analyzer
        self._vocabulary: dict[str, int] = {}
        rows: list[int] = []
        columns: list[int] = []
        counts: list[int] = []
        lengths = np.zeros(len(documents))
        for index, document in enumerate(documents):
            terms = Counter(analyzer(document))
            lengths[index] = sum(terms.values())
            for term, count in terms.items():
                rows.append(index)
                columns.append(self._vocabulary.setdefault(term, len(self._vocabulary)))
                counts.append(count)
        tf = np.asarray(counts, dtype=np.float64)
        row = np.asarray(rows, dtype=np.int64)
        column = np.asarray(columns, dtype=np.int64)
        average = lengths.mean() if len(documents) else 1.0
        frequency = np.bincount(column, minlength=len(self._vocabulary))
        idf = np.log(1 + (len(documents) - frequency + 0.5) / (frequency + 0.5))
        weight = idf[column] * tf * (k1 + 1) / (tf + k1 * (1 - b + b * lengths[row] / max(average, 1e-9)))
        self._matrix = sparse.csr_matrix((weight, (row, column)), shape=(len(documents), len(self._vocabulary)))

    def __len__(self) -> int:
        return int(self._matrix.shape[0])

    def query_weights(self, texts: Iterable[tuple[str, float]]) -> dict[str, float]:
        """Term weights from (text, weight) parts; a term repeated in the query counts again."""
        weights: dict[str, float] = {}
        for text, weight in texts:
            for term in self.analyzer(text):
                weights[term] = weights.get(term, 0.0) + weight
        return weights

    def scores(self, weights: Mapping[str, float]) -> np.ndarray:
        """The BM25 score of every document (zero where no query term occurs)."""
        query = np.zeros(len(self._vocabulary))
        for term, weight in weights.items():
            column = self._vocabulary.get(term)
            if column is not None:
                query[column] += weight
        return np.asarray(self._matrix @ query)


def top(scores: np.ndarray, n: int) -> list[int]:
    """Indexes of the ``n`` highest positive scores, best first."""
    n = min(n, int((scores > 0).sum()))
    if n <= 0:
        return []
    best = np.argpartition(-scores, n - 1)[:n]
    return [int(i) for i in best[np.argsort(-scores[best], kind="stable")]]
