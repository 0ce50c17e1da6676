"""The panel driven like a rep would see it: cards with citations on every message, focus left alone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit

from copilot.workspace import Workspace
from tests.conftest import demo_conversation
from ui.app import PanelApp, compose, start_workspace


@pytest.fixture
def panel_app(qtbot, event_loop_qt, workspace: Workspace) -> Iterator[PanelApp]:  # type: ignore[no-untyped-def]
    parts = compose(event_loop_qt, remember=False)  # the shared demo data folder: every test plays from the start
    qtbot.addWidget(parts.panel)
    event_loop_qt.run_until_complete(start_workspace(parts, lambda: workspace.embedder))
    yield parts
    event_loop_qt.run_until_complete(parts.aclose())


def play(loop: asyncio.AbstractEventLoop, parts: PanelApp, messages: int) -> None:
    async def run() -> None:
        for _ in range(messages):
            parts.player.step()
            await parts.session.settle()

    loop.run_until_complete(run())


def test_cards_follow_the_conversation_and_never_take_focus(qtbot, event_loop_qt, panel_app: PanelApp) -> None:  # type: ignore[no-untyped-def]
    helpdesk = QLineEdit()  # the rep's own tool, where they are typing
    qtbot.addWidget(helpdesk)
    helpdesk.show()
    panel_app.panel.show()
    helpdesk.activateWindow()
    helpdesk.setFocus()
    qtbot.waitUntil(helpdesk.hasFocus)
    panel_app.panel.open_conversation(demo_conversation("refund-outside-window"))
    seen: list[list[str]] = []
    for _ in range(3):
        play(event_loop_qt, panel_app, 1)
        cards = panel_app.panel.policy.cards
        seen.append([c.hit.citation for c in cards])
        assert helpdesk.hasFocus(), "a panel update took the keyboard from the helpdesk"
        assert not panel_app.panel.isActiveWindow()
    assert all(c.startswith("northwind-retail@2025.6#") for cards in seen for c in cards)
    assert any("returns." in c or "refunds." in c for cards in seen for c in cards)
    assert panel_app.panel.transcript.count() >= 3
    assert "northwind-retail@2025.6" in panel_app.panel.header._context.text()


def test_keyboard_expands_a_card_and_copies_its_citation(qtbot, event_loop_qt, panel_app: PanelApp) -> None:  # type: ignore[no-untyped-def]
    panel = panel_app.panel
    panel.show()
    panel.open_conversation(demo_conversation("double-charge"))
    play(event_loop_qt, panel_app, 1)
    card = panel.policy.cards[0]
    short = card.body_text
    qtbot.keyClick(card, Qt.Key.Key_Return)
    assert card.expanded and card.body_text == card.hit.text and len(card.body_text) >= len(short)
    qtbot.keyClick(card, Qt.Key.Key_C)
    assert QGuiApplication.clipboard().text() == card.hit.citation
    assert card.hit.citation in panel.notices.text


def test_typed_message_and_non_english_notice(qtbot, event_loop_qt, panel_app: PanelApp) -> None:  # type: ignore[no-untyped-def]
    panel = panel_app.panel
    panel.show()
    panel.demo.role.setCurrentIndex(0)
    panel.demo.composer.setText(
        "Hola, quiero devolver la lámpara porque llegó rota y no funciona"
    )  # QTest types ASCII only
    qtbot.keyClick(panel.demo.composer, Qt.Key.Key_Return)
    event_loop_qt.run_until_complete(panel_app.session.settle())
    assert "Spanish" in panel.notices.text and panel.notices.isVisible()
    for text in (
        "My parcel never arrived and the tracking has not moved for a week",
        "It was supposed to come last Monday",
        "Can you check where it is please",
    ):
        qtbot.keyClicks(panel.demo.composer, text)
        qtbot.keyClick(panel.demo.composer, Qt.Key.Key_Return)
        event_loop_qt.run_until_complete(panel_app.session.settle())
        if text.startswith("My parcel"):
            assert any(c.hit.clause_id.startswith("shipping.") for c in panel.policy.cards)
            assert "Spanish" in panel.notices.text, "the notice covers the customer's recent messages"
    assert "Spanish" not in panel.notices.text


def test_no_grounded_answer_is_said_plainly(qtbot, event_loop_qt, panel_app: PanelApp) -> None:  # type: ignore[no-untyped-def]
    panel = panel_app.panel
    panel.show()
    panel.player.type_message("customer", "What is the boiling point of liquid nitrogen in kelvin?")
    event_loop_qt.run_until_complete(panel_app.session.settle())
    assert panel.policy.cards == []
    assert "no grounded answer" in panel.policy.status_text


def test_bad_event_lines_show_in_the_banner_and_good_ones_play(
    qtbot, event_loop_qt, panel_app: PanelApp, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    source = demo_conversation("order-status").read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([source[0], "{oops", *source[1:]]))
    panel = panel_app.panel
    panel.show()
    panel.open_conversation(broken)
    play(event_loop_qt, panel_app, 1)
    assert "broken.jsonl:2" in panel.notices.text
    assert panel.transcript.count() >= 1 and panel.policy.cards
