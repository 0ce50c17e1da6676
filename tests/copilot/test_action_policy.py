"""A pack's action policy: CEL guardrails compiled at load time (errors name file, line and rule), and the
desk's verdicts on a real MCP server (the airline fixture) — identity, ownership, argument schemas,
rules with their clauses, tools no rule describes, and plain-text answers."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest

from base.errors import PackError
from connectors.config import SystemConfig
from connectors.contract import ToolInfo
from connectors.mcp_client import McpSystem
from connectors.systems import Systems
from copilot.action_policy import ActionPolicy, pack_policy, parse_action_policy
from copilot.actions.desk import ActionDesk
from copilot.actions.judge import Judge, Situation, path_value
from retrieval.packs import load_pack
from tests.conftest import REPO

AIRLINE = REPO / "resources" / "packs" / "airline"
CLAUSES = {"cancel.eligibility", "payment.in-profile"}
SYSTEMS = """
[[identify]]
tool = "get_user_details"
by = ["user_id"]

[[record]]
name = "reservation"
tool = "get_reservation_details"
key = "reservation_id"
owner = "user_id"
"""


RECORDS = 'records = { reservation = "args.reservation_id" }'


def actions(rule: str, records: str = RECORDS, clause: str = "cancel.eligibility") -> str:
    return f"""
identity_clause = "cancel.eligibility"

[[tool]]
name = "cancel_reservation"
{records}

  [[tool.rule]]
  id = "the-rule"
  clause = "{clause}"
  {rule}
  message = "no"
