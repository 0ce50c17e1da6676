"""The demo store on real SQLite files, and its MCP server as a real subprocess over stdio and HTTP."""

from __future__ import annotations

import json
import re
import select
import shutil
import sqlite3
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from mcp import ClientSession, StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult, TextContent

from base.errors import BusinessRefusal
from connectors.demo_store import DemoStore
from connectors.demo_store.seed import STORY_ORDERS
from tests.conftest import DEMO_WRITE_TOOLS

REPO = Path(__file__).resolve().parents[2]
CONVERSATIONS = sorted((REPO / "resources" / "conversations").glob("*.jsonl"))
NOW = datetime(2026, 11, 20, 10, 7, tzinfo=UTC)
SERVER = [sys.executable, "-m", "connectors.demo_store.server"]
NEW_ADDRESS = {
    "name": "Tom Becker",
    "line1": "Schönhauser Allee 12",
    "city": "Berlin",
    "postal_code": "10437",
    "country": "DE",
}
STATUSES = {"pending", "processing", "shipped", "delivered", "cancelled", "returned"}


@pytest.fixture(scope="module")
def seeded_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One seeded file per module; each test works on a copy, which is faster than seeding again."""
    path = tmp_path_factory.mktemp("seeded") / "store.sqlite3"
    DemoStore(path).close()
    return path


@pytest.fixture
def db_path(seeded_file: Path, tmp_path: Path) -> Path:
    return Path(shutil.copy(seeded_file, tmp_path / "store.sqlite3"))


@pytest.fixture
def store(db_path: Path) -> Iterator[DemoStore]:
    opened = DemoStore(db_path, now=lambda: NOW)
    yield opened
    opened.close()


def _dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    with closing(sqlite3.connect(path)) as db:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {table: db.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall() for table in tables}


def _first_order_id(path: Path, where: str) -> str:
    """An order picked by SQL, for cases the story records do not cover (e.g. paid at checkout)."""
    with closing(sqlite3.connect(path)) as db:
        sql = f"SELECT o.id FROM orders o JOIN payments p ON p.order_id = o.id WHERE {where} ORDER BY o.id"
        row = db.execute(sql).fetchone()
    assert row is not None, where
    return str(row[0])


def _cancel(order_id: str, key: str = "cancel-1", **extra: Any) -> dict[str, Any]:
    return {"order_id": order_id, "reason": "Customer asked", "idempotency_key": key, **extra}


# --- Seed ---------------------------------------------------------------------------------------


def test_two_fresh_seeds_have_identical_rows(tmp_path: Path, seeded_file: Path) -> None:
    DemoStore(tmp_path / "again.sqlite3").close()
    first, second = _dump(seeded_file), _dump(tmp_path / "again.sqlite3")
    assert first == second
    assert len(first["customers"]) == 200
    assert 950 <= len(first["orders"]) <= 1050
    assert {row[2] for row in first["orders"]} == STATUSES
    assert first["tickets"]


def test_every_story_order_is_seeded_for_its_story_customer(seeded_file: Path) -> None:
    with closing(sqlite3.connect(seeded_file)) as db:
        owners = dict(db.execute("SELECT id, customer_id FROM orders").fetchall())
    assert {o.order_id: o.customer_id for o in STORY_ORDERS}.items() <= owners.items()


@pytest.fixture(scope="module")
def story_store(seeded_file: Path) -> Iterator[DemoStore]:
    opened = DemoStore(seeded_file)
    yield opened
    opened.close()


UNMODELLED = {"check_stock", "create_exchange"}  # stock and exchanges are not part of the demo store


def _order_facts(order: dict[str, Any], tool: str) -> dict[str, Any]:
    """What a conversation's tool result may say about an order, in the conversation's vocabulary."""
    shipment = order["shipment"] or {}
    charges = order["charges"]
    spoken_status = "return_received" if order["status"] == "returned" else order["status"]
    return {
        "order_id": order["order_id"],
        "status": shipment["status"] if tool == "get_shipment" else spoken_status,
        "total": order["total"],
        "currency": order["currency"],
        "items": [{"sku": i["sku"], "name": i["name"], "qty": i["quantity"]} for i in order["items"]],
        "refund": order["refunds"] or None,
        "return_received_at": (order["returned_at"] or "")[:10],
        "delivered_at": (shipment.get("delivered_at") or "")[:10],
        "carrier": shipment.get("carrier"),
        "service": shipment.get("service"),
        "promised_by": shipment.get("estimated_delivery"),
        "estimated_delivery": shipment.get("estimated_delivery"),
        "last_scan": shipment.get("last_scan"),
        "captured": [
            {"amount": c["amount"], "currency": order["currency"], "date": c["updated_at"][:10]}
            for c in charges
            if c["status"] == "captured"
        ],
        "authorisations": [
            {"amount": c["amount"], "status": c["status"], "date": c["updated_at"][:10]}
            for c in charges
            if c["status"] == "voided"
        ],
    }


def _membership_facts(store: DemoStore, email: str) -> dict[str, Any]:
    """What a conversation's customer or membership lookup may say, for the customer with that email."""
    customer_id = store.call("find_customer", {"query": email})["customers"][0]["customer_id"]
    record = store.call("get_customer", {"customer_id": customer_id})
    plan = "plus" if record["plus_member"] else None
    return record | {"plan": plan, "renewed_at": (record["plus_renewed_at"] or "")[:10]}


