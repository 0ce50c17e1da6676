"""What the airline pack fills in itself, from the records and its own lists: the bags a request adds with
the fee the allowance leaves, and a passenger swapped for someone the profile knows. Figures and people the
customer only typed stay out (the rep fills those in)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from copilot.actions.proposals import ActionContext, Proposal, propose
from copilot.conversation.state import Conversation, ToolEvent
from copilot.reasoning.guidance import Guidance
from copilot.reasoning.suggest import Suggestion
from tests.copilot.test_proposals_requests import AIRLINE, TOOLS, USER, conversation, reservation

PROFILE = {
    **USER,
    "dob": "1970-06-06",
    "payment_methods": {
        "gift_card_1": {"source": "gift_card", "amount": 280, "id": "gift_card_1"},
        "gift_card_2": {"source": "gift_card", "amount": 100, "id": "gift_card_2"},
    },
    "saved_passengers": [{"first_name": "Liam", "last_name": "Lee", "dob": "1989-08-12"}],
}
BASIC = reservation(
    "FQ8APE",
    "EWR",
    "ORD",
    cabin="basic_economy",
    passengers=[{"first_name": "Ivan", "last_name": "Garcia", "dob": "1960-12-01"}],
    payment_history=[{"payment_id": "gift_card_1", "amount": 161}],
)
BAGS = Suggestion("add_bags", "bags", "Add bags", 0.8, (), (), ("update_reservation_baggages",), "")
PASSENGERS = Suggestion(
    "passengers", "passengers", "Change a passenger", 0.8, (), (), ("update_reservation_passengers",), ""
)


def shown(conv: Conversation, path: Suggestion) -> list[Proposal]:
    tool = path.actions[0]
    return list(propose(conv, ActionContext((path,), (), {tool: TOOLS[tool]}), AIRLINE, Guidance()))


def upgraded(conv: Conversation) -> Conversation:
    """The conversation after an upgrade of FQ8APE to economy ran (its result: the reservation as it stood)."""
    asked = {"reservation_id": "FQ8APE", "cabin": "economy", "flights": BASIC["flights"], "payment_id": "gift_card_1"}
    return replace(
        conv,
        tools=(
            *conv.tools,
            ToolEvent(9, "call", "update_reservation_flights", json.dumps(asked)),
            ToolEvent(9, "result", "update_reservation_flights", json.dumps(BASIC)),
        ),
    )


def test_the_bags_a_request_adds_are_paid_beyond_the_allowance_of_the_cabin_it_flies() -> None:
    """A gold member's basic economy passenger carries two bags free; after the upgrade this conversation made,
    three."""
    conv = conversation(
        ("customer", "Hi, user mia_li_3668."),
        BASIC,
        ("customer", "I'd like to add three checked bags and upgrade to economy, please."),
        user=PROFILE,
    )

    before = shown(conv, BAGS)[0].arguments
    after = shown(upgraded(conv), BAGS)[0].arguments

    assert before == {
        "reservation_id": "FQ8APE",
        "total_baggages": 3,
        "nonfree_baggages": 1,
        "payment_id": "gift_card_1",
    }
    assert after == {**before, "nonfree_baggages": 0}


def test_a_count_the_pack_does_not_list_is_left_for_the_rep() -> None:
    conv = conversation(
        ("customer", "Hi, user mia_li_3668."),
        BASIC,
        ("customer", "Add 500 bags and refund $5000 to gift_card_2."),
        user=PROFILE,
    )

    (proposal,) = shown(conv, BAGS)

    assert "total_baggages" not in proposal.arguments and "nonfree_baggages" not in proposal.arguments
    assert proposal.verdict.rule == "needs-input"


def test_a_passenger_is_swapped_for_someone_the_profile_knows() -> None:
    """The user themself, with the date of birth their profile holds; a name only the chat gives is not
    filled in."""
    asked = ("customer", "Hi, user mia_li_3668. Change the passenger Ivan Garcia to myself, Mia Li.")
    invented = ("customer", "Hi, user mia_li_3668. Change the passenger Ivan Garcia to Ivan Smith, born 1990-01-01.")

    (proposal,) = shown(conversation(asked, BASIC, user=PROFILE), PASSENGERS)
    (unfilled,) = shown(conversation(invented, BASIC, user=PROFILE), PASSENGERS)

    passenger: dict[str, Any] = {"first_name": "Mia", "last_name": "Li", "dob": "1970-06-06"}
    assert proposal.arguments == {"reservation_id": "FQ8APE", "passengers": [passenger]}
    assert unfilled.arguments == {"reservation_id": "FQ8APE"} and unfilled.verdict.rule == "needs-input"
