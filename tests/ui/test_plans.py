"""The disputed-charge plan in the panel against the real demo store (an MCP server over stdio): the rep
approves the plan from its card, the card processor refuses the dispute, the plan stops there with its steps
shown; the app restarts, and the plan goes on from the refused step without running a step twice."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt

from connectors.demo_store.store import DemoStore
from connectors.systems import Systems, open_system
from copilot.actions.connections import demo_store
from copilot.workspace import Workspace
from tests.conftest import demo_conversation
from tests.ui.test_panel import play
from tests.ui.test_panel_actions import close_app, open_app, press
from tests.ui.test_panel_advice import until
from ui.app import PanelApp
from ui.sections.plan import PlanCard

PLAN_TOOLS = {"list_payments", "issue_provisional_credit", "file_dispute", "send_confirmation", "schedule_followup"}


def plan_card(parts: PanelApp) -> PlanCard | None:
    return next(iter(parts.panel.plan_cards.cards), None)


def reaches(loop: asyncio.AbstractEventLoop, parts: PanelApp, state: str, seconds: float) -> PlanCard:
    """The plan card once its plan is in ``state``; failing, says where it is instead."""

    def there() -> bool:
        card = plan_card(parts)
        return card is not None and card.run.state == state

    try:
        until(loop, there, seconds)
    except AssertionError:
        card = plan_card(parts)
        raise AssertionError(f"the plan is not {state}: {card.text if card else 'no plan card'}") from None
    card = plan_card(parts)
    assert card is not None
    return card


def test_the_disputed_charge_plan_stops_at_a_refused_step_and_resumes_after_a_restart(
    qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    DemoStore(tmp_path / "demo-store.sqlite3").close()  # seeded: the processor refuses the first dispute filing
    for round_ in ("before", "after the restart"):
        systems = Systems([open_system(demo_store(tmp_path, timeout_s=30))])
        parts = open_app(qtbot, event_loop_qt, workspace, tmp_path, systems)
        try:
            parts.panel.open_conversation(demo_conversation("double-charge"))
            if round_ == "before":
                play(event_loop_qt, parts, 1)
                until(event_loop_qt, lambda parts=parts: plan_card(parts) is not None, 30)
                card = plan_card(parts)
                assert card is not None and "Proposed" in card.text and "0 of 5 steps done" in card.text
                assert card.buttons["approve"].text() == "Approve the plan (A)"
                assert "billing.duplicate-charge" in card.text
                card.setFocus()
                press(card, Qt.Key.Key_A)
                card = plan_card(parts)
                assert card is not None and card.run.state == "offered", "nothing runs before the confirm"
                assert "Confirm to run steps 1 to 5 in order; nothing has run yet." in card.text
                assert list(card.buttons) == ["confirm", "cancel"]
                press(card, Qt.Key.Key_Return)
                card = reaches(event_loop_qt, parts, "stopped", 60)
                assert "✓ 1. Look up the order's payments" in card.text
                assert "✓ 2. Provisional credit for the duplicate" in card.text
                assert "✗ 3. File the dispute with the card processor <i>(failed)</i>" in card.text
                assert "card processor did not accept the dispute" in card.text
                assert list(card.buttons) == ["retry", "compensate", "handoff"]
                assert card.buttons["retry"].text() == "Retry step 3 (R)"
                shown = {c.action.proposal.tool for c in parts.panel.action_cards.cards}
                assert not shown & PLAN_TOOLS, "a plan's steps show on its card, not as separate actions"
            else:
                card = reaches(event_loop_qt, parts, "stopped", 30)
                assert "2 of 5 steps done" in card.text, "the plan survived the restart"
                card.setFocus()
                press(card, Qt.Key.Key_R)
                card = reaches(event_loop_qt, parts, "done", 60)
                assert "5 of 5 steps done" in card.text and not card.buttons
                assert "✓ 5. Remind the team to follow up" in card.text
        finally:
            close_app(event_loop_qt, parts, systems)
    store = DemoStore(tmp_path / "demo-store.sqlite3")
    counts = {tool: store.count_effects(tool) for tool in PLAN_TOOLS - {"list_payments"}}
    store.close()
    assert counts == dict.fromkeys(PLAN_TOOLS - {"list_payments"}, 1), "every write once, across the restart"
