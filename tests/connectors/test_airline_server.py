"""The tau2-bench airline MCP server (tests/fixtures/airline) driven by the project's own MCP client, in real
processes: its tools and their read-only hints, reads, a cancellation that a second process sees, a refusal
in plain words, and a task's initial_state applied when the state is created."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from base.errors import ToolRefused
from connectors.config import SystemConfig
from connectors.contract import ToolInfo
from connectors.mcp_client import McpSystem
from tests.fixtures.airline.server import FIXTURE

USER = "anya_brown_2655"
RESERVATION = "JEPRZB"
"""Anya Brown's economy trip, booked 2024-05-14 23:57, within 24 h of the domain's now: it may be cancelled."""
READ_ONLY = {
    "get_user_details",
    "get_reservation_details",
    "list_all_airports",
    "search_direct_flight",
    "search_onestop_flight",
    "get_flight_status",
    "calculate",
    "think",
}


def airline(state: Path, *options: str) -> McpSystem:
    command = (sys.executable, "-m", "tests.fixtures.airline.server", "--state", str(state), *options)
    return McpSystem(SystemConfig(name="airline", transport="stdio", command=command, timeout_s=10))


async def session(system: McpSystem, *calls: tuple[str, dict[str, Any]]) -> list[dict[str, Any] | str]:
    """Each call's result, or the refusal's message; then the connection is closed."""
    results: list[dict[str, Any] | str] = []
    try:
        for tool, arguments in calls:
            try:
                results.append(await system.call(tool, arguments))
            except ToolRefused as refused:
                results.append(str(refused))
    finally:
        await system.aclose()
    return results


def test_reads_a_cancellation_a_second_process_sees_and_a_refusal(tmp_path: Path) -> None:
    async def first() -> tuple[tuple[ToolInfo, ...], list[dict[str, Any] | str]]:
        system = airline(tmp_path / "state")
        tools = await system.tools()
        return tools, await session(
            system,
            ("get_user_details", {"user_id": USER}),
            ("get_reservation_details", {"reservation_id": RESERVATION}),
            ("cancel_reservation", {"reservation_id": RESERVATION}),
            ("get_reservation_details", {"reservation_id": "ZZZZZZ"}),
            ("calculate", {"expression": "(198 + 2) / 3"}),
        )

    tools, (user, before, cancelled, unknown, calculated) = asyncio.run(first())
    schemas = json.loads((FIXTURE / "tool_schemas.json").read_text(encoding="utf-8"))
    assert {(t.name, t.description) for t in tools} == {(s["name"], s["description"]) for s in schemas}
    assert {t.name for t in tools if t.read_only} == READ_ONLY
    assert isinstance(user, dict) and isinstance(before, dict) and isinstance(cancelled, dict)
    assert user["user_id"] == USER and RESERVATION in user["reservations"]
    assert before["user_id"] == USER and "status" not in before
    assert cancelled["status"] == "cancelled"
    assert cancelled["payment_history"] == [
        {"payment_id": "gift_card_6115345", "amount": 198},
        {"payment_id": "gift_card_6115345", "amount": -198},
    ]
    assert unknown == "airline: Reservation ZZZZZZ not found"
    assert calculated == {"result": "66.67"}

    (after,) = asyncio.run(
        session(airline(tmp_path / "state"), ("get_reservation_details", {"reservation_id": RESERVATION}))
    )
    assert isinstance(after, dict) and after["status"] == "cancelled"


def test_a_tasks_initial_state_is_applied_when_the_state_is_created(tmp_path: Path) -> None:
    """The bundled tasks have no initial_state, so this task is written here in tau2's shape."""
    task = {
        "id": "with-state",
        "initial_state": {
            "initialization_data": {"agent_data": {"users": {USER: {"membership": "silver"}}}, "user_data": None},
            "initialization_actions": [
                {"env_type": "assistant", "func_name": "send_certificate", "arguments": {"user_id": USER, "amount": 50}}
            ],
            "message_history": [
                {"role": "user", "content": f"Please cancel {RESERVATION}."},
                {
                    "role": "assistant",
                    "tool_calls": [
                        {"id": "c1", "name": "cancel_reservation", "arguments": {"reservation_id": RESERVATION}}
                    ],
                },
                {"role": "tool", "id": "c1", "content": "{}"},
            ],
        },
    }
    tasks = tmp_path / "tasks.json"
    tasks.write_text(json.dumps([task]), encoding="utf-8")
    system = airline(tmp_path / "state", "--task", "with-state", "--tasks", str(tasks))
    user, reservation = asyncio.run(
        session(
            system,
            ("get_user_details", {"user_id": USER}),
            ("get_reservation_details", {"reservation_id": RESERVATION}),
        )
    )
    assert isinstance(user, dict) and isinstance(reservation, dict)
    assert user["membership"] == "silver", "agent_data merged (she is gold in the bundled db)"
    assert user["name"] == {"first_name": "Anya", "last_name": "Brown"}, "the rest of the user kept"
    assert user["payment_methods"]["certificate_3221322"] == {
        "source": "certificate",
        "amount": 50,
        "id": "certificate_3221322",
    }
    assert reservation["status"] == "cancelled", "the write in message_history replayed"


def test_an_unknown_task_is_named_and_no_state_is_created(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "tests.fixtures.airline.server", "--state", str(tmp_path / "state")]
    ended = subprocess.run(
        [*command, "--task", "no-such-task"], capture_output=True, text=True, timeout=30, check=False
    )
    assert ended.returncode == 1
    assert "task no-such-task is not in" in ended.stderr and "tasks.json" in ended.stderr
    assert not (tmp_path / "state" / "db.json").exists()