"""


@pytest.mark.parametrize(
    ("rule", "records", "expected"),
    [
        ('require = "records.reservation.cabin =="', None, "actions.toml:9: rule the-rule: cannot parse"),
        (
            "require = \"reservation.cabin == 'business'\"",
            None,
            "actions.toml:9: rule the-rule: unknown name 'reservation'",
        ),
        ('require = "nosuch(args.x)"', None, "unknown name 'nosuch'"),
        ('require = "true"\n  when = "args.x >"', None, "rule the-rule: cannot parse"),
        ('require = "true"', 'records = { flight = "args.flight" }', "reads a record kind 'flight'"),
        ('require = "true"', "", "cites clause 'no.such-clause'"),
    ],
)
def test_rule_errors_are_found_when_the_pack_loads(rule: str, records: str | None, expected: str) -> None:
    text = actions(rule, records or RECORDS, "no.such-clause" if records == "" else "cancel.eligibility")
    files = {"systems.toml": SYSTEMS, "actions.toml": text}
    with pytest.raises(PackError) as raised:
        parse_action_policy(files, CLAUSES, "pack")
    assert expected in str(raised.value)


def test_field_and_pattern_errors_name_the_file_and_field() -> None:
    bad_pattern = SYSTEMS.replace('owner = "user_id"', 'owner = "user_id"\npattern = "[A-Z"')
    with pytest.raises(PackError, match=r"systems.toml:\d+: field 'record.0.pattern'"):
        parse_action_policy({"systems.toml": bad_pattern}, CLAUSES)
    with pytest.raises(PackError, match="clock"):
        parse_action_policy({"actions.toml": 'clock = "2024-05-15T15:00:00"'}, CLAUSES)


FLIGHT_STATUS = """
[[record]]
name = "flight_status"
tool = "get_flight_status"
keys = ["flight_number", "date"]
"""


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (
            FLIGHT_STATUS.replace("keys = [", "key = 'flight_number'\nkeys = ["),
            "systems.toml:13: record kind 'flight_status' has both key and keys",
        ),
        (FLIGHT_STATUS.replace('keys = ["flight_number", "date"]', ""), "has neither key nor keys. Fix: write key"),
        (
            FLIGHT_STATUS + 'pattern = "HAT\\\\d{3}"',
            "systems.toml:13: record kind 'flight_status' has pattern but several keys",
        ),
        (FLIGHT_STATUS.replace('"date"]', '"date", "date"]'), "repeats a key"),
        (FLIGHT_STATUS + FLIGHT_STATUS, "systems.toml:18: record kind 'flight_status' is declared twice"),
    ],
)
def test_record_kind_errors_name_the_line_of_the_kind(kind: str, expected: str) -> None:
    with pytest.raises(PackError) as raised:
        parse_action_policy({"systems.toml": SYSTEMS + kind}, CLAUSES)
    assert expected in str(raised.value)


def test_the_airline_pack_compiles() -> None:
    policy = pack_policy(load_pack(AIRLINE), str(AIRLINE))
    assert "cancel_reservation" in policy.tools
    assert policy.kinds["reservation"].owner == "user_id"


def test_dotted_paths_reach_into_nested_objects_and_lists() -> None:
    record = {"a": {"b": [{"c": 1}, {"c": 2}]}}
    assert path_value(record, "a.b.1.c") == 2
    assert path_value(record, "a.x.c") is None


def airline(tmp_path: Path) -> Systems:
    command = (sys.executable, "-m", "tests.fixtures.airline.server", "--state", str(tmp_path / "state"))
    return Systems([McpSystem(SystemConfig(name="airline", transport="stdio", command=command, timeout_s=30))])


async def verdicts(
    systems: Systems, policy: ActionPolicy, steps: list[tuple[str, str, dict[str, Any]]]
) -> list[tuple[str, str, str]]:
    """Run (do, tool, arguments) steps — do: identify, judge or run — and collect (kind, rule, clause).
    Each change counts as stated and confirmed (that rule is tested on its own, below)."""
    desk = ActionDesk(policy, systems, Situation(assume_confirmed=True))
    seen: list[tuple[str, str, str]] = []
    try:
        for do, tool, arguments in steps:
            if do == "identify":
                await desk.identify(arguments)
            elif do == "run":
                verdict, _ = await desk.run(tool, arguments)
                seen.append((verdict.kind, verdict.rule, verdict.clause))
            else:
                judged = (await desk.judge(tool, arguments)).verdict
                seen.append((judged.kind, judged.rule, judged.clause))
    finally:
        await systems.aclose()
    return seen


def test_identity_ownership_schema_and_rules_on_a_real_server(tmp_path: Path) -> None:
    policy = pack_policy(load_pack(AIRLINE))
    business = {"reservation_id": "4WQ150"}  # chen_jackson_3290's business reservation
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("judge", "cancel_reservation", business),  # nobody identified yet
        ("judge", "get_user_details", {"user_id": "mia_li_3668"}),  # an id the customer never gave
        ("identify", "", {"user_id": "mia_li_3668"}),
        ("judge", "get_user_details", {"user_id": "chen_jackson_3290"}),  # someone else, after mia
        ("judge", "cancel_reservation", business),  # someone else's reservation
        ("judge", "get_reservation_details", business),  # nor may its details be read
        ("identify", "", {"user_id": "chen_jackson_3290"}),
        ("judge", "cancel_reservation", {}),  # the schema's required argument is missing
        ("judge", "update_reservation_passengers", {**business, "passengers": []}),
        ("run", "cancel_reservation", business),
        ("judge", "cancel_reservation", business),  # the system's fresh record says cancelled
        ("judge", "no_such_tool", {}),
    ]
    seen = asyncio.run(verdicts(airline(tmp_path), policy, steps))
    assert seen == [
        ("blocked", "identity", policy.actions.identity_clause),
        ("blocked", "identity", policy.actions.identity_clause),
        ("blocked", "ownership", policy.actions.ownership_clause),
        ("blocked", "ownership", policy.actions.ownership_clause),
        ("blocked", "ownership", policy.actions.ownership_clause),
        ("blocked", "arguments-schema", ""),
        ("blocked", "passenger-count-fixed", "passengers.count-fixed"),
        ("allowed", "", ""),
        ("blocked", "not-cancelled-already", "cancel.eligibility"),
        ("blocked", "tool-exists", ""),
    ]


def test_a_write_no_rule_describes_is_blocked_and_plain_text_answers_are_records(tmp_path: Path) -> None:
    described = pack_policy(load_pack(AIRLINE))
    bare = ActionPolicy(described.systems)  # the same systems, no actions.toml
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("identify", "", {"user_id": "chen_jackson_3290"}),
        ("judge", "cancel_reservation", {"reservation_id": "4WQ150"}),
    ]
    assert asyncio.run(verdicts(airline(tmp_path), bare, steps)) == [("blocked", "unlisted", "")]

    async def transfer() -> dict[str, Any]:
        systems = airline(tmp_path)
        try:
            return await systems.call("transfer_to_human_agents", {"summary": "wants a refund outside policy"})
        finally:
            await systems.aclose()

    answer = asyncio.run(transfer())
    assert isinstance(answer.get("text", answer.get("result")), str)


SEARCHES = (
    SYSTEMS
    + FLIGHT_STATUS
    + """
[[record]]
name = "listed"
tool = "search_direct_flight"
keys = ["origin", "destination", "date"]
items = "result"
"""
)
SEARCHED = """
clock = "2024-05-15T15:00:00-05:00"

[[tool]]
name = "cancel_reservation"

  [tool.records]
  reservation = "args.reservation_id"
  flight_status = "records.reservation.flights"
  listed = '''records.reservation.flights.filter(f, f.date > day(now))
    .map(f, {'origin': f.origin, 'destination': f.destination, 'date': f.date})'''

  [[tool.rule]]
  id = "airline-cancelled"
  require = "records.flight_status.exists(s, s.result == 'cancelled')"
  message = "{records.flight_status.map(s, s.flight_number + ' ' + s.result)}"

[[tool]]
name = "update_reservation_passengers"

  [tool.records]
  reservation = "args.reservation_id"
  flight_status = "records.reservation.flights.filter(f, f.date > '2030-01-01')"
