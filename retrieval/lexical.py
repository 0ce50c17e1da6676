"""Okapi BM25 over clause texts: catches exact words (product names, "chargeback", "CVV") that embeddings blur."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence

_TOKEN = re.compile(r"[^\W_]+(?:'[^\W_]+)?")
_WORD = re.compile(r"\w+")

STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here hers
herself him himself his how i if in into is it its itself just me more most my myself no nor not now of off on
once only or other our ours ourselves out over own same she should so some such than that the their theirs them
themselves then there these they this those through to too under until up very was we were what when where which
while who whom why will with would you your yours yourself yourselves hi hello thanks thank please ok okay yes
also get got really just one""".split())


def stem(word: str) -> str:
    """A deliberately light English suffix stripper: "refunds", "refunded", "refunding" all give "refund"."""
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 4 and not word.endswith("ss"):
            word = word[: -len(suffix)] + keep
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word  # "charge" and "charged" meet


def tokenize(text: str) -> list[str]:
    """The app's analyzer: lowercase, stemmed words; stop words, contractions and single letters dropped."""
    return [stem(t) for t in _TOKEN.findall(text.lower().replace("\u2019", "'"))
            if "'" not in t and len(t) > 1 and t not in STOP_WORDS]


def plain_tokens(text: str) -> list[str]:
    """The reference analyzer of ../shared/benchdata/README.md: lowercase ``\\w+`` tokens, nothing removed."""
    return _WORD.findall(text.lower())


Analyzer = Callable[[str], list[str]]


class BM25:
    """An in-memory Okapi BM25 index over a fixed list of documents."""

    def __init__(self, documents: Sequence[str], *, k1: float = 1.2, b: float = 0.75,
                 analyzer: Analyzer = tokenize) -> None:
        self.k1, self.b, self.analyzer = k1, b, analyzer
        self._postings: dict[str, list[tuple[int, int]]] = {}
        self._lengths: list[int] = []
        for index, document in enumerate(documents):
            counts = Counter(analyzer(document))
            self._lengths.append(sum(counts.values()))
            for term, count in counts.items():
                self._postings.setdefault(term, []).append((index, count))
        self._average = (sum(self._lengths) / len(self._lengths)) if self._lengths else 0.0
        n = len(self._lengths)
        self._idf = {t: math.log(1 + (n - len(p) + 0.5) / (len(p) + 0.5)) for t, p in self._postings.items()}

    def __len__(self) -> int:
        return len(self._lengths)

    def query_weights(self, texts: Iterable[tuple[str, float]]) -> dict[str, float]:
        """Term weights from (text, weight) parts; a term repeated in the query counts again."""
        weights: dict[str, float] = {}
        for text, weight in texts:
            for term in self.analyzer(text):
                weights[term] = weights.get(term, 0.0) + weight
        return weights

    def scores(self, weights: Mapping[str, float]) -> dict[int, float]:
        """BM25 score of every document that shares a term with the query."""
        result: dict[int, float] = {}
        k1, b, average = self.k1, self.b, self._average or 1.0
        for term, weight in weights.items():
            postings = self._postings.get(term)
            if not postings:
                continue
            idf = self._idf[term] * weight
            for index, count in postings:
                norm = count + k1 * (1 - b + b * self._lengths[index] / average)
                result[index] = result.get(index, 0.0) + idf * count * (k1 + 1) / norm
        return result
