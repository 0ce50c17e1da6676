"""A lead's review: conversations by every filter, one conversation as a timeline, and the charts' numbers."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from copilot.records.models import Ending, Kind, Outcome, Reason
from copilot.records.review import ConversationFilter, charts, choices, conversations, timeline
from copilot.records.store import Records, Shown

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW, OLD = "northwind-retail@2025.6", "northwind-retail@2025.4"


def shown(conversation: str, seq: int, kind: Kind, key: str, text: str, pack: str, latency: float) -> Shown:
    return Shown(conversation, seq, kind, key, text, (f"{pack}#refunds.window",), (pack,), latency, "refund_status")


@pytest.fixture
def desks(records_url: str) -> Iterator[tuple[Records, Records]]:
    """Two reps' desks on one database: Ana's conversation c1 (escalated, edited draft) and Bo's c2 and c3."""
    ana, bo = Records.open(records_url, rep="ana"), Records.open(records_url, rep="bo")
    clause, flag, escalation, draft = ana.cards_shown(
        [
            shown("c1", 2, Kind.CLAUSE, f"{NEW}#refunds.window", "Refunds within 30 days.", NEW, 300),
            shown("c1", 2, Kind.FLAG, "promise-without-clause", "A date no clause backs.", NEW, 300),
            shown("c1", 2, Kind.ESCALATION, "legal_threat", "Legal team", NEW, 300),
            shown("c1", 2, Kind.DRAFT, "reply", "Your refund of $40 is on its way.", NEW, 300),
        ],
        at=T0,
    )
    ana.question_asked("c1", 2, "Where is my refund? I will sue.", relevance=0.71, answered=True, at=T0)
    ana.card_decided(draft, Outcome.SENT, sent="Your refund of $40 arrives on Friday.", at=T0 + timedelta(seconds=8))
    ana.ignore_undecided("c1", at=T0 + timedelta(seconds=9))
    ana.wrapup_recorded("c1", Ending.ESCALATED, ["carrier-delay"], "Refund late; legal threat.", at=T0)
    day2 = T0 + timedelta(days=1)
    suggestion, reply = bo.cards_shown(
        [
            shown("c2", 1, Kind.SUGGESTION, "Offer an exchange", "We can exchange it.", OLD, 900),
            shown("c2", 1, Kind.DRAFT, "reply", "Sorry it does not fit.", OLD, 900),
        ],
        at=day2,
    )
    bo.card_decided(suggestion, Outcome.REJECTED, reason=Reason.NOT_RELEVANT, at=day2 + timedelta(seconds=2))
    bo.card_decided(reply, Outcome.SENT, sent="Sorry it does not fit.", at=day2 + timedelta(seconds=4))
    [other] = bo.cards_shown([shown("c3", 1, Kind.DRAFT, "reply", "Hello!", OLD, 100)], at=day2 + timedelta(minutes=1))
    bo.card_decided(other, Outcome.SENT, sent="Hello!", at=day2 + timedelta(minutes=1, seconds=6))
    bo.wrapup_recorded("c2", Ending.RESOLVED, ["wrong-size"], "Exchanged.", at=day2)
    del clause, flag, escalation
    yield ana, bo
    ana.close()
    bo.close()


@pytest.mark.parametrize(
    ("which", "expected"),
    [
        (ConversationFilter(), ["c3", "c2", "c1"]),
        (ConversationFilter(rep="ana"), ["c1"]),
        (ConversationFilter(since=T0 + timedelta(hours=1)), ["c3", "c2"]),
        (ConversationFilter(until=T0 + timedelta(hours=1)), ["c1"]),
        (ConversationFilter(ending=Ending.RESOLVED), ["c2"]),
        (ConversationFilter(flag="promise-without-clause"), ["c1"]),
        (ConversationFilter(escalation="legal_threat"), ["c1"]),
        (ConversationFilter(root_cause="wrong-size"), ["c2"]),
        (ConversationFilter(root_cause="wrong"), []),
        (ConversationFilter(pack=OLD), ["c3", "c2"]),
        (ConversationFilter(rep="bo", root_cause="carrier-delay"), []),
    ],
)
def test_conversations_by_each_filter(
    desks: tuple[Records, Records], which: ConversationFilter, expected: list[str]
) -> None:
    assert [row.conversation_id for row in conversations(desks[0], which)] == expected


def test_a_conversation_row_sums_it_up(desks: tuple[Records, Records]) -> None:
    [row] = conversations(desks[0], ConversationFilter(rep="ana"))
    assert (row.reps, row.started, row.messages, row.cards) == (("ana",), T0, 1, 4)
    assert (row.accepted, row.advice, row.flags, row.escalations) == (
        1,
        1,
        ("promise-without-clause",),
        ("legal_threat",),
    )
    assert (row.ending, row.root_causes) == (Ending.ESCALATED, ("carrier-delay",))


def test_the_timeline_shows_each_card_beside_what_the_rep_sent(desks: tuple[Records, Records]) -> None:
    [step] = timeline(desks[0], "c1")
    assert (step.seq, step.question, step.sent) == (
        2,
        "Where is my refund? I will sue.",
        "Your refund of $40 arrives on Friday.",
    )
    assert [(c.kind, c.outcome) for c in step.cards] == [
        (Kind.CLAUSE, Outcome.IGNORED),
        (Kind.FLAG, Outcome.IGNORED),
        (Kind.ESCALATION, Outcome.IGNORED),
        (Kind.DRAFT, Outcome.EDITED),
    ]


def test_the_charts_numbers(desks: tuple[Records, Records]) -> None:
    found = charts(desks[0])
    day1, day2 = T0.date(), (T0 + timedelta(days=1)).date()
    assert found.acceptance_by_day == {day1: {Kind.DRAFT: 1.0}, day2: {Kind.SUGGESTION: 0.0, Kind.DRAFT: 1.0}}
    assert found.acceptance_by_rep == {"ana": {Kind.DRAFT: 1.0}, "bo": {Kind.SUGGESTION: 0.0, Kind.DRAFT: 1.0}}
    assert sum(found.edit_ratios) == 3  # the three drafts used; two as shown
    assert found.edit_ratios[0] == 2
    assert found.flags_by_rule == {"promise-without-clause": 1}
    assert found.escalations_by_reason == {"legal_threat": 1}
    assert found.root_causes == {"carrier-delay": 1, "wrong-size": 1}
    assert found.decision_ms_by_rep == {"ana": 8000.0, "bo": 4000.0}  # Bo: 2 s, 4 s and 6 s
    assert found.latency_p95_by_day[day1] == 300.0  # four cards of one message: one latency
    assert found.latency_p95_by_day[day2] == pytest.approx(860.0)  # messages at 900 and 100 ms
    only_bo = charts(desks[0], ConversationFilter(rep="bo"))
    assert list(only_bo.acceptance_by_rep) == ["bo"]


def test_the_filters_offer_what_the_records_hold(desks: tuple[Records, Records]) -> None:
    found = choices(desks[0])
    assert found["rep"] == ["ana", "bo"]
    assert (found["flag"], found["escalation"]) == (["promise-without-clause"], ["legal_threat"])
    assert (found["root_cause"], found["pack"]) == (["carrier-delay", "wrong-size"], [OLD, NEW])
