"""The right party: the person writing, the account holders the lookups found and the third parties the
customer names are told apart, and an action acts on the account the case is about, saying whose it is."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from copilot.actions.customer import parties
from copilot.actions.proposals import ActionContext, Proposal, propose
from copilot.conversation.state import Conversation, ToolEvent, Turn
from copilot.reasoning.escalation import Escalation
from copilot.reasoning.guidance import Guidance
from copilot.reasoning.suggest import Suggestion
from tests.conftest import DEMO_POLICY, DEMO_TOOLS, DEMO_WRITE_TOOLS

HELEN = {"customer_id": "C-1004", "name": "Helen Carter", "plus_member": False, "currency": "USD"}
MARGARET = {"customer_id": "CU-20731", "name": "Margaret Carter", "plus_member": True, "currency": "USD"}
CASE = Suggestion("bereavement", "bereavement", "Open a bereavement case", 0.8, (), (), ("create_ticket",), "")
GRIEF = Escalation("bereavement", 1, "My mother passed away", queue="Specialist care team")


def conversation(
    *events: tuple[str, str] | tuple[str, str, dict[str, Any]], writer: str = "Helen Carter"
) -> Conversation:
    """A conversation of messages (role, text) and lookups (tool, query, answer), in order."""
    turns: list[Turn] = []
    tools: list[ToolEvent] = []
    for seq, event in enumerate(events, start=1):
        if len(event) == 2:
            turns.append(Turn(seq, event[0], event[1]))
        else:
            tool, query, answer = event
            tools += [
                ToolEvent(seq, "call", tool, json.dumps({"query": query})),
                ToolEvent(seq, "result", tool, json.dumps(answer)),
            ]
    return Conversation(id="party", customer_name=writer, turns=tuple(turns), tools=tuple(tools))


def proposed(conv: Conversation) -> list[Proposal]:
    tools = {name: info for name, info in DEMO_TOOLS.items() if name in DEMO_WRITE_TOOLS}
    context = ActionContext((CASE,), (GRIEF,), tools)
    return list(propose(conv, context, DEMO_POLICY, Guidance()))


MOTHER = "Hello. My mother passed away last month and she had an account with you. I'm trying to close everything."


def test_nothing_is_proposed_for_the_writers_own_account_when_the_case_is_about_her_late_mother() -> None:
    before = conversation(("customer", MOTHER), ("find_customer", "Helen Carter", HELEN))

    assert [p for p in proposed(before) if p.arguments.get("customer_id") == "C-1004"] == []

    after = conversation(
        ("customer", MOTHER),
        ("find_customer", "Helen Carter", HELEN),
        ("rep", "Could you tell me the email address on her account?"),
        ("customer", "it's margaret.carter@example.com"),
        ("find_customer", "margaret.carter@example.com", MARGARET),
    )
    shown = proposed(after)

    assert {p.tool for p in shown} == {"create_ticket", "escalate_to_queue"}
    assert {p.arguments["customer_id"] for p in shown} == {"CU-20731"}
    assert {p.party for p in shown} == {"for Margaret Carter's account (the customer's late mother)"}


def test_the_writers_own_case_acts_on_their_own_account() -> None:
    conv = conversation(
        ("customer", "My husband says I was charged twice for my order, can you check my account?"),
        ("find_customer", "Helen Carter", HELEN),
    )
    known = parties(conv, DEMO_POLICY)

    assert known.named == ("the customer's husband",) and not known.theirs
    assert {p.party for p in proposed(conv)} == {"for Helen Carter's account (the customer's own)"}


def test_a_party_is_named_in_the_customers_words_not_the_reps() -> None:
    conv = conversation(("rep", "Is this about your late mother's account?"), ("find_customer", "Helen", HELEN))

    assert parties(conv, DEMO_POLICY).named == ()
    assert all(p.arguments.get("customer_id") == "C-1004" for p in proposed(conv))


def test_a_path_the_records_contradict_proposes_nothing() -> None:
    """A return "within the window" is not opened for an order the system shows delivered 41 days ago."""
    within = Suggestion(
        "return_in_window", "returns", "Within the window: create the return", 0.8, (), (), ("create_ticket",), ""
    )

    def tickets(delivered: str) -> list[Proposal]:
        order = {"order_id": "NW-10482", "customer_id": "C-1012", "status": "delivered", "delivered_at": delivered}
        conv = Conversation(
            id="window",
            turns=(Turn(1, "customer", "I want to return NW-10482", datetime(2026, 11, 20, 12, tzinfo=UTC)),),
            tools=(ToolEvent(1, "result", "get_order", json.dumps(order)),),
        )
        context = ActionContext((within,), (), {"create_ticket": DEMO_TOOLS["create_ticket"]})
        return list(propose(conv, context, DEMO_POLICY, Guidance()))

    assert tickets("2026-10-10") == []
    assert [p.arguments["subject"] for p in tickets("2026-11-10")] == ["Within the window: create the return"]
