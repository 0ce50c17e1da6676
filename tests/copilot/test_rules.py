"""Compliance rules: each category on positive and negative rep texts, judged with earlier turns as context,
with the checks as a pack's rules.toml [checks] configures them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from copilot.conversation.state import Conversation, Turn
from copilot.reasoner import workspace_clauses
from copilot.reasoning.claims import ClauseFinder, Unsupported, quantities, verify
from copilot.reasoning.facts import gather
from copilot.reasoning.guidance import merge, record_patterns
from copilot.reasoning.rules import Checks, Draft, Enforced, Flag, evaluate
from copilot.reasoning.signals import extract_entities
from copilot.settings import DEMO_PACK, RESOURCES
from copilot.workspace import Workspace
from retrieval.packs import load_pack


def checks_of(folder: Path) -> Checks:
    """The built-in checks as the pack in ``folder`` configures them, read the way the app reads them."""
    pack = load_pack(folder)
    return merge([(pack.key, pack.guidance, {c.id for c in pack.clauses})]).checks


DEMO = checks_of(DEMO_PACK)
AIRLINE = checks_of(RESOURCES / "packs" / "airline")


def draft(text: str, *context: tuple[str, str], jurisdiction: str = "US-NY", ai: bool = False) -> Draft:
    return Draft(text, tuple(Turn(i + 1, role, t) for i, (role, t) in enumerate(context)), jurisdiction, ai)


def flagged(d: Draft, checks: Checks = DEMO) -> list[str]:
    return sorted(f.category for f in evaluate(d, checks))


def flags(d: Draft, checks: Checks) -> dict[str, Flag]:
    return {f.category: f for f in evaluate(d, checks)}


def test_ai_disclosure_depends_on_region_and_earlier_disclosure() -> None:
    assert flagged(draft("Your refund is on its way.", jurisdiction="US-CA", ai=True)) == ["ai_disclosure_missing"]
    assert flagged(draft("Your refund is on its way.", jurisdiction="EU-DE", ai=True)) == ["ai_disclosure_missing"]
    assert flagged(draft("Your refund is on its way.", jurisdiction="US-TX", ai=True)) == []
    assert flagged(draft("Your refund is on its way.", jurisdiction="US-CA", ai=False)) == []
    told = ("rep", "Just so you know, I'm using an AI assistant to help draft some of my replies.")
    assert flagged(draft("Your refund is on its way.", told, jurisdiction="US-CA", ai=True)) == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("I guarantee it will arrive tomorrow.", ["forbidden_commitment"]),
        ("Honestly you should sue them, you'd win.", ["forbidden_commitment"]),
        ("I can't promise a date, but the carrier estimates Friday.", []),
        ("I'm not able to give legal advice, but Citizens Advice can help.", []),
        ("Please send me your full card number and the CVV.", ["sensitive_data"]),
        ("It was card 4929 1234 5678 9012.", ["sensitive_data"]),
        ("Could you confirm the last 4 digits of your card?", []),
        ("Please don't share your card number here, I've removed it.", []),
        ("I've waived the $30 you owe.", ["regulated_action"]),
        ("I can't waive the balance myself, but I can ask billing to review it.", []),
        ("It's perfectly safe to keep using it with a pacemaker.", ["forbidden_commitment"]),
        ("Yes, you can reclaim the VAT on your next return.", ["forbidden_commitment"]),
        ("Please pop your current password in the chat.", ["sensitive_data"]),
        ("What's the 3-digit code on the back?", ["sensitive_data"]),
        ("Your temporary password is Birch#88.", ["sensitive_data"]),
        ("Let's call it even, I've marked the plan as paid in full.", ["regulated_action"]),
        ("I've lifted the fraud hold so it will ship.", ["regulated_action"]),
        ("I've added your husband as an authorised user on the account.", ["regulated_action"]),
        (
            "I'm not able to add someone to your account over chat; you can add him as an authorised user in Settings.",
            [],
        ),
        ("Just run it under cold water, it'll heal up fine, no need to see anyone.", ["forbidden_commitment"]),
        ("Your account will never be restricted, that's a promise.", ["forbidden_commitment"]),
        ("Could you share the three-digit code from the back of the card?", ["sensitive_data"]),
        ("Done, I've removed the collections marker from your account.", ["regulated_action"]),
        ("I'll bypass the verification check and push it through.", ["regulated_action"]),
        ("Ownership changes have to be reviewed by our team, so I've raised a request.", []),
    ],
)
def test_commitments_secrets_and_regulated_actions(text: str, expected: list[str]) -> None:
    assert flagged(draft(text)) == expected


def test_closing_a_deceased_customers_account_needs_documents() -> None:
    death = ("customer", "My mother died last month, please close her account.")
    assert flagged(draft("I've closed her account for you now.", death)) == ["regulated_action"]
    documents = ("customer", "I've uploaded the death certificate.")
    received = ("rep", "Thank you, we've received the death certificate.")
    assert flagged(draft("I've closed her account for you now.", death, documents, received)) == []


def test_account_changes_need_verification_first() -> None:
    asked = ("customer", "Please change my address to 41 Cedar Ave.")
    assert flagged(draft("Done, I've updated your address to 41 Cedar Ave.", asked)) == ["identity_not_verified"]
    verified = ("rep", "Thanks, that matches. You're verified.")
    assert flagged(draft("Done, I've updated your address to 41 Cedar Ave.", asked, verified)) == []
    card = ("customer", "Please take my old visa off and make the amex the default.")
    assert flagged(draft("Done, the Amex is your default payment method now.", card)) == ["identity_not_verified"]
    moved = ("customer", "My phone number has changed.")
    assert flagged(draft("No problem, what's the new number? I'll update it straight away.", moved)) == [
        "identity_not_verified"
    ]
    assert (
        flagged(draft("You can change it yourself under Settings, or I can send you a one-time code first.", moved))
        == []
    )
    ssn = ("customer", "You need my SSN for the financing?")
    assert flagged(draft("Yep, just type the full number here.", ssn)) == ["sensitive_data"]
    code = ("rep", "I've confirmed your identity with that code, thanks.")
    assert flagged(draft("Updated, future orders will go to 88 Atlantic Ave.", asked, code)) == []


def unbacked(find: ClauseFinder) -> Callable[[Draft], list[Unsupported]]:
    """The figures of a draft that neither the clauses its sentences are about nor its conversation back."""
    return lambda d: verify(d.text, (), [t.text for t in d.context], d.jurisdiction, find)


def test_figures_must_be_backed_by_a_clause_or_the_conversation(workspace: Workspace) -> None:
    rule = unbacked(workspace_clauses(workspace))
    assert rule(draft("Refunds take 2 business days once we receive the item."))
    assert rule(draft("I've added a $150 goodwill credit for the trouble."))
    assert not rule(draft("I've added a $20 goodwill credit for the trouble."))
    assert not rule(draft("Refunds are issued within 5 business days after we receive the return."))
    lookup = ("rep", "Order NW-10482, total $129.00.")
    assert not rule(draft("Your refund of $129 goes back to your card.", lookup))
    assert rule(draft("You should have it by the 18th."))
    assert not rule(draft("Yes, it should arrive by the 18th.", ("rep", "The tracking shows delivery on Nov 18.")))
    assert rule(draft("The TV comes with a three-year warranty."))
    assert [q.text for q in quantities("up to $25 / £20 / €25, within 30 days, 10%", ranges=True)] == [
        "$25",
        "£20",
        "€25",
        "30 days",
        "10%",
    ]


def test_an_amount_that_needs_approval_is_not_backed_for_the_rep(workspace: Workspace) -> None:
    rule = unbacked(workspace_clauses(workspace))
    assert rule(draft("I've added a $50 goodwill credit for the trouble."))


def test_entities_found_in_a_message() -> None:
    found = extract_entities("Order ORD-10482: refund $129.00 to ana@example.com, card 4111 1111 1111 1111")
    assert found.order_ids == ("ORD-10482",) and found.emails == ("ana@example.com",)
    assert [str(m.amount) for m in found.money] == ["129.00"] and found.card_numbers == ("4111 1111 1111 1111",)


def test_each_flag_cites_the_clause_its_pack_names_for_the_check() -> None:
    promise = draft("I guarantee it will arrive tomorrow.")
    assert flags(promise, DEMO)["forbidden_commitment"].clause == "conduct.no-guarantees"
    assert flags(promise, AIRLINE)["forbidden_commitment"].clause == "general.information-from-tools"
    waiver = draft("I've waived the $30 you owe.")
    assert flags(waiver, DEMO)["regulated_action"].clause == "escalation.when"
    chargeback = draft("I'll cancel the chargeback for you.")
    assert flags(chargeback, DEMO)["regulated_action"].clause == "billing.chargeback-filed"
    card = draft("Please send me your full card number and the CVV.")
    assert flags(card, DEMO)["sensitive_data"].clause == "security.no-secrets"
    assert flags(card, AIRLINE)["sensitive_data"].clause == "payment.in-profile"


def test_a_check_no_pack_names_a_clause_for_does_not_run_unless_it_guards_against_harm() -> None:
    change = draft("Done, I've updated your address to 41 Cedar Ave.", ("customer", "Please change my address."))
    assert flagged(change) == ["identity_not_verified"]
    assert flagged(change, AIRLINE) == []  # the airline identifies by user id through its tools
    assert flagged(draft("I've waived the $30 you owe."), AIRLINE) == []
    assert flagged(draft("I guarantee it will arrive tomorrow."), Checks()) == []
    secret = flags(draft("Please send me your full card number and the CVV."), Checks())["sensitive_data"]
    assert (secret.rule, secret.clause, secret.severity) == ("no-secrets-asked", "", "error")
    told = flags(draft("Your refund is on its way.", jurisdiction="US-CA", ai=True), Checks())
    assert told["ai_disclosure_missing"].clause == ""


def test_a_pack_may_say_a_check_in_its_own_words() -> None:
    change = draft("Done, I've updated your address to 41 Cedar Ave.", ("customer", "Please change my address."))
    demo = flags(change, DEMO)["identity_not_verified"]
    assert "code to the email on file" in demo.message and demo.clause == "security.verification-required"
    own = Checks({"identity_before_change": Enforced("kyc.before-change", "Run the KYC questions first.")})
    assert flags(change, own)["identity_not_verified"].message == "Run the KYC questions first."


def test_only_the_regulated_actions_a_pack_names_are_watched() -> None:
    owner = draft("I've added your husband as an authorised user on the account.")
    both = "I've added your husband as an authorised user on the account, and waived the $30 you owe."
    waivers = Checks({"balance_waiver": Enforced("fees.waivers")})
    assert flagged(owner, waivers) == []
    waived = flags(draft(both), waivers)["regulated_action"]
    assert (waived.clause, waived.message) == (
        "fees.waivers",
        "Waiving a balance needs a review first; escalate instead of agreeing.",
    )


def test_a_company_s_own_id_format_comes_from_its_pack() -> None:
    """The engine knows no company's ids: the demo pack's systems.toml says what its order ids look like."""
    patterns = record_patterns((DEMO_PACK / "systems.toml").read_text())
    conversation = Conversation("c", turns=(Turn(1, "customer", "Where is nw-10482? And NW-10490, sorry", None),))
    assert gather(conversation).get("order_id") is None
    assert gather(conversation, id_patterns=patterns).get("order_id") == "NW-10490"
