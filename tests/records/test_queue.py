"""The review queue: what needs a lead's eye, and dismissing, coaching and raising change requests."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from base.errors import RecordsError
from copilot.reasoning.claims import Unsupported
from copilot.records.models import Concern, Kind, Outcome, Reason, RequestState
from copilot.records.queue import change_requests, close_request, coach, dismiss, items, request_change
from copilot.records.store import Records, Shown

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PACK = "northwind-retail@2025.6"
CLAUSE = f"{PACK}#refunds.window"


@pytest.fixture
def records(records_url: str) -> Iterator[Records]:
    """Ana's desk after one conversation with one of each concern, and cards that are fine."""
    ana = Records.open(records_url, rep="ana")
    cited = (CLAUSE,)

    def card(seq: int, kind: Kind, key: str, text: str) -> Shown:
        return Shown("c1", seq, kind, key, text, cited, (PACK,), 200, "refund_status")

    ids = ana.cards_shown(
        [
            card(1, Kind.CLAUSE, CLAUSE, "Refunds within 30 days."),
            card(1, Kind.SUGGESTION, "Offer store credit", "We can offer store credit."),
            card(1, Kind.DRAFT, "reply", "Your refund of $40 is on its way to you today."),
            card(1, Kind.ESCALATION, "legal_threat", "Legal team"),
        ],
        at=T0,
    )
    clause, suggestion, draft, escalation = ids
    later = T0 + timedelta(seconds=5)
    ana.card_decided(clause, Outcome.REJECTED, reason=Reason.OUTDATED, at=later)
    ana.card_decided(suggestion, Outcome.REJECTED, reason=Reason.TONE, at=later)
    ana.card_decided(draft, Outcome.SENT, sent="We cannot refund this order, sorry.", at=later)
    ana.card_decided(escalation, Outcome.REJECTED, reason=Reason.NOT_RELEVANT, at=later)
    [fine] = ana.cards_shown([card(2, Kind.DRAFT, "reply", "Is there anything else I can help with today?")], at=later)
    ana.card_decided(
        fine, Outcome.SENT, sent="Is there anything else I can help you with today?", at=later
    )  # a light edit: not a concern
    ana.journal.record_insert("c1", 2, "Refund of $500 today.", [])  # verified: not a concern
    ana.journal.record_insert(
        "c1", 3, "Refund of $500 today.", [Unsupported(10, 14, "$500", "no clause backs this amount")]
    )
    ana.lead_approved("c1", 3, "Refund $500 to the card ending 4242", "Lee", cited, at=later)
    yield ana
    ana.close()


def test_each_concern_is_queued_once_and_fine_records_are_not(records: Records) -> None:
    queued = items(records)
    assert sorted(item.concern for item in queued) == sorted(Concern)
    by = {item.concern: item for item in queued}
    assert by[Concern.CLAUSE_WRONG].clause == CLAUSE
    assert by[Concern.CLAUSE_WRONG].detail == "marked outdated"
    assert by[Concern.REJECTED].detail == "rejected: tone"
    assert by[Concern.REWRITTEN].sent == "We cannot refund this order, sorry."
    assert "rewritten" in by[Concern.REWRITTEN].detail
    assert by[Concern.OVERRIDE].detail == "not backed: '$500'"
    assert (by[Concern.NEEDED_LEAD].detail, by[Concern.NEEDED_LEAD].clause) == ("approved by Lee", CLAUSE)
    assert by[Concern.ESCALATION_SKIPPED].detail == "escalation to Legal team rejected"
    assert items(records, rep="bo") == []
    assert len(items(records, since=T0 + timedelta(seconds=1))) == 2  # the override and the approval


def test_dismissing_takes_an_item_out_and_a_second_verdict_is_refused(records: Records) -> None:
    [item] = [i for i in items(records) if i.concern is Concern.REJECTED]
    dismiss(records, item, lead="Lee")
    assert item not in items(records)
    with pytest.raises(RecordsError, match="Lee already dismissed this rejected item"):
        coach(records, item, lead="Kim", note="Try the suggestion.")


def test_coaching_reaches_the_rep_once(records: Records, records_url: str) -> None:
    [item] = [i for i in items(records) if i.concern is Concern.REWRITTEN]
    with pytest.raises(RecordsError, match="needs some words"):
        coach(records, item, lead="Lee", note="  ")
    coach(records, item, lead="Lee", note="The refund was due: send the draft's refund.")
    assert item not in items(records)
    bo = Records.open(records_url, rep="bo")
    assert bo.coaching_for() == []
    [note] = bo.coaching_for("ana")
    assert (note.lead, note.note, note.conversation_id) == ("Lee", "The refund was due: send the draft's refund.", "c1")
    records.coaching_seen([note.id])
    assert records.coaching_for() == []
    bo.close()


def test_a_change_request_keeps_its_evidence_for_the_admins(records: Records) -> None:
    by = {item.concern: item for item in items(records)}
    with pytest.raises(RecordsError, match="cites no clause: name the clause"):
        request_change(records, by[Concern.OVERRIDE], lead="Lee", note="Amounts need a clause")
    request_change(records, by[Concern.CLAUSE_WRONG], lead="Lee", note="The window is 60 days since March.")
    [request] = change_requests(records)
    assert (request.clause, request.packs, request.lead, request.state) == (CLAUSE, [PACK], "Lee", RequestState.OPEN)
    [evidence] = request.evidence
    assert (evidence["conversation_id"], evidence["seq"], evidence["rep"]) == ("c1", 1, "ana")
    assert (evidence["concern"], evidence["shown"]) == ("clause_wrong", "Refunds within 30 days.")
    other = request_change(records, by[Concern.OVERRIDE], lead="Lee", note="Amounts", clause=f"{PACK}#amounts")
    close_request(records, request.id, RequestState.ACCEPTED, admin="Ada")
    assert [r.clause for r in change_requests(records)] == [other.clause]
    [closed] = change_requests(records, RequestState.ACCEPTED)
    assert (closed.closed_by, closed.closed_at is not None) == ("Ada", True)
    with pytest.raises(RecordsError, match="no change request 999"):
        close_request(records, 999, RequestState.DECLINED, admin="Ada")
