"""Each QA check kind with a conversation that passes it and one that fails it, read from real event files
with the packs' own qa.toml."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from copilot.qa.checks import KIND_CHECKS, Result
from copilot.qa.policy import QaPolicy
from copilot.qa.transcript import detect, from_events
from tests.qa.conftest import write_conversation

DISCLOSED = "Hi Ana, just so you know, I'm using an AI assistant to help draft some of my replies."
VERIFIED = "Thank you, that matches. You're verified."
SPANISH_LINE = (
    "Le comento que uso un asistente de IA que me ayuda a redactar algunas respuestas. Una persona de nuestro "
    "equipo revisa cada mensaje antes de enviarlo."
)


def judge(policy: QaPolicy, check_id: str, path: Path) -> Result:
    check = next(c for c in policy.file.check if c.id == check_id)
    return KIND_CHECKS[check.kind](check, detect(from_events(path), policy), policy)


def verdicts(
    policy: QaPolicy, check_id: str, folder: Path, good: list[tuple[str, Any]], bad: list[tuple[str, Any]], **kw: str
) -> tuple[Result, Result]:
    return (
        judge(policy, check_id, write_conversation(folder, "good", good, **kw)),
        judge(policy, check_id, write_conversation(folder, "bad", bad, **kw)),
    )


def test_disclosure_where_required(demo_qa: QaPolicy, tmp_path: Path) -> None:
    good, bad = verdicts(
        demo_qa,
        "ai-disclosure",
        tmp_path,
        [("customer", "Where is my order?"), ("rep", DISCLOSED)],
        [("customer", "Where is my order?"), ("rep", "Hi Ana, let me check.")],
        jurisdiction="EU-DE",
    )
    assert good == []
    assert bad is not None and [f.seq for f in bad] == [2] and "EU-DE requires" in bad[0].reason
    assert bad[0].citation == "northwind-retail@2025.6#ai.disclosure-required"
    spanish = judge(
        demo_qa,
        "ai-disclosure",
        write_conversation(
            tmp_path,
            "es",
            [("rep", SPANISH_LINE)],
            jurisdiction="EU-ES",
        ),
    )
    assert spanish == []
    elsewhere = judge(
        demo_qa,
        "ai-disclosure",
        write_conversation(tmp_path, "uk", [("rep", "Hi Ana, let me check.")], jurisdiction="UK"),
    )
    assert elsewhere is None  # the UK is not among rules.toml's disclosure regions: the check does not apply


def test_identity_before_an_account_change(demo_qa: QaPolicy, tmp_path: Path) -> None:
    change = "Done, your account email is now ana@example.com."
    good, bad = verdicts(
        demo_qa,
        "identity-before-change",
        tmp_path,
        [("customer", "Change my email please"), ("rep", VERIFIED), ("rep", change)],
        [("customer", "Change my email please"), ("rep", change)],
    )
    assert good == []
    assert bad is not None and bad[0].seq == 2 and "your account email is now" in bad[0].reason
    by_tool = judge(
        demo_qa,
        "identity-before-change",
        write_conversation(tmp_path, "tool", [("call", ("update_shipping_address", {"order_id": "NW-10001"}))]),
    )
    assert by_tool is not None and "call of update_shipping_address" in by_tool[0].reason
    nothing = judge(
        demo_qa, "identity-before-change", write_conversation(tmp_path, "none", [("rep", "Happy to help.")])
    )
    assert nothing is None


def test_identity_by_the_airline_s_tools(airline_qa: QaPolicy, tmp_path: Path) -> None:
    good, bad = verdicts(
        airline_qa,
        "identity-before-change",
        tmp_path,
        [
            ("call", ("get_user_details", {"user_id": "mia_li_3668"})),
            ("call", ("get_reservation_details", {"reservation_id": "NO6JO3"})),
        ],
        [
            ("call", ("get_reservation_details", {"reservation_id": "NO6JO3"})),
            ("call", ("get_user_details", {"user_id": "mia_li_3668"})),
        ],
    )
    assert good == [] and bad is not None and bad[0].seq == 1


def test_commitments_backed_by_a_record_or_clause(demo_qa: QaPolicy, tmp_path: Path) -> None:
    order = '{"order_id": "NW-10482", "total": 74.90, "currency": "EUR"}'
    good, bad = verdicts(
        demo_qa,
        "commitments-backed",
        tmp_path,
        [
            ("call", ("get_order", {"order_id": "NW-10482"})),
            ("result", ("get_order", order)),
            ("call", ("refund_payment", {"order_id": "NW-10482"})),
            ("rep", "I've refunded 74.90 to your card."),
        ],
        [("rep", "I've refunded 250.00 to your card."), ("rep", "I'll refund you today.")],
    )
    assert good == []
    assert bad is not None and [f.seq for f in bad] == [1, 2]
    assert "250.00 backed by no record nor clause" in bad[0].reason
    assert "no action nor cited clause" in bad[1].reason
    from_clause = judge(
        demo_qa,
        "commitments-backed",
        write_conversation(tmp_path, "clause", [("rep", "You'll receive the refund within 5 business days.")]),
    )
    assert from_clause == [], "the refund timing clause says 5"


def test_flags_left_unresolved(demo_qa: QaPolicy, tmp_path: Path) -> None:
    steering = "You should just file a chargeback with your bank."
    good, bad = verdicts(
        demo_qa,
        "flags-resolved",
        tmp_path,
        [("rep", steering), ("rep", "Correction: please don't, a refund through us is faster.")],
        [("rep", steering), ("rep", "Anything else?")],
    )
    assert good == []
    assert bad is not None and bad[0].seq == 1 and "chargeback-steering" in bad[0].reason


def test_an_escalation_due_but_not_made(airline_qa: QaPolicy, tmp_path: Path) -> None:
    asks = ("customer", "I want to talk to a human agent now.")
    good, bad = verdicts(
        airline_qa,
        "escalation-made",
        tmp_path,
        [asks, ("call", ("transfer_to_human_agents", {"summary": "asks for a person"}))],
        [asks, ("rep", "I can help you with that myself.")],
    )
    assert good == []
    assert bad is not None and bad[0].seq == 1 and "human_request" in bad[0].reason
    said = judge(
        airline_qa,
        "escalation-made",
        write_conversation(tmp_path, "said", [asks, ("rep", "I'll transfer you to a human agent.")]),
    )
    assert said == []


def test_actions_need_the_customer_s_yes(airline_qa: QaPolicy, tmp_path: Path) -> None:
    listed = ("rep", "I'll cancel reservation NO6JO3 and refund $120 to your card. Shall I go ahead?")
    cancel = ("call", ("cancel_reservation", {"reservation_id": "NO6JO3"}))
    good, bad = verdicts(
        airline_qa,
        "action-confirmed",
        tmp_path,
        [("customer", "Cancel NO6JO3 please"), listed, ("customer", "Yes, please proceed."), cancel],
        [("customer", "Cancel NO6JO3 please"), listed, cancel],
    )
    assert good == []
    assert bad is not None and bad[0].seq == 3 and "cancel_reservation ran without the customer's yes" in bad[0].reason


def test_qa_toml_words_make_an_escalation_due(demo_qa: QaPolicy, tmp_path: Path) -> None:
    threat = ("customer", "This is the third time, I'm taking legal action.")
    good, bad = verdicts(
        demo_qa,
        "escalation-made",
        tmp_path,
        [threat, ("rep", "I've passed this to our team lead, who will contact you today.")],
        [threat, ("rep", "Sorry about that.")],
    )
    assert good == [] and bad is not None and "legal_threat" in bad[0].reason
