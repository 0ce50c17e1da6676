"""Approved actions over MCP (stdio) with the demo store: idempotent retries after a timeout and after
the server died between the side effect and its reply; the MCP client's error kinds."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path

import pytest

from base.errors import SystemUnavailable, ToolRefused
from connectors.config import SystemConfig
from connectors.demo_store.store import DemoStore
from connectors.mcp_client import McpSystem
from connectors.systems import Systems
from copilot.actions.approvals import Desk
from copilot.actions.audit import AuditLog
from copilot.actions.proposals import Proposal, proposal_id
from copilot.conversation.state import Conversation, ToolEvent, Turn
from tests.conftest import DEMO_POLICY, demo_check

ORDER = "NW-11730"


def faulty(tmp_path: Path, fault: str) -> SystemConfig:
    command = (
        sys.executable,
        "-m",
        "tests.fakes.faulty_mcp",
        "--db",
        str(tmp_path / "store.sqlite3"),
        "--fault",
        fault,
        "--marker",
        str(tmp_path / "fired"),
        "--stall",
        "4",
    )
    return SystemConfig(name="store", transport="stdio", command=command, timeout_s=2.0)


async def cancel_once(config: SystemConfig, folder: Path) -> tuple[str, str, list[str]]:
    systems = Systems([McpSystem(config)])
    audit = AuditLog(folder / "audit.sqlite3")
    desk = Desk(folder / "actions.sqlite3", audit, systems, "ana", policy=DEMO_POLICY)
    try:
        record = await systems.call("get_order", {"order_id": ORDER})
        conversation = Conversation(
            "c1",
            jurisdiction="US-TX",
            turns=(Turn(1, "customer", f"cancel {ORDER} please", datetime(2026, 11, 20, 10)),),
            tools=(ToolEvent(1, "result", "get_order", json.dumps(record)),),
        )
        arguments = {"order_id": ORDER, "reason": "asked before shipping"}
        proposal = Proposal(
            proposal_id("c1", "cancel_order", arguments),
            "c1",
            "cancel_order",
            arguments,
            "Cancel",
            (),
            demo_check("cancel_order", arguments, conversation=conversation),
        )
        desk.offer((proposal,))
        desk.approve(proposal.id)  # the desk's person, ana
        action = await desk.execute(proposal.id, conversation)
        return action.state, action.message, [r.kind for r in audit.records(proposal.id)]
    finally:
        await systems.aclose()
        desk.close()


@pytest.mark.parametrize("fault", ["timeout", "crash_after"])
def test_a_lost_mcp_reply_is_retried_with_the_same_key(tmp_path: Path, fault: str) -> None:
    state, message, kinds = asyncio.run(cancel_once(faulty(tmp_path, fault), tmp_path))
    store = DemoStore(tmp_path / "store.sqlite3")
    assert (tmp_path / "fired").exists(), "the fault happened"
    assert store.count_effects("cancel_order") == 1
    assert store.call("get_order", {"order_id": ORDER})["status"] == "cancelled"
    store.close()
    assert state == "done", message
    assert "already done earlier" in message, "the retry got the first result back"
    assert kinds == ["proposed", "approved", "executing", "executed"]


def test_mcp_refusals_and_unreachable_servers_in_plain_words(tmp_path: Path) -> None:
    async def scenario() -> tuple[str, str]:
        good = McpSystem(
            SystemConfig(
                name="store",
                transport="stdio",
                timeout_s=20,
                command=(sys.executable, "-m", "connectors.demo_store.server", "--db", str(tmp_path / "store.sqlite3")),
            )
        )
        with pytest.raises(ToolRefused) as refused:
            await good.call("cancel_order", {"order_id": "NW-13408", "reason": "x", "idempotency_key": "k1"})
        await good.aclose()
        gone = McpSystem(SystemConfig(name="elsewhere", transport="http", url="http://127.0.0.1:9/mcp", timeout_s=2))
        with pytest.raises(SystemUnavailable) as unavailable:
            await gone.call("get_order", {"order_id": ORDER})
        await gone.aclose()
        return str(refused.value), str(unavailable.value)

    refused, unavailable = asyncio.run(scenario())
    assert refused.startswith("store: ") and "shipped" in refused
    assert unavailable.startswith("elsewhere: cannot connect to http://127.0.0.1:9/mcp")


def test_a_stdio_server_slower_to_start_than_a_call_may_take_still_connects(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Starting the server is not a call: a program that needs longer than timeout_s to start is waited for,
    and closing the connection afterwards goes cleanly (the SDK's task groups are left by the task that
    entered them)."""
    db = str(tmp_path / "store.sqlite3")
    start_slowly = f"import time; time.sleep(2); from connectors.demo_store.server import main; main(['--db', {db!r}])"
    config = SystemConfig(name="store", transport="stdio", timeout_s=1.0, command=(sys.executable, "-c", start_slowly))

    async def scenario() -> str:
        system = McpSystem(config)
        try:
            return str((await system.call("get_order", {"order_id": ORDER}))["status"])
        finally:
            await system.aclose()

    with caplog.at_level("DEBUG", logger="copilot.connectors"):
        status = asyncio.run(scenario())
    assert status == "processing"
    assert not [r.getMessage() for r in caplog.records if "closing an MCP connection failed" in r.getMessage()]
