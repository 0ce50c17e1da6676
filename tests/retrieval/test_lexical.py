"""BM25 on bm25s: Okapi's scale (search.LEXICAL_HALF depends on it), word forms, stop words, weighted query parts."""

from __future__ import annotations

import math

import numpy as np
import pytest

from retrieval.lexical import BM25, tokenize, top

DOCUMENTS = ["Refund the card", "Card charged twice", "Shipping times", ""]


def test_scores_are_okapi_with_lucene_idf() -> None:
    # "refund" is in 1 of 4 documents; document 0 has 2 terms ("the" is a stop word), the mean is 7/4.
    idf = math.log(1 + (4 - 1 + 0.5) / (1 + 0.5))
    expected = idf * 1 * (1.2 + 1) / (1 + 1.2 * (1 - 0.75 + 0.75 * 2 / (7 / 4)))
    assert BM25(DOCUMENTS).scores([("refund", 1.0)])[0] == pytest.approx(expected)


def test_word_forms_meet_and_stop_words_count_for_nothing() -> None:
    index = BM25(DOCUMENTS)
    assert tokenize("Refunded charges, the customer's cards") == ["refund", "charg", "card"]
    assert top(index.scores([("refunds", 1.0)]), 3) == [0]
    assert not index.scores([("the and to of", 1.0)]).any()


def test_query_parts_add_up_by_weight_and_repeated_words_count_again() -> None:
    index = BM25(DOCUMENTS)
    card, shipping = index.scores([("card", 1.0)]), index.scores([("shipping", 1.0)])
    assert np.allclose(index.scores([("card", 0.7), ("shipping", 0.3)]), 0.7 * card + 0.3 * shipping)
    assert np.allclose(index.scores([("card card", 1.0)]), 2 * card)


def test_an_empty_index_scores_nothing() -> None:
    assert len(BM25([])) == 0 and BM25([]).scores([("card", 1.0)]).shape == (0,)