def _matches(expected: Any, actual: Any) -> bool:
    """Every key the conversation states has the same value in the store (extra store keys are fine)."""
    if isinstance(expected, dict):
        return isinstance(actual, dict) and all(k in actual and _matches(v, actual[k]) for k, v in expected.items())
    if isinstance(expected, list):
        return isinstance(actual, list) and len(expected) == len(actual) and all(map(_matches, expected, actual))
    return bool(expected == actual)


@pytest.mark.parametrize("conversation", CONVERSATIONS, ids=lambda path: path.stem)
def test_story_records_match_the_conversation(story_store: DemoStore, conversation: Path) -> None:
    events = [json.loads(line) for line in conversation.read_text(encoding="utf-8").splitlines() if line.strip()]
    speaker = events[0]["customer"]
    found = story_store.call("find_customer", {"query": speaker["email"]})["customers"]
    assert [(c["name"], c["email"]) for c in found] == [(speaker["name"], speaker["email"])]
    customer_id = found[0]["customer_id"]

    mentioned = set(re.findall(r"NW-\d{5}", "\n".join(json.dumps(e, ensure_ascii=False) for e in events[1:])))
    for order_id in mentioned:
        assert story_store.call("get_order", {"order_id": order_id})["customer_id"] == customer_id

    calls = {e["seq"]: e for e in events if e["type"] == "tool_call"}
    for event in (e for e in events if e["type"] == "tool_result" and e["name"] not in UNMODELLED):
        stated = json.loads(event["content"])
        if "order_id" in stated:
            actual = _order_facts(story_store.call("get_order", {"order_id": stated["order_id"]}), event["name"])
        else:
            actual = _membership_facts(story_store, calls[event["seq"] - 1]["arguments"]["email"])
            stated.pop("benefits_used_since_renewal", None)  # Plus benefit usage is not modelled
        assert _matches(stated, actual), (event["name"], stated, actual)


def test_story_details_the_conversations_rely_on(story_store: DemoStore) -> None:
    marcus = story_store.call("get_order", {"order_id": "NW-11730"})
    assert marcus["placed_at"].startswith("2026-11-20T0") and marcus["charges"][0]["status"] == "authorized"
    tom = story_store.call("get_customer", {"customer_id": "C-1003"})
    assert tom["address"]["postal_code"] == "10115"
    assert story_store.call("get_order", {"order_id": "NW-18220"})["payment"]["last4"] == "5521"
    margaret = story_store.call("find_customer", {"query": "margaret.carter@example.com"})["customers"][0]
    assert (margaret["customer_id"], margaret["plus_member"], margaret["store_credit"]) == ("CU-20731", True, 35.0)
    derek = story_store.call("list_tickets", {"customer_id": "C-1005"})
    assert len(derek["tickets"]) == 2  # the chat is his third contact


# --- Read tools ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "name"),
    [
        ("C-1001", "Marcus Bell"),
        ("NW-10482", "Ana Ruiz"),
        ("bell", "Marcus Bell"),
        ("lucia fernandez", "Lucía Fernández"),
        ("PRIYA.N@example.com", "Priya Natarajan"),
    ],
)
def test_find_customer_ranks_the_best_match_first(story_store: DemoStore, query: str, name: str) -> None:
    assert story_store.call("find_customer", {"query": query})["customers"][0]["name"] == name


def test_find_customer_returns_at_most_ten(story_store: DemoStore) -> None:
    assert len(story_store.call("find_customer", {"query": "example.com"})["customers"]) == 10
    assert story_store.call("find_customer", {"query": "%"})["customers"] == []


