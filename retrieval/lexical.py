"""Okapi BM25 over clause texts, with bm25s: catches exact words ("chargeback", "CVV") that embeddings blur."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence

import bm25s
import numpy as np
from scipy import sparse

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_WORD = re.compile(r"\w+")
# bm25s sets its own logger to DEBUG when imported, which prints a line for every index built.
logging.getLogger("bm25s").setLevel(logging.WARNING)

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
    """A deliberately light English suffix stripper: "refunds", "refunded", "refunding" all give "refund".

    Snowball's English stemmer (PyStemmer) was tried in its place: it cost 1.5 points of hybrid recall@10
    on ../shared/benchdata/banking-kb (0.346 -> 0.330), so this one stays.
    """
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
    """Okapi BM25 over a fixed list of documents (k1 = 1.2, b = 0.75, Lucene's IDF, which is never negative).

    bm25s builds the index: every (term, document) score, one sparse column per term. Its "atire"
    term frequency keeps Okapi's ``(k1 + 1)`` factor, so scores stay on the scale search.LEXICAL_HALF
    was tuned on. A query is one product of its terms' columns with their weights.
    """

    def __init__(
        self, documents: Sequence[str], *, k1: float = 1.2, b: float = 0.75, analyzer: Analyzer = tokenize
    ) -> None:
        self.analyzer = analyzer
        self._vocabulary: dict[str, int] = {}
        self._matrix = sparse.csc_matrix((len(documents), 0))
        if documents:
            model = bm25s.BM25(k1=k1, b=b, method="atire", idf_method="lucene", dtype="float64")
            model.index([analyzer(d) for d in documents], show_progress=False)
            index = model.scores
            self._vocabulary = dict(model.vocab_dict)
            self._matrix = sparse.csc_matrix(
                (index["data"], index["indices"], index["indptr"]), shape=(len(documents), len(index["indptr"]) - 1)
            )

    def __len__(self) -> int:
        return int(self._matrix.shape[0])

    def scores(self, texts: Iterable[tuple[str, float]]) -> np.ndarray:
        """The BM25 score of every document for a query made of (text, weight) parts (zero where no
        query term occurs); a term repeated in the query counts again."""
        weights: dict[int, float] = {}
        for text, weight in texts:
            for term in self.analyzer(text):
                column = self._vocabulary.get(term)
                if column is not None:
                    weights[column] = weights.get(column, 0.0) + weight
        if not weights:
            return np.zeros(len(self))
        columns = list(weights)
        return np.asarray(self._matrix[:, columns] @ np.fromiter(weights.values(), float, len(columns)))


def top(scores: np.ndarray, n: int) -> list[int]:
    """Indexes of the ``n`` highest positive scores, best first."""
    n = min(n, int((scores > 0).sum()))
    if n <= 0:
        return []
    best = np.argpartition(-scores, n - 1)[:n]
    return [int(i) for i in best[np.argsort(-scores[best], kind="stable")]]