"""
HARPER = {"user_id": "harper_garcia_8677"}
"""Her basic economy round trip JN75RZ: LAS-DEN on HAT162, 2024-05-14, which the airline cancelled; back on
HAT229, 2024-05-23 (available). Her BHOHRG flew as planned."""


def test_records_looked_up_by_several_keys_and_a_searchs_items_on_a_real_server(tmp_path: Path) -> None:
    """A kind with ``keys`` is read with a map of them per record (a list of maps: one lookup each), and each
    record holds the arguments it was read with; a search kind's records are the items of its answers,
    with the date searched where an item has none; an empty list reads nothing; the searches the rep runs
    join ``seen`` the same way."""
    policy = parse_action_policy({"systems.toml": SEARCHES, "actions.toml": SEARCHED}, CLAUSES)
    search = {"origin": "DEN", "destination": "LAS", "date": "2024-05-23"}

    async def scenario() -> tuple[list[Any], ActionDesk]:
        systems = airline(tmp_path)
        desk = ActionDesk(policy, systems)
        try:
            await desk.identify(HARPER)
            judged = [
                await desk.judge("cancel_reservation", {"reservation_id": "JN75RZ"}),
                await desk.judge("cancel_reservation", {"reservation_id": "BHOHRG"}),
                await desk.judge("update_reservation_passengers", {"reservation_id": "JN75RZ", "passengers": []}),
            ]
            await desk.run("search_direct_flight", search)
        finally:
            await systems.aclose()
        return judged, desk

    (cancelled, flown, nothing), desk = asyncio.run(scenario())
    assert cancelled.verdict.kind == "allowed"
    assert cancelled.records["flight_status"] == [
        {"result": "cancelled", "flight_number": "HAT162", "date": "2024-05-14"},
        {"result": "available", "flight_number": "HAT229", "date": "2024-05-23"},
    ]
    listed = cancelled.records["listed"]
    assert "HAT229" in [f["flight_number"] for f in listed]
    assert {(f["origin"], f["destination"], f["date"]) for f in listed} == {("DEN", "LAS", "2024-05-23")}
    assert (flown.verdict.kind, flown.verdict.rule) == ("blocked", "airline-cancelled")
    assert "cancelled" not in flown.verdict.reason and " landed" in flown.verdict.reason
    assert nothing.verdict.kind == "allowed" and nothing.records["flight_status"] == []
    assert desk.situation.seen["listed"] == listed


def test_a_search_answer_without_its_items_list_blocks_naming_the_field(tmp_path: Path) -> None:
    systems = SEARCHES.replace('items = "result"', 'items = "flights"')
    policy = parse_action_policy({"systems.toml": systems, "actions.toml": SEARCHED}, CLAUSES)
    steps: list[tuple[str, str, dict[str, Any]]] = [
        ("identify", "", HARPER),
        ("judge", "cancel_reservation", {"reservation_id": "JN75RZ"}),
    ]
    assert asyncio.run(verdicts(airline(tmp_path), policy, steps)) == [("blocked", "lookup", "")]


CONFIRM_ACTIONS = """
[[tool]]
name = "cancel_reservation"
identity = false

  [[tool.rule]]
  id = "customer-confirmed"
  clause = "cancel.eligibility"
  require = "confirmed([args.reservation_id])"
  message = "List the change and wait for a yes."
"""


@pytest.mark.parametrize(
    ("turns", "confirmed"),
    [
        ([("customer", "cancel ABC123 please")], False),  # asking is not confirming: the rep states it first
        ([("customer", "cancel ABC123"), ("rep", "I'll cancel ABC123, ok?"), ("customer", "yes please")], True),
        ([("rep", "I'll cancel ABC123, ok?"), ("customer", "Sí, adelante")], True),
        ([("rep", "I'll cancel ABC123, ok?"), ("customer", "ok but wait, not yet")], False),
        ([("rep", "I'll cancel XYZ999, ok?"), ("customer", "yes")], False),  # another reservation was stated
        ([("rep", "I'll cancel ABC123, ok?"), ("customer", "hmm, how long does a refund take?")], False),
    ],
)
def test_a_change_runs_only_after_the_customer_confirmed_what_the_rep_stated(
    turns: list[tuple[str, str]], confirmed: bool
) -> None:
    policy = parse_action_policy({"actions.toml": CONFIRM_ACTIONS}, CLAUSES)
    judge = Judge(policy, Situation(turns=turns))
    info = ToolInfo("cancel_reservation", "", {"type": "object"}, False)
    verdict = judge.verdict("cancel_reservation", {"reservation_id": "ABC123"}, info, lambda kind, key: None).verdict
    assert (verdict.kind == "allowed") is confirmed
    if not confirmed:
        assert (verdict.rule, verdict.clause) == ("customer-confirmed", "cancel.eligibility")
