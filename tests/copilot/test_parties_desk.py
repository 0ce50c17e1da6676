"""The Desk's side of the right party: one action per tool and target in a conversation, a few waiting at
once, the records read again after an action changed them, and no lead rights from a settings file."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

from connectors.config import SystemConfig
from connectors.mcp_client import McpSystem
from connectors.systems import Systems
from copilot.actions.approvals import SET_ASIDE, Desk
from copilot.actions.audit import AuditLog
from copilot.actions.customer import view
from copilot.actions.proposals import ActionContext, Proposal, proposal_id, propose
from copilot.actions.verdict import ALLOWED
from copilot.conversation.state import Conversation, ToolEvent, Turn
from copilot.reasoning.guidance import Guidance
from copilot.reasoning.suggest import Suggestion
from copilot.settings import SETTINGS_FILE, Settings
from tests.conftest import DEMO_POLICY, DEMO_TOOLS, demo_check

ORDER = "NW-11730"
"""Marcus Bell's order, processing in the demo store."""


def desk(folder: Path, systems: Systems | None = None, role: str = "rep") -> Desk:
    return Desk(
        folder / "actions.sqlite3", AuditLog(folder / "audit.sqlite3"), systems or Systems([]), "ana", role, DEMO_POLICY
    )


def proposal(tool: str, target: str, **arguments: Any) -> Proposal:
    return Proposal(proposal_id("c1", tool, arguments), "c1", tool, arguments, "why", (), ALLOWED, target=target)


def test_one_action_per_tool_and_target_and_a_few_waiting_at_once(tmp_path: Path) -> None:
    at = desk(tmp_path)
    first = proposal("create_ticket", '{"customer_id":"C-1005"}', customer_id="C-1005", subject="Refund not issued")
    again = proposal("create_ticket", '{"customer_id":"C-1005"}', customer_id="C-1005", subject="Refund not showing")
    at.offer((first,))

    assert at.offer((again,)) == []
    assert [a.proposal.arguments["subject"] for a in at.actions("c1")] == ["Refund not issued"]

    others = [proposal(f"tool_{n}", f'{{"order_id":"NW-{n}"}}', order_id=f"NW-{n}") for n in range(4)]
    shown = at.offer(tuple(others))

    waiting = [a for a in at.actions("c1") if a.state == "proposed"]
    assert len(waiting) == DEMO_POLICY.actions.max_waiting == 3
    assert [a.id for a in shown] == [p.id for p in others[:3]], "the newest analysis's best proposals wait"
    set_aside = [a for a in at.actions("c1") if a.state == "rejected"]
    assert {a.message for a in set_aside} == {SET_ASIDE} and len(set_aside) == 2
    assert first.id in {a.id for a in set_aside}
    at.offer((first,))
    assert at.get(first.id).state == "proposed", "called for again: proposed again"  # type: ignore[union-attr]
    at.close()


def test_the_customer_card_shows_the_order_cancelled_after_the_cancellation(tmp_path: Path) -> None:
    store = (sys.executable, "-m", "connectors.demo_store.server", "--db", str(tmp_path / "store.sqlite3"))

    async def scenario() -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
        systems = Systems([McpSystem(SystemConfig(name="store", transport="stdio", command=store, timeout_s=30))])
        at = desk(tmp_path, systems)
        read: list[tuple[str, dict[str, Any], dict[str, Any]]] = []
        try:
            for tool, arguments in (("get_customer", {"customer_id": "C-1001"}), ("get_order", {"order_id": ORDER})):
                read.append((tool, arguments, await systems.call(tool, arguments)))
            conversation = with_results(Conversation("c1", turns=(Turn(1, "customer", f"cancel {ORDER}", NOON),)), read)
            arguments = {"order_id": ORDER, "reason": "asked before shipping"}
            verdict = demo_check("cancel_order", arguments, conversation=conversation)
            cancel = Proposal(
                proposal_id("c1", "cancel_order", arguments), "c1", "cancel_order", arguments, "", (), verdict
            )
            at.offer((cancel,))
            at.approve(cancel.id)
            done = await at.execute(cancel.id, conversation, lambda *call: read.append(call))
            assert done.state == "done", done.message
        finally:
            await systems.aclose()
            at.close()
        return read

    read = asyncio.run(scenario())
    before = view(with_results(Conversation("c1"), read[:2]), DEMO_POLICY)
    after = view(with_results(Conversation("c1"), read), DEMO_POLICY)

    assert [tool for tool, _, _ in read[-3:]] == ["cancel_order", "get_order", "get_customer"]
    assert any(ORDER in line and "processing" in line for line in before.items)
    assert any(ORDER in line and "cancelled" in line for line in after.items)
    assert not any(ORDER in line and "processing" in line for line in after.items)


NOON = datetime(2026, 11, 20, 12)


def with_results(conversation: Conversation, calls: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> Conversation:
    events = [
        event
        for tool, arguments, answer in calls
        for event in (
            ToolEvent(1, "call", tool, json.dumps(arguments)),
            ToolEvent(1, "result", tool, json.dumps(answer)),
        )
    ]
    return Conversation(conversation.id, turns=conversation.turns, tools=(*conversation.tools, *events))


def test_a_lead_role_in_the_settings_gives_no_lead_limits(tmp_path: Path) -> None:
    (tmp_path / SETTINGS_FILE).write_text(json.dumps({"role": "lead", "user_name": "Sam"}))
    settings = Settings.load(tmp_path)
    assert settings.role == "lead"
    at = desk(tmp_path, role=settings.role)
    damaged = Conversation(
        "c1",
        jurisdiction="US-TX",
        turns=(Turn(1, "customer", "Order NW-20001 arrived broken, please refund it", NOON),),
        tools=(ToolEvent(1, "result", "get_order", json.dumps(ORDER_RECORD)),),
    )
    path = Suggestion("damaged_item", "damaged", "Refund the damaged item", 0.9, (), (), ("refund_payment",), "")
    context = ActionContext((path,), (), {"refund_payment": DEMO_TOOLS["refund_payment"]}, at.role)

    (refund,) = propose(damaged, context, DEMO_POLICY, Guidance())

    assert refund.arguments["amount"] == 450.0
    assert (refund.verdict.kind, refund.verdict.rule) == ("needs_approval", "refund-limit-rep"), refund.verdict.reason
    at.offer((refund,))
    assert at.approve(refund.id).state == "awaiting_second", "Sam's approval alone does not run it"
    at.close()


ORDER_RECORD = {
    "order_id": "NW-20001",
    "customer_id": "C-2001",
    "status": "delivered",
    "total": 450.0,
    "captured": 450.0,
    "currency": "USD",
    "refunds": [],
    "shipment": {"delivered_at": "2026-11-18T10:00:00Z"},
}
