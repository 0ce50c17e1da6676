"""Following a case in the panel as a rep would: sections that fold and stay folded, a draft editor that keeps
its room, approving an action only after seeing what it changes, path cards in words, every card kind in the
records with what the rep did, and a blank conversation from a key."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeyEvent, QShortcut
from PySide6.QtWidgets import QApplication

from connectors.demo_store.store import DemoStore
from connectors.systems import Systems, open_system
from copilot.actions.audit import AUDIT_FILE, AuditLog
from copilot.actions.connections import demo_store
from copilot.reasoner import Review
from copilot.records.database import sqlite_url
from copilot.records.models import Kind, Outcome, Reason
from copilot.records.shown import DRAFT_KEY
from copilot.records.store import CardFilter, CardRecord, Records
from copilot.workspace import Workspace
from tests.conftest import demo_conversation
from tests.ui.test_panel import play
from tests.ui.test_panel_advice import until
from ui.app import PanelApp, compose, start_workspace
from ui.sections.collapsible import PANEL_FILE
from ui.sections.draft import MIN_LINES

BUSIEST = ("chargeback-threat", "bereavement")
"""The demo conversations whose last message leaves the least room for the editor (measured over all 14 with the
demo store connected): three escalations in the banner and eight cards; the banner and notes under the draft."""


def open_app(qtbot, loop, workspace: Workspace, folder: Path, systems: Systems | None = None) -> PanelApp:  # type: ignore[no-untyped-def]
    parts = compose(loop, folder, systems)
    qtbot.addWidget(parts.panel)
    loop.run_until_complete(start_workspace(parts, lambda: workspace.embedder))
    return parts


@pytest.fixture
def store_app(qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path) -> Iterator[PanelApp]:  # type: ignore[no-untyped-def]
    systems = Systems([open_system(demo_store(tmp_path, timeout_s=30))])
    parts = open_app(qtbot, event_loop_qt, workspace, tmp_path, systems)
    yield parts
    event_loop_qt.run_until_complete(parts.aclose())
    event_loop_qt.run_until_complete(systems.aclose())


def press(widget, key: int, text: str = "") -> None:  # type: ignore[no-untyped-def]
    """One key press delivered to ``widget`` (as test_panel_actions.press: no spin of Qt's queue)."""
    QApplication.sendEvent(widget, QKeyEvent(QEvent.Type.KeyPress, key, Qt.KeyboardModifier.NoModifier, text))


def shortcut(parts: PanelApp, keys: str) -> QShortcut:
    found = [s for s in parts.panel.findChildren(QShortcut) if s.key().toString() == keys]
    assert len(found) == 1, f"one shortcut for {keys}"
    return found[0]


def action_card(parts: PanelApp, tool: str):  # type: ignore[no-untyped-def]
    return next((c for c in parts.panel.action_cards.cards if c.action.proposal.tool == tool), None)


def cancellation_with_its_action(loop: asyncio.AbstractEventLoop, parts: PanelApp) -> None:
    """The cancellation demo's first message, until the store's order is read and cancelling it is proposed."""
    parts.panel.open_conversation(demo_conversation("cancellation"))
    play(loop, parts, 1)
    until(loop, lambda: action_card(parts, "cancel_order") is not None, 30)


def asked_to_confirm(loop: asyncio.AbstractEventLoop, parts: PanelApp, tool: str) -> None:
    """A on the tool's card, until it shows what it would change and waits for the confirm."""
    press(action_card(parts, tool), Qt.Key.Key_A)
    until(loop, lambda: "confirm" in action_card(parts, tool).buttons, 30)


def test_sections_fold_from_their_title_or_key_and_stay_folded_after_a_restart(
    qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    first = open_app(qtbot, event_loop_qt, workspace, tmp_path)
    panel = first.panel
    panel.show()
    qtbot.mouseClick(panel.suggestions.toggle_button, Qt.MouseButton.LeftButton)
    shortcut(first, "Alt+P").activated.emit()
    assert panel.suggestions.collapsed and panel.suggestions.body.isHidden()
    assert panel.policy.collapsed and not panel.customer.collapsed and not panel.action_cards.collapsed
    assert json.loads((tmp_path / PANEL_FILE).read_text())["folded"] == ["Next steps", "Policy"]
    shortcut(first, "Alt+P").activated.emit()  # unfolded again
    event_loop_qt.run_until_complete(first.aclose())
    again = open_app(qtbot, event_loop_qt, workspace, tmp_path)
    assert again.panel.suggestions.collapsed and not again.panel.policy.collapsed
    again.panel.suggestions.focus_first()  # the key that goes to a folded section's cards unfolds it
    assert not again.panel.suggestions.collapsed
    event_loop_qt.run_until_complete(again.aclose())


@pytest.mark.parametrize("busiest", BUSIEST)
def test_the_draft_editor_keeps_ten_lines_at_the_default_size_in_the_busiest_conversation(
    event_loop_qt, store_app: PanelApp, busiest: str
) -> None:  # type: ignore[no-untyped-def]
    panel = store_app.panel
    panel.show()
    panel.open_conversation(demo_conversation(busiest))
    play(event_loop_qt, store_app, panel.player.messages_total)
    # and flags on top of the banner: the rep's own promise
    panel.player.type_message("rep", "I guarantee you will get every penny back today, 100% sure.")
    event_loop_qt.run_until_complete(store_app.session.settle())
    until(event_loop_qt, lambda: bool(panel.turn_flags.lines) and bool(panel.action_cards.cards), 30)
    event_loop_qt.run_until_complete(asyncio.sleep(1))  # the draft's review and its notes
    QApplication.processEvents()
    assert panel.escalation.lines and not panel.escalation.isHidden() and not panel.turn_flags.isHidden()
    editor = panel.draft.editor
    visible = editor.viewport().height() / editor.fontMetrics().lineSpacing()
    assert (panel.width(), panel.height()) == (420, 900)
    assert visible >= MIN_LINES, f"the editor shows {visible:.1f} lines"


def test_approving_shows_what_changes_and_only_a_confirm_runs_it(
    event_loop_qt, store_app: PanelApp, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    cancellation_with_its_action(event_loop_qt, store_app)
    asked_to_confirm(event_loop_qt, store_app, "cancel_order")
    card = action_card(store_app, "cancel_order")
    assert "Will change" in card.text and "status: processing → cancelled" in card.text
    assert "nothing has run yet" in card.text and card.action.state == "proposed"
    press(card, Qt.Key.Key_Escape)  # cancel: back to the usual buttons, nothing approved
    card = action_card(store_app, "cancel_order")
    assert "approve" in card.buttons and "confirm" not in card.buttons
    event_loop_qt.run_until_complete(asyncio.sleep(0.5))
    store = DemoStore(tmp_path / "demo-store.sqlite3")
    assert store.call("get_order", {"order_id": "NW-11730"})["status"] == "processing"
    assert store.count_effects("cancel_order") == 0
    store.close()
    assert [r.kind for r in AuditLog(tmp_path / AUDIT_FILE).records() if r.tool == "cancel_order"] == ["proposed"]
    press(card, Qt.Key.Key_A)  # the preview is known now: the confirm comes at once
    card = action_card(store_app, "cancel_order")
    assert "Will change" in card.text and "confirm" in card.buttons
    press(card, Qt.Key.Key_Return)
    until(event_loop_qt, lambda: action_card(store_app, "cancel_order").action.state == "done", 30)


def test_path_cards_name_tools_in_the_packs_words(event_loop_qt, store_app: PanelApp) -> None:  # type: ignore[no-untyped-def]
    panel = store_app.panel
    panel.open_conversation(demo_conversation("damaged-item"))
    play(event_loop_qt, store_app, 1)
    until(event_loop_qt, lambda: bool(panel.action_cards.cards), 30)
    texts = [c.text for c in panel.suggestions.cards]
    tools = {t for c in panel.suggestions.cards for t in c.suggestion.actions}
    assert {"get_order", "create_ticket"} <= tools and not [t for t in tools if any(t in text for text in texts)]
    assert any("Does: Look up the order" in t for t in texts), texts  # systems.toml: get_order reads the order
    assert any("open a support ticket" in t for t in texts), texts  # the store's own words for create_ticket


def recorded(loop: asyncio.AbstractEventLoop, parts: PanelApp, folder: Path, conversation_id: str) -> list[CardRecord]:
    loop.run_until_complete(parts.session.reply.records_written())
    return Records.open(sqlite_url(folder / "journal.sqlite3")).cards(CardFilter(conversation_id=conversation_id))


def test_every_card_kind_ends_up_in_the_records_with_what_the_rep_did(
    event_loop_qt, store_app: PanelApp, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    panel = store_app.panel
    cancellation_with_its_action(event_loop_qt, store_app)
    clause = panel.policy.cards[0]
    press(clause, Qt.Key.Key_Return)  # expanded
    press(clause, Qt.Key.Key_C)  # copied
    press(clause, Qt.Key.Key_Plus, "+")  # thumbs up
    rejected_path = panel.suggestions.cards[-1].suggestion.title
    press(panel.suggestions.cards[-1], Qt.Key.Key_3)  # rejected: not relevant, one keystroke
    assert "not relevant" in panel.notices.text
    asked_to_confirm(event_loop_qt, store_app, "cancel_order")
    action_id = action_card(store_app, "cancel_order").action.id
    press(action_card(store_app, "cancel_order"), Qt.Key.Key_Return)
    until(event_loop_qt, lambda: action_card(store_app, "cancel_order").action.state == "done", 30)

    panel.player.type_message("customer", "This is unacceptable, I want to speak to a manager right now.")
    event_loop_qt.run_until_complete(store_app.session.settle())
    assert panel.escalation.lines
    escalation = panel.escalation.lines[0]
    press(escalation, Qt.Key.Key_1)  # rejected: wrong
    shortcut(store_app, "F8").activated.emit()  # thumbs down on the draft

    async def yes(_review: Review) -> bool:
        return True

    panel.confirm_override = yes
    draft_text = panel.draft.editor.toPlainText()
    event_loop_qt.run_until_complete(panel._insert(draft_text))  # Ctrl+Enter
    panel.player.type_message("rep", "I guarantee the manager will call you back today.")
    event_loop_qt.run_until_complete(store_app.session.settle())
    until(event_loop_qt, lambda: bool(panel.turn_flags.lines), 30)
    flag = panel.turn_flags.lines[0]
    press(flag, Qt.Key.Key_Delete)  # rejected, no reason
    panel.player.type_message("customer", "ok thanks")  # what is left undecided is ignored now
    event_loop_qt.run_until_complete(store_app.session.settle())

    cards = recorded(event_loop_qt, store_app, tmp_path, "cancellation")
    first = [c for c in cards if c.seq == 1]
    [looked] = [c for c in first if c.kind is Kind.CLAUSE and c.key == clause.hit.citation]
    assert [a for a, _ in looked.actions] == [Outcome.DISPLAYED, Outcome.EXPANDED, Outcome.COPIED, Outcome.IGNORED]
    assert looked.thumb == 1
    [path] = [c for c in first if c.kind is Kind.SUGGESTION and c.key == rejected_path]
    assert (path.outcome, path.reason) == (Outcome.REJECTED, Reason.NOT_RELEVANT)
    [action] = [c for c in cards if c.kind is Kind.ACTION and c.key == action_id]
    assert action.outcome is Outcome.SENT and action.decision_ms is not None
    [escalated] = [c for c in cards if c.kind is Kind.ESCALATION and c.key == escalation.key and c.reason]
    assert (escalated.outcome, escalated.reason) == (Outcome.REJECTED, Reason.WRONG)
    inserted = [c for c in cards if c.kind is Kind.DRAFT and c.key == DRAFT_KEY and c.thumb == -1]
    assert len(inserted) == 1 and inserted[0].outcome in (Outcome.SENT, Outcome.EDITED)
    assert Outcome.INSERTED in [a for a, _ in inserted[0].actions] and inserted[0].sent_text
    [flagged] = [c for c in cards if c.kind is Kind.FLAG and c.key == flag.key]
    assert (flagged.outcome, flagged.reason) == (Outcome.REJECTED, None)
    kinds = {c.kind for c in cards}
    assert kinds == set(Kind), f"every card kind is recorded: {kinds}"
    assert any(c.outcome is Outcome.IGNORED for c in first), "undecided cards become ignored"


def test_a_blank_conversation_from_a_key_keeps_the_one_before(
    qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    parts = open_app(qtbot, event_loop_qt, workspace, tmp_path)
    panel = parts.panel
    panel.show()
    panel.activateWindow()
    panel.open_conversation(demo_conversation("bereavement"))
    play(event_loop_qt, parts, 1)
    assert panel.escalation.lines and "Helen" in panel.draft.editor.toPlainText()
    shortcut(parts, "Ctrl+N").activated.emit()
    blank = parts.session.analysis.conversation
    assert blank is not None and blank.id.startswith("new-") and not blank.turns
    assert panel.transcript.count() == 0 and not panel.policy.cards and not panel.suggestions.cards
    assert panel.escalation.isHidden() and panel.draft.editor.toPlainText() == ""
    qtbot.waitUntil(panel.demo.composer.hasFocus)
    qtbot.keyClicks(panel.demo.composer, "My parcel never arrived")
    qtbot.keyClick(panel.demo.composer, Qt.Key.Key_Return)
    event_loop_qt.run_until_complete(parts.session.settle())
    assert parts.session.analysis.conversation.id == blank.id and panel.transcript.count() == 1
    shortcut(parts, "Ctrl+N").activated.emit()
    assert parts.session.analysis.conversation.id != blank.id  # another one, as blank
    panel.open_conversation(demo_conversation("bereavement"))  # the one before, as it was left
    assert panel.player.messages_played == 1 and panel.transcript.count() >= 1
    event_loop_qt.run_until_complete(parts.session.settle())
    assert "Helen" in panel.draft.editor.toPlainText()
    left = parts.session.analysis.memory.recall(blank.id)
    assert left is not None and [t.text for t in left.conversation.turns] == ["My parcel never arrived"]
    event_loop_qt.run_until_complete(parts.aclose())