def test_customer_orders_and_tickets(story_store: DemoStore, seeded_file: Path) -> None:
    busy = _first_order_id(
        seeded_file, "o.customer_id IN (SELECT customer_id FROM orders GROUP BY customer_id HAVING COUNT(*) > 6)"
    )
    customer_id = story_store.call("get_order", {"order_id": busy})["customer_id"]
    record = story_store.call("get_customer", {"customer_id": customer_id})
    recent = record["recent_orders"]
    assert len(recent) == 5 and record["order_count"] > 6
    assert [o["placed_at"] for o in recent] == sorted((o["placed_at"] for o in recent), reverse=True)
    assert story_store.call("list_orders", {"customer_id": customer_id, "limit": 3})["orders"] == recent[:3]
    none = {"customer_id": "C-1001", "tickets": [], "escalations": []}
    assert story_store.call("list_tickets", {"customer_id": "C-1001"}) == none


def test_get_order_shows_only_method_brand_and_last4_of_a_payment(story_store: DemoStore) -> None:
    order = story_store.call("get_order", {"order_id": "NW-13408"})
    assert order["payment"] == {"method": "card", "brand": "Visa", "last4": "1111"}
    assert [c["status"] for c in order["charges"]] == ["voided", "captured"]
    assert order["shipment"]["status"] == "in_transit" and order["shipment"]["tracking"]


