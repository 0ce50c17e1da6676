"""Proposals for what the customer asked, with the airline pack: the record a customer describes without its
id, several records one request names, and a request the paths shown do not cover (all judged by the pack's
rules as any proposal)."""

from __future__ import annotations

import json
from typing import Any

from connectors.contract import ToolInfo
from copilot.action_policy import pack_policy
from copilot.actions.judge import Judge, Situation
from copilot.actions.proposals import ActionContext, Proposal, offer_accepted, propose, request_of, requested
from copilot.conversation.state import Conversation, ToolEvent, Turn
from copilot.reasoning.guidance import Guidance
from copilot.reasoning.suggest import Suggestion
from retrieval.packs import load_pack
from tests.conftest import REPO

AIRLINE = pack_policy(load_pack(REPO / "resources" / "packs" / "airline"), "airline")
SCHEMAS = json.loads((REPO / "tests" / "fixtures" / "airline" / "tool_schemas.json").read_text())
TOOLS = {s["name"]: ToolInfo(s["name"], s["description"], s["parameters"]) for s in SCHEMAS}
USER = {"user_id": "mia_li_3668", "name": {"first_name": "Mia", "last_name": "Li"}, "membership": "gold"}


def reservation(rid: str, origin: str, destination: str, **fields: Any) -> dict[str, Any]:
    flight = {"flight_number": "HAT001", "date": "2024-05-20", "origin": origin, "destination": destination}
    return {
        "reservation_id": rid,
        "user_id": "mia_li_3668",
        "origin": origin,
        "destination": destination,
        "flight_type": "one_way",
        "cabin": "economy",
        "flights": [{**flight, "price": 100}],
        "passengers": [{"first_name": "Mia", "last_name": "Li", "dob": "1990-04-05"}],
        "payment_history": [],
        "created_at": "2024-05-01T10:00:00",
        "total_baggages": 0,
        "nonfree_baggages": 0,
        "insurance": "yes",
        **fields,
    }


def conversation(*events: tuple[str, str] | dict[str, Any], user: dict[str, Any] = USER) -> Conversation:
    """Messages (role, text), reservations and flight statuses read (their records), in order; the user is
    looked up first."""
    turns: list[Turn] = []
    tools = [
        ToolEvent(0, "call", "get_user_details", json.dumps({"user_id": user["user_id"]})),
        ToolEvent(0, "result", "get_user_details", json.dumps(user)),
    ]
    for seq, event in enumerate(events, start=1):
        if isinstance(event, dict) and "result" in event:  # a flight's status
            asked = {"flight_number": event["flight_number"], "date": event["date"]}
            tools += [
                ToolEvent(seq, "call", "get_flight_status", json.dumps(asked)),
                ToolEvent(seq, "result", "get_flight_status", json.dumps({"result": event["result"]})),
            ]
        elif isinstance(event, dict):
            asked = {"reservation_id": event["reservation_id"]}
            tools += [
                ToolEvent(seq, "call", "get_reservation_details", json.dumps(asked)),
                ToolEvent(seq, "result", "get_reservation_details", json.dumps(event)),
            ]
        else:
            turns.append(Turn(seq, *event))
    return Conversation(id="requests", turns=tuple(turns), tools=tuple(tools))


def cancels(conv: Conversation, *paths: Suggestion) -> list[str]:
    context = ActionContext(paths, (), {"cancel_reservation": TOOLS["cancel_reservation"]})
    shown: list[Proposal] = list(propose(conv, context, AIRLINE, Guidance()))
    return [p.arguments["reservation_id"] for p in shown if p.tool == "cancel_reservation"]


CANCEL = Suggestion("cancel_reservation", "cancel", "Cancel a reservation", 0.8, (), (), ("cancel_reservation",), "")
CABIN = Suggestion("change_cabin", "cabin", "Change the cabin", 0.8, (), (), ("update_reservation_flights",), "")


def test_a_record_described_by_its_route_is_the_one_in_question() -> None:
    conv = conversation(
        ("customer", "I need to cancel one of my flights, user mia_li_3668."),
        reservation("AAA111", "ATL", "JFK"),
        reservation("BBB222", "DEN", "BOS"),
        reservation("CCC333", "SEA", "LAX"),
        ("customer", "The flight from DEN to BOS is the one. Let's cancel that."),
    )

    assert cancels(conv, CANCEL) == ["BBB222"]


