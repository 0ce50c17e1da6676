"""Knowledge gaps: questions the packs did not answer, grouped by meaning on a labelled set and from records."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sklearn.metrics import adjusted_rand_score

from copilot.records.gaps import NO_CLAUSE, REWRITTEN, cluster, knowledge_gaps
from copilot.records.models import Kind, Outcome
from copilot.records.store import Records, Shown
from retrieval.embed import LocalEmbedder

LABELLED = Path(__file__).resolve().parents[2] / "resources" / "eval" / "gaps.jsonl"
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_the_labelled_questions_fall_into_their_gaps(embedder: LocalEmbedder) -> None:
    rows = [json.loads(line) for line in LABELLED.read_text().splitlines()]
    labels = cluster(embedder.encode([row["text"] for row in rows]))
    assert len(set(labels)) == len({row["gap"] for row in rows}) + 1  # one group splits in two
    assert adjusted_rand_score([row["gap"] for row in rows], labels) >= 0.9


def test_gaps_from_the_records_most_frequent_first(records_url: str, embedder: LocalEmbedder) -> None:
    records = Records.open(records_url, rep="ana")
    asked = [
        ("c1", "Do you offer gift wrapping for orders?"),
        ("c2", "can you wrap this as a present and add a card"),
        ("c3", "Is there an option to have my order gift wrapped?"),
        ("c4", "Do you have a student discount?"),
        ("c5", "Where is my parcel?"),
    ]
    for conversation, text in asked:
        records.question_asked(conversation, 1, text, relevance=0.2, answered=False, topic="unknown", at=T0)
    records.question_asked("c6", 1, "Is there a discount for university students?", relevance=0.7, answered=True)
    records.question_asked("c7", 1, "My order never arrived", relevance=0.8, answered=True)  # answered, draft kept
    [draft] = records.cards_shown([Shown("c6", 1, Kind.DRAFT, "reply", "We offer 10% off for teachers.")])
    records.card_decided(draft, Outcome.SENT, sent="Sorry, we have no student discount at the moment.")
    [kept] = records.cards_shown([Shown("c7", 1, Kind.DRAFT, "reply", "Sorry, I am checking the tracking now.")])
    records.card_decided(kept, Outcome.SENT, sent="Sorry, I am checking the tracking now.")
    gaps = knowledge_gaps(records, embedder)
    records.close()
    assert [gap.size for gap in gaps] == [3, 2, 1]
    wrap, student, parcel = gaps
    assert wrap.examples(2) == [
        "Do you offer gift wrapping for orders?",
        "can you wrap this as a present and add a card",
    ]
    assert (wrap.why, wrap.conversations) == ({NO_CLAUSE: 3}, 3)
    assert student.why == {NO_CLAUSE: 1, REWRITTEN: 1}
    assert parcel.examples() == ["Where is my parcel?"]


@pytest.mark.parametrize("count", [0, 1])
def test_too_few_questions_make_no_or_one_group(count: int) -> None:
    import numpy as np

    assert cluster(np.ones((count, 4), dtype=np.float32) / 2) == [0] * count