@pytest.mark.parametrize(
    ("tool", "arguments", "argument"),
    [
        ("get_order", {}, "order_id"),
        ("list_orders", {"customer_id": "C-1001", "limit": 0}, "limit"),
        ("refund_payment", {"order_id": "NW-19067", "amount": 1.234, "reason": "x", "idempotency_key": "k"}, "amount"),
        (
            "update_shipping_address",
            {"order_id": "NW-18220", "address": {"name": "T"}, "idempotency_key": "k"},
            "address",
        ),
        (
            "create_ticket",
            {"customer_id": "C-1001", "subject": " ", "body": "b", "priority": "low", "idempotency_key": "k"},
            "subject",
        ),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_argument(
    story_store: DemoStore, tool: str, arguments: dict[str, Any], argument: str
) -> None:
    with pytest.raises(ValueError, match=argument):
        story_store.call(tool, arguments)


# --- Write tools --------------------------------------------------------------------------------


def test_cancel_voids_the_authorisation_and_reinstate_restores_it(store: DemoStore) -> None:
    result = store.call("cancel_order", _cancel("NW-11730"))
    assert (result["status"], result["previous_status"], result["voided_amount"], result["refund"]) == (
        "cancelled",
        "processing",
        86.5,
        None,
    )
    assert "86.50 USD was voided" in result["message"]
    assert store.call("get_order", {"order_id": "NW-11730"})["cancelled_at"] == "2026-11-20T10:07:00Z"

    reinstated = store.call("reinstate_order", {"order_id": "NW-11730", "idempotency_key": "reinstate-1"})
    order = store.call("get_order", {"order_id": "NW-11730"})
    assert (reinstated["status"], order["status"]) == ("processing", "processing")
    assert order["charges"][0]["status"] == "authorized"
    assert store.count_effects() == 2
    with pytest.raises(BusinessRefusal, match="not cancelled"):
        store.call("reinstate_order", {"order_id": "NW-11730", "idempotency_key": "reinstate-2"})


def test_cancel_refunds_a_payment_taken_at_checkout_and_reinstate_reverses_it(store: DemoStore, db_path: Path) -> None:
    order_id = _first_order_id(db_path, "o.status IN ('pending', 'processing') AND p.status = 'captured'")
    total = store.call("get_order", {"order_id": order_id})["total"]
    refund = store.call("cancel_order", _cancel(order_id))["refund"]
    assert refund["amount"] == total and "last4" in refund["to"]
    assert store.call("get_order", {"order_id": order_id})["refundable"] == 0

    reinstated = store.call("reinstate_order", {"order_id": order_id, "idempotency_key": "reinstate-1"})
    assert reinstated["reversed_refund"] == refund["refund_id"]
    assert store.call("get_order", {"order_id": order_id})["refundable"] == total


@pytest.mark.parametrize(
    ("order_id", "message"),
    [
        ("NW-13408", "Order NW-13408 has shipped; it can no longer be cancelled."),
        ("NW-10482", "Order NW-10482 has been delivered; it can no longer be cancelled."),
    ],
)
def test_cancel_after_shipping_is_refused_and_records_nothing(store: DemoStore, order_id: str, message: str) -> None:
    with pytest.raises(BusinessRefusal) as refusal:
        store.call("cancel_order", _cancel(order_id))
    assert str(refusal.value) == message
    assert store.count_effects() == 0
    # The refused key was not recorded: it is free for another request.
    assert store.call("cancel_order", _cancel("NW-11730"))["status"] == "cancelled"


def test_seeded_cancellations_cannot_be_reinstated(store: DemoStore, db_path: Path) -> None:
    order_id = _first_order_id(db_path, "o.status = 'cancelled'")
    with pytest.raises(BusinessRefusal, match="not cancelled through cancel_order"):
        store.call("reinstate_order", {"order_id": order_id, "idempotency_key": "k"})


def test_refund_goes_to_the_original_method_and_never_above_what_remains(store: DemoStore) -> None:
    args = {"order_id": "NW-19067", "reason": "Express arrived late", "idempotency_key": "refund-1"}
    refund = store.call("refund_payment", args | {"amount": 9.99})
    assert (refund["amount"], refund["currency"], refund["refundable_after"]) == (9.99, "GBP", 32.0)
    assert refund["to"] == {"method": "card", "brand": "Mastercard", "last4": "3158"}
    with pytest.raises(BusinessRefusal, match=r"more than can still be refunded on order NW-19067: 32\.00 GBP"):
        store.call("refund_payment", args | {"amount": 32.01, "idempotency_key": "refund-2"})
    with pytest.raises(BusinessRefusal, match="only authorised"):
        store.call("refund_payment", args | {"order_id": "NW-18220", "amount": 5, "idempotency_key": "refund-3"})
    assert store.count_effects("refund_payment") == 1


def test_address_changes_before_shipping_only(store: DemoStore) -> None:
    change = {"order_id": "NW-18220", "address": NEW_ADDRESS, "idempotency_key": "a1"}
    result = store.call("update_shipping_address", change)
    assert result["previous_address"]["postal_code"] == "10115"
    assert store.call("get_order", {"order_id": "NW-18220"})["shipping_address"] == NEW_ADDRESS
    with pytest.raises(BusinessRefusal, match="NW-16102 has shipped; its delivery address can no longer be changed"):
        store.call("update_shipping_address", change | {"order_id": "NW-16102", "idempotency_key": "a2"})


def test_tickets_and_escalations_are_recorded(store: DemoStore) -> None:
    ticket_args = {
        "customer_id": "C-1005",
        "order_id": "NW-15588",
        "subject": "Refund overdue",
        "body": "Third contact.",
        "priority": "urgent",
        "idempotency_key": "t1",
    }
    ticket = store.call("create_ticket", ticket_args)
    escalation = store.call(
        "escalate_to_queue",
        {
            "customer_id": "CU-20731",
            "queue": "bereavement",
            "summary": "Her daughter reported her death; Plus paused.",
            "conversation_id": "bereavement",
            "idempotency_key": "e1",
        },
    )
    assert (ticket["status"], ticket["created_at"], escalation["position"]) == ("open", "2026-11-20T10:07:00Z", 1)
    assert store.call("list_tickets", {"customer_id": "C-1005"})["tickets"][0]["ticket_id"] == ticket["ticket_id"]
    assert store.call("list_tickets", {"customer_id": "CU-20731"})["escalations"][0]["queue"] == "bereavement"
    with pytest.raises(BusinessRefusal, match="does not belong to customer C-1005"):
        store.call("create_ticket", ticket_args | {"order_id": "NW-11730", "idempotency_key": "t2"})


# --- Dry run and idempotency --------------------------------------------------------------------


def test_dry_run_lists_the_changes_and_writes_nothing(store: DemoStore, db_path: Path) -> None:
    before = _dump(db_path)
    preview = store.call("cancel_order", _cancel("NW-11730", dry_run=True))
    payment_id = store.call("get_order", {"order_id": "NW-11730"})["charges"][0]["payment_id"]
    assert preview == {
        "dry_run": True,
        "changes": [
            {"entity": "order", "id": "NW-11730", "field": "status", "before": "processing", "after": "cancelled"},
            {"entity": "payment", "id": payment_id, "field": "status", "before": "authorized", "after": "voided"},
        ],
    }
    assert _dump(db_path) == before
    with pytest.raises(BusinessRefusal, match="has shipped"):
        store.call("cancel_order", _cancel("NW-13408", dry_run=True))
    real = store.call("cancel_order", _cancel("NW-11730"))  # the key was not recorded by the dry run
    assert "replayed" not in real and real["changes"] == preview["changes"]


def test_a_repeated_key_replays_the_first_result(store: DemoStore) -> None:
    refund = {"order_id": "NW-19067", "amount": 9.99, "reason": "Late", "idempotency_key": "r1"}
    first = store.call("refund_payment", refund)
    assert store.call("refund_payment", refund) == first | {"replayed": True}
    preview = store.call("refund_payment", refund | {"dry_run": True})
    assert preview == {"dry_run": True, "changes": [], "replayed": True}
    assert store.count_effects() == 1
    with pytest.raises(ValueError, match="idempotency_key 'r1'"):
        store.call("refund_payment", refund | {"amount": 5})


@pytest.mark.parametrize("connections", [1, 2], ids=["one-store", "two-stores"])
def test_concurrent_calls_with_one_key_apply_once(db_path: Path, connections: int) -> None:
    stores = [DemoStore(db_path) for _ in range(connections)]
    barrier = threading.Barrier(2)
    results: list[dict[str, Any]] = []

    def cancel(store: DemoStore) -> None:
        barrier.wait()
        results.append(store.call("cancel_order", _cancel("NW-11730", key="same")))

    threads = [threading.Thread(target=cancel, args=(stores[n % connections],)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted("replayed" in r for r in results) == [False, True]
    assert stores[0].count_effects("cancel_order") == 1
    for opened in stores:
        opened.close()


def test_tool_specs(story_store: DemoStore) -> None:
    specs = {spec.name: spec for spec in story_store.tools()}
    assert {name for name, spec in specs.items() if not spec.read_only} == DEMO_WRITE_TOOLS
    for name in DEMO_WRITE_TOOLS:
        assert "idempotency_key" in specs[name].input_schema["required"]
        assert specs[name].input_schema["properties"]["dry_run"]["default"] is False
    assert specs["cancel_order"].compensated_by == "reinstate_order"
    assert "destination" not in json.dumps(specs["refund_payment"].input_schema)


# --- Over MCP -----------------------------------------------------------------------------------


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def http_url(db_path: Path, tmp_path: Path) -> Iterator[str]:
    """The server as a real subprocess on a free port; terminated (then killed if need be) on teardown."""
    with open(tmp_path / "server.log", "w", encoding="utf-8") as log:
        command = [*SERVER, "--db", str(db_path), "--http", "--port", "0"]
        process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, stderr=log, text=True)
        assert process.stdout is not None
        try:
            ready, _, _ = select.select([process.stdout], [], [], 20)
            line = process.stdout.readline() if ready else ""
            assert line.startswith("listening http://127.0.0.1:"), (tmp_path / "server.log").read_text()
            yield line.split()[1]
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            process.stdout.close()


@pytest.fixture(params=["stdio", "http"])
async def mcp_session(
    request: pytest.FixtureRequest, db_path: Path, anyio_backend: str
) -> AsyncIterator[ClientSession]:
    """An initialised client session; leaving stdio_client ends (and if need be kills) the stdio server."""
    if request.param == "stdio":
        server = StdioServerParameters(command=SERVER[0], args=[*SERVER[1:], "--db", str(db_path)], cwd=REPO)
        streams = stdio_client(server)
    else:
        streams = streamable_http_client(request.getfixturevalue("http_url"))
    async with streams as (read_stream, write_stream), ClientSession(read_stream, write_stream) as session:
        await session.initialize()
        yield session


@pytest.mark.anyio
async def test_tools_over_mcp(mcp_session: ClientSession) -> None:
    tools = {tool.name: tool for tool in (await mcp_session.list_tools()).tools}
    assert len(tools) == 19
    cancel = tools["cancel_order"]
    assert cancel.input_schema["required"] == ["order_id", "reason", "idempotency_key"]
    assert cancel.annotations is not None and cancel.annotations.destructive_hint and cancel.annotations.idempotent_hint
    assert not cancel.annotations.read_only_hint
    assert tools["get_order"].annotations is not None and tools["get_order"].annotations.read_only_hint

    order = await mcp_session.call_tool("get_order", {"order_id": "NW-11730"})
    assert not order.is_error and order.structured_content is not None
    assert order.structured_content["total"] == 86.5
    assert json.loads(_text(order)) == order.structured_content

    cancelled = await mcp_session.call_tool("cancel_order", _cancel("NW-11730"))
    assert not cancelled.is_error and cancelled.structured_content is not None
    assert cancelled.structured_content["status"] == "cancelled"

    refused = await mcp_session.call_tool("cancel_order", _cancel("NW-13408", key="cancel-2"))
    assert refused.is_error and _text(refused) == "Order NW-13408 has shipped; it can no longer be cancelled."
    invalid = await mcp_session.call_tool("get_order", {})
    assert invalid.is_error and _text(invalid) == "Invalid arguments: 'order_id' is a required property"


def _text(result: CallToolResult) -> str:
    return "".join(block.text for block in result.content if isinstance(block, TextContent))