def test_every_record_a_request_names_gets_its_proposal() -> None:
    conv = conversation(
        ("customer", "Please cancel AAA111 and BBB222, user mia_li_3668. Is CCC333 on time?"),
        reservation("AAA111", "ATL", "JFK"),
        reservation("BBB222", "DEN", "BOS"),
        reservation("CCC333", "SEA", "LAX"),
    )

    assert sorted(cancels(conv, CANCEL)) == ["AAA111", "BBB222"]


def test_a_request_the_paths_do_not_cover_is_proposed_when_it_names_what_it_acts_on() -> None:
    """ "Upgrade AAA111, then cancel BBB222" shows the cabin paths; the cancellation is asked for all the same
    and stays proposed when the customer's next message only says yes. The rules still judge it: a
    reservation no rule lets the agent cancel is not proposed."""
    asked = ("customer", "I'd like to upgrade AAA111 to business, then cancel BBB222. User mia_li_3668.")
    records = (reservation("AAA111", "ATL", "JFK"), reservation("BBB222", "DEN", "BOS"))

    assert cancels(conversation(asked, *records), CABIN) == ["BBB222"]
    assert cancels(conversation(asked, *records, ("rep", "Shall I?"), ("customer", "Yes, go ahead.")), CABIN) == [
        "BBB222"
    ]
    assert cancels(conversation(asked, *records, ("customer", "Also, what about my bags?")), CABIN) == []
    uninsured = (
        reservation("AAA111", "ATL", "JFK"),
        reservation("BBB222", "DEN", "BOS", insurance="no"),
        {"flight_number": "HAT001", "date": "2024-05-20", "result": "available"},
    )
    assert cancels(conversation(asked, *uninsured), CABIN) == []
    assert cancels(conversation(("customer", "Can I cancel my trip? user mia_li_3668"), *records), CABIN) == []


def test_request_of_reads_a_yes_with_the_request_it_confirms() -> None:
    conv = conversation(("customer", "Cancel BBB222 please"), ("rep", "Sure?"), ("customer", "Yes, please."))

    assert request_of(conv) == "Cancel BBB222 please\nYes, please."
    assert request_of(conversation(("customer", "Cancel BBB222"), ("customer", "and my bags?"))) == "and my bags?"
    assert requested(AIRLINE, "upgrade AAA111, then cancel BBB222.") == {"cancel_reservation": ("cancel", " BBB222")}
    assert requested(AIRLINE, "the airline cancelled my flight AAA111") == {}


def test_of_two_records_one_message_names_the_first_named_is_in_question() -> None:
    judge = Judge(AIRLINE, Situation(turns=[("customer", "First upgrade XEHM4B, then cancel it. Then cancel 59XX6W.")]))

    assert judge.mentioned(["XEHM4B", "59XX6W"]) == ["XEHM4B", "59XX6W"]
    assert judge.mentioned(["59XX6W", "XEHM4B"]) == ["XEHM4B", "59XX6W"]


def test_a_yes_to_the_reps_offer_asks_for_what_it_offers() -> None:
    """The transfer the rep offered is proposed when the customer says yes to it, not before or on a no."""
    tools = {"transfer_to_human_agents": TOOLS["transfer_to_human_agents"]}
    offer = ("rep", "I can't cancel it. Would you like me to transfer you to a human agent?")

    def transfers(*events: tuple[str, str] | dict[str, Any]) -> list[str]:
        conv = conversation(
            ("customer", "Cancel AAA111, user mia_li_3668"), reservation("AAA111", "ATL", "JFK"), *events
        )
        return [p.tool for p in propose(conv, ActionContext((), (), tools), AIRLINE, Guidance())]

    assert offer_accepted(conversation(offer, ("customer", "Yes, please."))) == offer[1]
    assert transfers(offer, ("customer", "Yes, please, I'm sure I bought insurance.")) == ["transfer_to_human_agents"]
    assert transfers(offer) == []
    assert transfers(offer, ("customer", "No, thanks. What about a voucher?")) == []
