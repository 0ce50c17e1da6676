"""Actions in the panel against the real demo store (an MCP server over stdio): the customer record,
cancellation and refund demos taken to an executed, approved action, a lead's second approval,
pending approvals surviving a restart, and a store that is down."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QDialog

from connectors.config import SystemConfig
from connectors.demo_store.store import DemoStore
from connectors.systems import Systems, open_system
from copilot.actions.approvals import Action
from copilot.actions.audit import AUDIT_FILE, AuditLog
from copilot.actions.connections import DEMO_LOOKUPS, demo_store
from copilot.actions.credentials import LEADS_FILE, Approver, Leads
from copilot.settings import Settings
from copilot.workspace import Workspace
from tests.conftest import demo_conversation
from tests.ui.test_panel import play
from tests.ui.test_panel_advice import until
from ui.app import PanelApp, compose, start_workspace
from ui.lead_approval import LeadApprovalDialog


def open_app(qtbot, loop, workspace: Workspace, folder: Path, systems: Systems) -> PanelApp:  # type: ignore[no-untyped-def]
    parts = compose(loop, folder, systems)
    qtbot.addWidget(parts.panel)
    loop.run_until_complete(start_workspace(parts, lambda: workspace.embedder))
    return parts


def close_app(loop: asyncio.AbstractEventLoop, parts: PanelApp, systems: Systems) -> None:
    loop.run_until_complete(parts.aclose())
    loop.run_until_complete(systems.aclose())


def press(widget, key: Qt.Key) -> None:  # type: ignore[no-untyped-def]
    """Deliver one key press to ``widget`` without spinning Qt's event queue: qtbot.keyClick would, and
    with the asyncio loop stopped that can step the store connection's tasks outside any running loop."""
    QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier))


def card_for(parts: PanelApp, tool: str):  # type: ignore[no-untyped-def]
    return next((c for c in parts.panel.action_cards.cards if c.action.proposal.tool == tool), None)


def approve_and_confirm(loop: asyncio.AbstractEventLoop, parts: PanelApp, tool: str) -> None:
    """A on the card shows what the action would change with Confirm / Cancel; Enter confirms (only that approves)."""
    press(card_for(parts, tool), Qt.Key.Key_A)
    until(loop, lambda: "confirm" in card_for(parts, tool).buttons, 30)
    press(card_for(parts, tool), Qt.Key.Key_Return)


