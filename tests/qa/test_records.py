"""QA over the records (SQLite and a real PostgreSQL server): what reps sent, the flags and escalations the
panel showed and what they did with them, written through the Records API as the panel writes them."""

from __future__ import annotations

from datetime import UTC, datetime

from cli.qa import run_qa
from copilot.qa.policy import QaPolicy
from copilot.records.models import Kind, Outcome, Reason
from copilot.records.store import Records, Shown

AT = datetime(2026, 11, 20, 10, tzinfo=UTC)
PACKS = ("northwind-retail@2025.6",)


def quiet(label: str, total: int) -> object:
    return lambda done: None


def record(
    records: Records, conversation: str, sent: str, citations: tuple[str, ...], flag: Outcome, escalation: Outcome
) -> None:
    draft, steer, legal = records.cards_shown(
        [
            Shown(conversation, 1, Kind.DRAFT, "reply", sent, citations, PACKS, 40.0, "refund_status"),
            Shown(
                conversation,
                1,
                Kind.FLAG,
                "chargeback-steering",
                "Don't steer to a chargeback",
                (),
                PACKS,
                40.0,
                "refund_status",
            ),
            Shown(conversation, 1, Kind.ESCALATION, "legal_threat", "Legal team", (), PACKS, 40.0, "refund_status"),
        ],
        AT,
    )
    records.card_decided(draft, Outcome.SENT, sent=sent)
    records.card_decided(steer, flag, reason=Reason.WRONG if flag == Outcome.REJECTED else None)
    records.card_decided(legal, escalation, reason=Reason.NOT_RELEVANT if escalation == Outcome.REJECTED else None)


def test_qa_over_records(records_url: str, demo_qa: QaPolicy) -> None:
    records = Records.open(records_url, rep="ana")
    try:
        record(records, "bad", "I'll refund you today.", (), Outcome.IGNORED, Outcome.IGNORED)
        record(
            records,
            "good",
            "I'll refund you today.",
            ("northwind-retail@2025.6#refunds.timing",),
            Outcome.REJECTED,
            Outcome.INSERTED,
        )
    finally:
        records.close()
    report = run_qa(records_url, demo_qa, 20, quiet)
    checks = report.record()["checks"]
    assert report.conversations == 2
    assert {key: (c["applies"], c["passed"]) for key, c in checks.items()} == {
        "ai-disclosure": (0, 0),  # the records keep no region
        "identity-before-change": (0, 0),
        "commitments-backed": (2, 1),  # the cited clause backs the good one
        "flags-resolved": (1, 0),  # the rejected flag was the rep's to dismiss
        "escalation-made": (2, 1),  # the inserted escalation was followed
        "action-confirmed": (0, 0),  # the records keep no calls
    }
    failing = {f["check"]: f["conversation"] for c in checks.values() for f in c["failures"]}
    assert failing == {"commitments-backed": "bad", "flags-resolved": "bad", "escalation-made": "bad"}
    assert report.record()["root_causes"] == {"billing-error": 2, "service-failure": 2}  # refunds; the legal threat
