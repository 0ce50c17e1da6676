"""Approved actions against a real store behind a faulty loopback server: timeouts, 5xx, a connection
dropped after the side effect, slow and malformed replies, with and without idempotency keys.

In every case the store shows at most one side effect, the rep gets a plain message, and the audit
log records what is known and still verifies.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.config import SystemConfig
from connectors.demo_store.store import DemoStore
from connectors.http import RestSystem
from connectors.systems import Systems
from copilot.actions.approvals import Desk
from copilot.actions.audit import AuditLog
from copilot.actions.proposals import Proposal, proposal_id
from copilot.conversation.state import Conversation, ToolEvent, Turn
from tests.conftest import DEMO_POLICY, demo_check
from tests.fakes.faulty_store import FaultyStore

ORDER = "NW-11730"  # processing in the demo store's seed (the cancellation demo)
TIMEOUT_S = 1.0


@pytest.fixture(params=[True, False], ids=["keys", "no-keys"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FaultyStore]:
    faulty = FaultyStore(
        tmp_path / "store.sqlite3", honour_keys=request.param, stall_s=TIMEOUT_S * 2.5, slow_s=TIMEOUT_S / 3
    )
    faulty.start()
    yield faulty
    faulty.stop()


class Rig:
    """A desk wired to the faulty server, and the conversation the rep is in."""

    def __init__(self, server: FaultyStore, folder: Path) -> None:
        config = SystemConfig(
            name="store", transport="rest", url=server.url, timeout_s=TIMEOUT_S, idempotency=server.honour_keys
        )
        self.server = server
        self.systems = Systems([RestSystem(config)])
        self.audit = AuditLog(folder / "audit.sqlite3")
        self.desk = Desk(folder / "actions.sqlite3", self.audit, self.systems, "ana", "rep", DEMO_POLICY)
        self.recorded: list[tuple[str, dict[str, Any]]] = []

    def record(self, tool: str, arguments: dict[str, Any], result: dict[str, Any]) -> None:
        self.recorded.append((tool, result))

    async def conversation(self) -> Conversation:
        record = await self.systems.call("get_order", {"order_id": ORDER})
        when = datetime(2026, 11, 20, 10, 5)
        return Conversation(
            "c1",
            jurisdiction="US-TX",
            turns=(Turn(1, "customer", f"Please cancel {ORDER}", when),),
            tools=(ToolEvent(1, "result", "get_order", json.dumps(record)),),
        )

    async def approved_cancel(self) -> tuple[Proposal, Conversation]:
        conversation = await self.conversation()
        arguments = {"order_id": ORDER, "reason": "Customer asked to cancel before shipping"}
        verdict = demo_check("cancel_order", arguments, conversation=conversation)
        assert verdict.kind == "allowed"
        proposal = Proposal(
            proposal_id("c1", "cancel_order", arguments),
            "c1",
            "cancel_order",
            arguments,
            "Cancel before it ships",
            ("northwind-retail@2025.6#cancellations.before-shipping",),
            verdict,
        )
        self.desk.offer((proposal,))
        self.desk.approve(proposal.id)  # the desk's person, ana
        return proposal, conversation

    def kinds(self, action_id: str) -> list[str]:
        return [r.kind for r in self.audit.records(action_id)]

    async def close(self) -> None:
        await self.systems.aclose()
        self.desk.close()


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


@pytest.mark.parametrize("fault", ["timeout", "error_before", "error_after", "drop_after", "slow", "malformed"])
def test_one_side_effect_whatever_the_fault(server: FaultyStore, tmp_path: Path, fault: str) -> None:
    rig = Rig(server, tmp_path)
    server.faults = [fault]

    async def scenario() -> tuple[str, str, str]:
        proposal, conversation = await rig.approved_cancel()
        first = await rig.desk.execute(proposal.id, conversation, rig.record)
        final = first
        if final.state == "approved":  # reconciled as "not applied": the rep runs it again, explicitly
            final = await rig.desk.execute(proposal.id, conversation, rig.record)
        await rig.close()
        return first.state, final.state, final.message

    first, final, message = run(scenario())
    assert server.store.count_effects("cancel_order") == 1, "exactly one cancellation in the store"
    assert final == "done", message
    order = server.store.call("get_order", {"order_id": ORDER})
    assert order["status"] == "cancelled"
    assert rig.audit.verify() == []
    kinds = rig.kinds(
        proposal_id("c1", "cancel_order", {"order_id": ORDER, "reason": "Customer asked to cancel before shipping"})
    )
    assert kinds[:3] == ["proposed", "approved", "executing"]
    if fault in ("slow",):
        assert first == "done" and kinds[-1] == "executed"
    elif not server.honour_keys:
        # no key: the lost reply is settled by reading the order, never by sending the call again blindly
        assert "reconciled" in kinds
        assert server.writes == (2 if fault == "error_before" else 1)


def test_an_action_left_running_by_a_crash_is_settled_by_reading_at_the_next_start(
    server: FaultyStore, tmp_path: Path
) -> None:
    rig = Rig(server, tmp_path)
    server.faults = ["drop_after"] * 3  # the app "dies": no reply ever comes back, but the store applied it

    async def first_run() -> str:
        proposal, conversation = await rig.approved_cancel()
        await rig.desk.execute(proposal.id, conversation, rig.record)
        await rig.close()
        return proposal.id

    action_id = run(first_run())
    with sqlite3.connect(tmp_path / "actions.sqlite3") as db:  # as if the app stopped mid-call
        db.execute("UPDATE actions SET state = 'running', message = '' WHERE id = ?", (action_id,))
    restarted = Rig(server, tmp_path)

    async def next_start() -> tuple[str, str]:
        await restarted.desk.resume()
        action = restarted.desk.get(action_id)
        await restarted.close()
        assert action is not None
        return action.state, action.message

    state, message = run(next_start())
    assert state == "done" and "was done" in message
    assert server.store.count_effects("cancel_order") == 1
    assert "reconciled" in restarted.kinds(action_id)
    assert restarted.audit.verify() == []


def test_a_double_click_runs_once(server: FaultyStore, tmp_path: Path) -> None:
    rig = Rig(server, tmp_path)
    server.faults = ["slow"]

    async def scenario() -> list[str]:
        proposal, conversation = await rig.approved_cancel()
        results = await asyncio.gather(
            rig.desk.execute(proposal.id, conversation, rig.record),
            rig.desk.execute(proposal.id, conversation, rig.record),
        )
        again = await rig.desk.execute(proposal.id, conversation, rig.record)  # a retry after it finished
        await rig.close()
        return [r.state for r in results] + [again.state]

    states = run(scenario())
    assert server.store.count_effects("cancel_order") == 1
    assert server.writes == 1
    assert "done" in states and states[-1] == "done"


def test_a_system_that_is_down_runs_nothing_and_says_so(tmp_path: Path) -> None:
    faulty = FaultyStore(tmp_path / "store.sqlite3")
    faulty.start()
    rig = Rig(faulty, tmp_path)

    async def scenario() -> tuple[str, str]:
        proposal, conversation = await rig.approved_cancel()
        faulty.stop()  # the system goes away between approval and running
        action = await rig.desk.execute(proposal.id, conversation, rig.record)
        await rig.close()
        return action.state, action.message

    state, message = run(scenario())
    assert state == "approved"
    assert "Not run" in message and "cannot connect" in message
    reopened = DemoStore(tmp_path / "store.sqlite3")
    assert reopened.count_effects() == 0
    reopened.close()
    assert rig.audit.verify() == []


def test_an_order_that_shipped_meanwhile_is_caught_before_running(server: FaultyStore, tmp_path: Path) -> None:
    rig = Rig(server, tmp_path)

    async def scenario() -> tuple[str, str]:
        proposal, conversation = await rig.approved_cancel()
        with sqlite3.connect(tmp_path / "store.sqlite3") as warehouse:  # the warehouse ships it meanwhile
            warehouse.execute("UPDATE orders SET status = 'shipped' WHERE id = ?", (ORDER,))
        action = await rig.desk.execute(proposal.id, conversation, rig.record)
        await rig.close()
        return action.state, action.message

    state, message = run(scenario())
    assert state == "failed"
    assert "shipped" in message and "cancelled" in message
    assert server.store.count_effects() == 0
    assert rig.audit.verify() == []