def test_cancellation_demo_to_an_executed_approved_action(
    qtbot, event_loop_qt, store_app: PanelApp, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    store_app.panel.open_conversation(demo_conversation("cancellation"))
    play(event_loop_qt, store_app, 1)
    # One wait for everything in flight: qasync can lose a subprocess pipe write when its loop stops mid-call
    # (only tests stop it; the app runs one loop throughout).
    until(
        event_loop_qt,
        lambda: (
            card_for(store_app, "cancel_order") is not None
            and "Marcus Bell" in store_app.panel.customer.record.text()
            and "NW-11730" in store_app.panel.customer.record.text()  # the order's lookup lands after the customer's
        ),
        30,
    )
    card = card_for(store_app, "cancel_order")
    assert "You may approve" in card.text and "Can be undone" in card.text
    assert "cancellations.before-shipping" in card.text
    card.setFocus()
    press(card, Qt.Key.Key_A)
    until(event_loop_qt, lambda: "Will change" in card_for(store_app, "cancel_order").text, 30)
    card = card_for(store_app, "cancel_order")
    assert "status: processing → cancelled" in card.text, "the store's dry run previews the change"
    assert card.action.state == "proposed" and set(card.buttons) == {"confirm", "cancel"}, "nothing runs before"
    press(card, Qt.Key.Key_Return)
    until(
        event_loop_qt, lambda: (c := card_for(store_app, "cancel_order")) is not None and c.action.state == "done", 30
    )
    assert "Undo" in card_for(store_app, "cancel_order").buttons["undo"].text()
    store = DemoStore(tmp_path / "demo-store.sqlite3")
    assert store.call("get_order", {"order_id": "NW-11730"})["status"] == "cancelled"
    assert store.count_effects("cancel_order") == 1
    store.close()
    until(
        event_loop_qt,
        lambda: (
            store_app.session.analysis.insight is not None
            and store_app.session.analysis.insight.advice.facts.get("status") == "cancelled"
        ),
        30,
    )  # the result joined the facts
    audit = AuditLog(tmp_path / AUDIT_FILE)
    kinds = [r.kind for r in audit.records() if r.tool == "cancel_order"]
    assert kinds == ["proposed", "approved", "executing", "executed"]
    card_for(store_app, "cancel_order").buttons["undo"].click()  # the customer changes their mind
    until(event_loop_qt, lambda: card_for(store_app, "reinstate_order") is not None, 30)
    approve_and_confirm(event_loop_qt, store_app, "reinstate_order")
    until(event_loop_qt, lambda: card_for(store_app, "reinstate_order").action.state == "done", 30)
    store = DemoStore(tmp_path / "demo-store.sqlite3")
    assert store.call("get_order", {"order_id": "NW-11730"})["status"] == "processing"
    store.close()
    assert audit.verify() == []


def test_refund_demo_runs_within_the_rep_limit(qtbot, event_loop_qt, store_app: PanelApp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    store_app.panel.open_conversation(demo_conversation("damaged-item"))
    play(event_loop_qt, store_app, 1)
    until(event_loop_qt, lambda: card_for(store_app, "refund_payment") is not None, 30)
    card = card_for(store_app, "refund_payment")
    assert "original payment method" in card.text and "You may approve" in card.text
    approve_and_confirm(event_loop_qt, store_app, "refund_payment")
    until(event_loop_qt, lambda: card_for(store_app, "refund_payment").action.state == "done", 30)
    store = DemoStore(tmp_path / "demo-store.sqlite3")
    order = store.call("get_order", {"order_id": card.action.proposal.arguments["order_id"]})
    assert order["refunded"] == card.action.proposal.arguments["amount"]
    assert store.count_effects("refund_payment") == 1
    store.close()


def big_damaged_order(folder: Path) -> Path:
    """A conversation about a seeded, recently delivered USD order above the rep's refund limit."""
    with sqlite3.connect(folder / "demo-store.sqlite3") as db:
        rows = db.execute(
            "SELECT o.id, c.name, c.email FROM orders o JOIN customers c ON c.id = o.customer_id "
            "JOIN shipments s ON s.order_id = o.id WHERE o.status = 'delivered' AND "
            "o.currency = 'USD' AND o.total_cents > 15000 AND s.delivered_at >= '2026-11-05' "
            "ORDER BY o.id LIMIT 1"
        ).fetchall()
    order_id, name, email = rows[0]
    path = folder / "big-refund.jsonl"
    path.write_text(
        "\n".join(
            json.dumps(e)
            for e in [
                {
                    "type": "conversation",
                    "id": "big-refund",
                    "customer": {"name": name, "email": email},
                    "jurisdiction": "US-NY",
                    "started_at": "2026-11-20T09:00:00Z",
                },
                {
                    "type": "message",
                    "conversation_id": "big-refund",
                    "seq": 1,
                    "role": "customer",
                    "ts": "2026-11-20T09:00:30Z",
                    "text": f"My order {order_id} arrived damaged: the box was crushed and the item inside is broken.",
                },
            ]
        )
        + "\n"
    )
    return path


def test_a_refund_above_the_limit_needs_a_lead_and_survives_a_restart(
    qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The rep approves; the app restarts; the action still waits; a lead approves with their own passphrase
    (a wrong one first); it runs once, and the audit log says how each approver was known."""
    DemoStore(tmp_path / "demo-store.sqlite3").close()  # seeded
    enrolled = Leads(tmp_path / LEADS_FILE)
    enrolled.add("Lee Lead", LEAD_PASSPHRASE, ("lee",), None)
    enrolled.close()
    conversation = big_damaged_order(tmp_path)
    problems: list[str] = []
    for round_ in ("rep", "lead"):
        systems = Systems([open_system(demo_store(tmp_path, timeout_s=30))])
        parts = open_app(qtbot, event_loop_qt, workspace, tmp_path, systems)
        parts.panel.ask_second_approver = lambda action, leads, parts=parts: lead_answers(
            parts, action, leads, problems
        )
        parts.panel.open_conversation(conversation)
        play(event_loop_qt, parts, 1)
        until(event_loop_qt, lambda parts=parts: card_for(parts, "refund_payment") is not None, 30)
        card = card_for(parts, "refund_payment")
        if round_ == "rep":
            assert card.action.proposal.verdict.kind == "needs_approval" and "Needs a lead" in card.text
            approve_and_confirm(event_loop_qt, parts, "refund_payment")
            until(
                event_loop_qt,
                lambda parts=parts: card_for(parts, "refund_payment").action.state == "awaiting_second",
                30,
            )
        else:
            assert card.action.state == "awaiting_second", "the pending approval survived the restart"
            press(card, Qt.Key.Key_A)
            until(event_loop_qt, lambda parts=parts: card_for(parts, "refund_payment").action.state == "done", 30)
        close_app(event_loop_qt, parts, systems)
    store = DemoStore(tmp_path / "demo-store.sqlite3")
    assert store.count_effects("refund_payment") == 1
    store.close()
    assert problems == ["Wrong passphrase for Lee Lead. 4 more wrong tries lock Lee Lead's approvals for 5 minutes."]
    approvals = [r for r in AuditLog(tmp_path / AUDIT_FILE).records() if r.kind == "approved"]
    assert [(r.actor, r.result["role"], r.result["authenticated"]) for r in approvals] == [
        (Settings().user(), "rep", "desk"),
        ("Lee Lead", "lead", "passphrase"),
    ]
    assert [r.result["complete"] for r in approvals] == [False, True]


LEAD_PASSPHRASE = "correct horse battery"


def lead_answers(parts: PanelApp, action: Action, leads: Leads, problems: list[str]) -> Approver | None:
    """Answer the panel's lead dialog as a lead at the rep's desk: a mistyped passphrase, then the right one."""
    dialog = LeadApprovalDialog(leads, "refund", action.proposal.verdict, parts.panel)
    dialog.name.setCurrentText("Lee Lead")
    for typed in ("correct horse batery", LEAD_PASSPHRASE):
        dialog.passphrase.setText(typed)
        dialog.ok.click()
        if dialog.result() != QDialog.DialogCode.Accepted:
            problems.append(dialog.problem.text())
    return dialog.approver


def test_a_store_that_cannot_start_leaves_the_panel_usable(
    qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    broken = SystemConfig(
        name="store",
        transport="stdio",
        command=(sys.executable, "-c", "raise SystemExit(3)"),
        timeout_s=5,
        pre_approved=DEMO_LOOKUPS,
    )
    systems = Systems([open_system(broken)])
    parts = open_app(qtbot, event_loop_qt, workspace, tmp_path, systems)
    parts.panel.open_conversation(demo_conversation("cancellation"))
    play(event_loop_qt, parts, 1)
    until(
        event_loop_qt,
        lambda: parts.panel.customer.retry.isVisible() or "Stale" in parts.panel.customer.record.text(),
        30,
    )
    assert "cannot connect" in parts.panel.customer.record.text()
    assert parts.panel.suggestions.cards, "advice still works without the store"
    close_app(event_loop_qt, parts, systems)


def test_an_action_only_the_rep_can_fill_in_is_completed_in_a_form_and_judged_again(
    qtbot, event_loop_qt, store_app: PanelApp
) -> None:  # type: ignore[no-untyped-def]
    """The address path names update_shipping_address, whose new address only the rep can give: the card
    asks for it (Fill in…, E), the form's arguments are proposed again, and the guardrails judge them."""
    new_address = {"name": "Tom Becker", "line1": "Hauptstr. 5", "city": "Berlin", "postal_code": "10115"}
    new_address["country"] = "DE"
    asked: list[dict[str, Any]] = []

    def fill_in(action, schema):  # type: ignore[no-untyped-def]
        asked.append(schema)
        return {**action.proposal.arguments, "address": new_address}

    store_app.panel.ask_arguments = fill_in
    store_app.panel.open_conversation(demo_conversation("address-change"))
    play(event_loop_qt, store_app, 1)
    until(event_loop_qt, lambda: card_for(store_app, "update_shipping_address") is not None, 30)
    card = card_for(store_app, "update_shipping_address")
    assert card.action.proposal.verdict.rule == "needs-input" and "address" in card.action.proposal.verdict.reason
    press(card, Qt.Key.Key_E)
    cards = store_app.panel.action_cards
    until(
        event_loop_qt, lambda: any(c.action.proposal.arguments.get("address") == new_address for c in cards.cards), 30
    )
    assert "address" in asked[0]["properties"]  # the form is the tool's own schema
    edited = next(c for c in cards.cards if c.action.proposal.tool == "update_shipping_address")
    # nobody has verified Tom yet (message 1): the demo pack's identity rule holds the change, citing its clause
    assert (edited.action.proposal.verdict.rule, edited.action.proposal.verdict.clause) == (
        "identity",
        "security.verification-required",
    )
