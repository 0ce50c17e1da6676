"""Every card kind is recorded with its context, and every decision a rep can make on it; the queries of reviews."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from base.errors import RecordsError
from copilot.records.models import Kind, Outcome, Reason
from copilot.records.store import CardFilter, Records, Shown

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PACKS = ("northwind-retail@2025.6",)


@pytest.fixture
def records(records_url: str) -> Iterator[Records]:
    opened = Records.open(records_url, rep="ana")
    yield opened
    opened.close()


def card(kind: Kind, key: str, text: str = "", seq: int = 3, conversation: str = "c1") -> Shown:
    return Shown(conversation, seq, kind, key, text, (f"{PACKS[0]}#refunds.window",), PACKS, 412.5, "refund_status")


def test_each_kind_is_recorded_with_what_it_showed_and_where_it_came_from(records: Records) -> None:
    shown = [card(kind, f"key-{kind}", f"text of a {kind} card") for kind in Kind]
    ids = records.cards_shown(shown, at=T0)
    found = records.cards()
    assert [c.id for c in found] == ids
    assert [(c.kind, c.key, c.text) for c in found] == [(s.kind, s.key, s.text) for s in shown]
    first = found[0]
    assert (first.conversation_id, first.seq, first.rep, first.topic) == ("c1", 3, "ana", "refund_status")
    assert (first.citations, first.packs, first.latency_ms) == ((f"{PACKS[0]}#refunds.window",), PACKS, 412.5)
    assert (first.shown_at, first.outcome, first.decided_at, first.thumb) == (T0, Outcome.DISPLAYED, None, None)
    assert first.actions == ((Outcome.DISPLAYED, T0),)


def test_each_decision_is_kept_with_its_time_to_decision(records: Records) -> None:
    clause, flag, _escalation, suggestion, draft, action = records.cards_shown(
        [
            card(Kind.CLAUSE, "northwind-retail@2025.6#refunds.window", "Refunds within 30 days."),
            card(Kind.FLAG, "promise-without-clause", "You promise a date no clause backs."),
            card(Kind.ESCALATION, "legal_threat", "Legal team"),
            card(Kind.SUGGESTION, "Issue a refund", "I have issued your refund."),
            card(Kind.DRAFT, "reply", "Your refund of $40 is on its way."),
            card(Kind.ACTION, "p-17", "Refund $40 to the card ending 4242"),
        ],
        at=T0,
    )
    records.card_decided(clause, Outcome.EXPANDED, at=T0 + timedelta(seconds=1))
    records.card_decided(clause, Outcome.COPIED, at=T0 + timedelta(seconds=2))
    records.card_decided(flag, Outcome.REJECTED, reason=Reason.WRONG, at=T0 + timedelta(seconds=3))
    records.card_decided(suggestion, Outcome.INSERTED, at=T0 + timedelta(seconds=4))
    as_shown = "Your refund of $40 is on its way."
    kept = records.card_decided(draft, Outcome.SENT, sent=as_shown, at=T0 + timedelta(seconds=5))
    records.card_decided(action, Outcome.REJECTED, reason=Reason.OUTDATED, at=T0 + timedelta(seconds=6))
    assert kept is Outcome.SENT
    assert records.ignore_undecided("c1", before_seq=4, at=T0 + timedelta(minutes=1)) == 2  # clause, escalation
    got = {c.kind: c for c in records.cards()}
    assert {kind: c.outcome for kind, c in got.items()} == {
        Kind.CLAUSE: Outcome.IGNORED,
        Kind.FLAG: Outcome.REJECTED,
        Kind.ESCALATION: Outcome.IGNORED,
        Kind.SUGGESTION: Outcome.INSERTED,
        Kind.DRAFT: Outcome.SENT,
        Kind.ACTION: Outcome.REJECTED,
    }
    assert [a for a, _ in got[Kind.CLAUSE].actions] == [
        Outcome.DISPLAYED,
        Outcome.EXPANDED,
        Outcome.COPIED,
        Outcome.IGNORED,
    ]
    assert got[Kind.CLAUSE].decision_ms is None  # looks are no decision, and being ignored is none of the rep's
    assert got[Kind.DRAFT].decision_ms == 5000
    assert (got[Kind.FLAG].reason, got[Kind.FLAG].decision_ms) == (Reason.WRONG, 3000)
    assert (got[Kind.ACTION].reason, got[Kind.SUGGESTION].decision_ms) == (Reason.OUTDATED, 4000)
    assert (got[Kind.DRAFT].edit_ratio, got[Kind.DRAFT].diff) == (0.0, (("=", "Your refund of $40 is on its way."),))


def test_a_sent_text_with_other_words_is_an_edit_with_its_word_diff(records: Records) -> None:
    draft = records.card_shown(card(Kind.DRAFT, "reply", "Your refund of $40 arrives in 5 days."), at=T0)
    inserted = records.card_decided(draft, Outcome.INSERTED, sent="Your refund of $40 arrives in 5 days.")
    sent = records.card_decided(draft, Outcome.SENT, sent="Your  refund of $35 arrives in 5 business days.")
    [got] = records.cards()
    assert (inserted, sent, got.outcome) == (Outcome.INSERTED, Outcome.EDITED, Outcome.EDITED)
    assert got.sent_text == "Your  refund of $35 arrives in 5 business days."
    assert got.diff == (
        ("=", "Your refund of"),
        ("-", "$40"),
        ("+", "$35"),
        ("=", "arrives in 5"),
        ("+", "business"),
        ("=", "days."),
    )
    assert got.edit_ratio is not None and 0.1 < got.edit_ratio < 0.3
    assert [a for a, _ in got.actions] == [Outcome.DISPLAYED, Outcome.INSERTED, Outcome.EDITED]


def test_a_look_after_a_decision_is_kept_but_does_not_undo_it(records: Records) -> None:
    clause = records.card_shown(card(Kind.CLAUSE, "c#1"), at=T0)
    records.card_decided(clause, Outcome.INSERTED, at=T0 + timedelta(seconds=2))
    records.card_decided(clause, Outcome.COPIED, at=T0 + timedelta(seconds=9))
    [got] = records.cards()
    assert (got.outcome, got.decision_ms) == (Outcome.INSERTED, 2000)
    assert [a for a, _ in got.actions] == [Outcome.DISPLAYED, Outcome.INSERTED, Outcome.COPIED]


def test_thumbs_up_down_and_taken_back(records: Records) -> None:
    a, b = records.cards_shown([card(Kind.CLAUSE, "c#1"), card(Kind.SUGGESTION, "Refund")])
    records.thumb(a, True)
    records.thumb(b, False)
    assert [c.thumb for c in records.cards()] == [1, -1]
    records.thumb(a, None)
    assert [c.thumb for c in records.cards()] == [None, -1]
    with pytest.raises(RecordsError, match="no card record 999"):
        records.thumb(999, True)


def test_decisions_that_make_no_sense_are_refused(records: Records) -> None:
    draft = records.card_shown(card(Kind.DRAFT, "reply", "Hello"))
    with pytest.raises(RecordsError, match=r"a reason \(tone\) goes with a rejection"):
        records.card_decided(draft, Outcome.INSERTED, reason=Reason.TONE)
    with pytest.raises(RecordsError, match="sent text goes with inserted, sent or edited"):
        records.card_decided(draft, Outcome.REJECTED, sent="Hi")
    with pytest.raises(RecordsError, match="recorded as displayed when it is shown"):
        records.card_decided(draft, Outcome.DISPLAYED)
    with pytest.raises(RecordsError, match="no card record 12345"):
        records.card_decided(12345, Outcome.EXPANDED)
    [got] = records.cards()
    assert got.actions == ((Outcome.DISPLAYED, got.shown_at),)


def test_a_message_shown_again_keeps_its_cards_records(records: Records, records_url: str) -> None:
    first = records.cards_shown([card(Kind.CLAUSE, "c#1"), card(Kind.DRAFT, "reply", "Hi")])
    again = records.cards_shown([card(Kind.DRAFT, "reply", "Hi"), card(Kind.CLAUSE, "c#2")])
    assert again[0] == first[1] and again[1] not in first
    other_desk = Records.open(records_url, rep="bo")
    try:
        assert other_desk.card_shown(card(Kind.CLAUSE, "c#1")) not in first
    finally:
        other_desk.close()
    assert len(records.cards()) == 4


def test_queries_by_rep_date_range_outcome_kind_and_conversation(records: Records, records_url: str) -> None:
    day = timedelta(days=1)
    early = records.card_shown(card(Kind.SUGGESTION, "Refund", "r", conversation="c1"), at=T0)
    middle = records.card_shown(card(Kind.DRAFT, "reply", "d", conversation="c2"), at=T0 + day)
    late = records.card_shown(card(Kind.SUGGESTION, "Exchange", "e", conversation="c3"), at=T0 + 2 * day)
    records.card_decided(early, Outcome.REJECTED, reason=Reason.NOT_RELEVANT)
    records.card_decided(late, Outcome.INSERTED)
    bo = Records.open(records_url, rep="bo")
    try:
        theirs = bo.card_shown(card(Kind.SUGGESTION, "Refund", "r", conversation="c9"), at=T0 + day)
    finally:
        bo.close()

    def ids(which: CardFilter) -> list[int]:
        return [c.id for c in records.cards(which)]

    assert ids(CardFilter()) == [early, middle, theirs, late]
    assert ids(CardFilter(rep="ana")) == [early, middle, late]
    assert ids(CardFilter(since=T0 + day, until=T0 + 2 * day)) == [middle, theirs]
    assert ids(CardFilter(outcomes=frozenset({Outcome.REJECTED, Outcome.INSERTED}))) == [early, late]
    assert ids(CardFilter(kinds=frozenset({Kind.SUGGESTION}), rep="ana")) == [early, late]
    assert ids(CardFilter(conversation_id="c2")) == [middle]
    assert records.outcomes(CardFilter(kinds=frozenset({Kind.SUGGESTION}))) == {
        Outcome.REJECTED: 1,
        Outcome.INSERTED: 1,
        Outcome.DISPLAYED: 1,
    }
    assert records.outcomes(CardFilter(rep="nobody")) == {}
