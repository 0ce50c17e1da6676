"""The panel's advice as a rep meets it: escalation banner, flags, next steps, the draft editor with
verification, overrides, stale drafts, a draft surviving a restart, and an LLM draft streamed in."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from copilot.reasoner import Review
from copilot.reasoning.claims import Unsupported
from copilot.reasoning.escalation import Escalation
from copilot.records.database import sqlite_url
from copilot.records.store import Records
from copilot.settings import Settings
from copilot.workspace import Workspace
from tests.conftest import demo_conversation
from tests.fakes.openai_server import FakeOpenAI
from tests.ui.test_panel import play
from ui.app import PanelApp, compose, start_workspace
from ui.panel import ask_override
from ui.sections.alerts import EscalationBanner


def open_app(qtbot, loop, workspace: Workspace, folder: Path) -> PanelApp:  # type: ignore[no-untyped-def]
    parts = compose(loop, folder)
    qtbot.addWidget(parts.panel)
    loop.run_until_complete(start_workspace(parts, lambda: workspace.embedder))
    return parts


def until(loop: asyncio.AbstractEventLoop, predicate: Callable[[], bool], seconds: float = 10) -> None:
    """Run the app's loop (Qt and asyncio) until ``predicate`` holds."""

    async def wait() -> None:
        for _ in range(int(seconds * 20)):
            if predicate():
                return
            await asyncio.sleep(0.05)
        raise AssertionError("condition not met in time")

    loop.run_until_complete(wait())


def type_draft(loop: asyncio.AbstractEventLoop, parts: PanelApp, text: str) -> None:
    """Replace the editor's text as the rep would, then let the review run."""
    parts.panel.draft.editor.setPlainText(text)  # not programmatic: counts as the rep's edit
    until(loop, lambda: not parts.panel._review_timer.isActive())
    loop.run_until_complete(asyncio.sleep(0.2))


@pytest.fixture
def opened(qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path) -> Iterator[Callable[[], PanelApp]]:  # type: ignore[no-untyped-def]
    """Opens the app on ``tmp_path`` (again, for a restart); every one opened is closed afterwards."""
    apps: list[PanelApp] = []

    def open_one() -> PanelApp:
        apps.append(open_app(qtbot, event_loop_qt, workspace, tmp_path))
        return apps[-1]

    yield open_one
    for parts in apps:
        event_loop_qt.run_until_complete(parts.aclose())


@pytest.fixture
def app(opened: Callable[[], PanelApp]) -> PanelApp:
    return opened()


def test_banner_next_steps_and_draft_for_a_bereavement(event_loop_qt, app: PanelApp) -> None:  # type: ignore[no-untyped-def]
    app.panel.open_conversation(demo_conversation("bereavement"))
    play(event_loop_qt, app, 1)
    panel = app.panel
    assert not panel.escalation.isHidden() and "bereavement" in panel.escalation.text
    assert "message #1" in panel.escalation.text
    assert 1 <= len(panel.suggestions.cards) <= 4
    assert panel.draft.editor.toPlainText().startswith("Hi Helen,") and not panel.draft.edited_by_rep


def test_accepting_a_path_from_the_keyboard_uses_its_draft(qtbot, event_loop_qt, app: PanelApp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    app.panel.open_conversation(demo_conversation("cancellation"))
    play(event_loop_qt, app, 1)
    cards = app.panel.suggestions.cards
    assert len(cards) >= 2
    second = cards[1]
    qtbot.keyClick(second, Qt.Key.Key_Return)
    assert app.panel.draft.state_text.startswith(f"Draft for “{second.suggestion.title}”")
    qtbot.keyClick(app.panel.suggestions.cards[0], Qt.Key.Key_Delete)
    decisions = Records.open(sqlite_url(tmp_path / "journal.sqlite3")).journal.decisions("cancellation")
    assert [d[3] for d in decisions] == ["accepted", "dismissed"]
    assert all(c.suggestion.title != cards[0].suggestion.title for c in app.panel.suggestions.cards)


def test_unbacked_figures_are_marked_and_inserting_them_is_a_recorded_override(
    qtbot, event_loop_qt, app: PanelApp, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    app.panel.open_conversation(demo_conversation("cancellation"))
    play(event_loop_qt, app, 1)
    text = "Hi Marcus, I'll refund $500 and it will be back within 2 business days."
    type_draft(event_loop_qt, app, text)
    until(event_loop_qt, lambda: "$500" in app.panel.draft.reasons_text)
    assert app.panel.draft.editor.extraSelections()
    asked: list[Review] = []

    async def refuse(review: Review) -> bool:
        asked.append(review)
        return False

    async def confirm(review: Review) -> bool:
        return True

    app.panel.confirm_override = refuse
    event_loop_qt.run_until_complete(app.panel._insert(text))
    assert asked and not Records.open(sqlite_url(tmp_path / "journal.sqlite3")).journal.overrides()
    app.panel.confirm_override = confirm
    event_loop_qt.run_until_complete(app.panel._insert(text))
    [override] = Records.open(sqlite_url(tmp_path / "journal.sqlite3")).journal.overrides()
    assert {u["text"] for u in override["unsupported"]} >= {"$500"}
    assert QGuiApplication.clipboard().text() == text


def test_an_edited_draft_goes_stale_then_survives_a_restart(event_loop_qt, opened: Callable[[], PanelApp]) -> None:  # type: ignore[no-untyped-def]
    first = opened()
    first.panel.open_conversation(demo_conversation("damaged-item"))
    play(event_loop_qt, first, 1)
    edited = first.panel.draft.editor.toPlainText() + "\n\nP.S. Photos help us a lot."
    type_draft(event_loop_qt, first, edited)
    play(event_loop_qt, first, 1)
    assert first.panel.draft.state_text.startswith("<b>Stale:</b>") and not first.panel.draft.refresh.isHidden()
    assert first.panel.draft.editor.toPlainText() == edited
    event_loop_qt.run_until_complete(first.aclose())
    second = opened()  # a restart: the conversation resumes after its second message, the edit still there
    second.panel.open_conversation(demo_conversation("damaged-item"))
    event_loop_qt.run_until_complete(second.session.settle())
    until(event_loop_qt, lambda: second.panel.draft.editor.toPlainText() == edited, 30)
    assert second.player.messages_played == 2
    assert second.panel.draft.state_text.startswith("<b>Stale:</b>")


def test_an_llm_draft_streams_in_redacted_and_falls_back_on_error(
    event_loop_qt, opened: Callable[[], PanelApp], tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    server = FakeOpenAI(reply="Thanks for waiting, I have checked the order")
    server.start()
    try:
        Settings(llm_base_url=server.base_url, llm_model="fake-model", llm_timeout_s=2).save(tmp_path)
        app = opened()
        assert app.panel.draft.ai.isEnabled()
        app.panel.open_conversation(demo_conversation("address-change"))
        play(event_loop_qt, app, 1)
        app.panel.draft.ai.click()
        until(
            event_loop_qt,
            lambda: "checked the order" in app.panel.draft.editor.toPlainText() and not app.panel.draft.streaming,
        )
        sent = str(server.requests[-1])
        assert "Tom Becker" not in sent and "NW-18220" not in sent and "[ORDER_1]" in sent
        assert app.session.analysis.insight is not None
        template = app.session.analysis.insight.advice.reply.text
        server.mode = "error"
        app.panel.draft.ai.click()
        until(event_loop_qt, lambda: "unavailable" in app.panel.draft.state_text)
        app.panel._use_current_draft()
        assert app.panel.draft.editor.toPlainText() == template
    finally:
        server.stop()


def test_a_long_classifier_evidence_is_cut_short_in_the_banner(qtbot) -> None:  # type: ignore[no-untyped-def]
    banner = EscalationBanner()
    qtbot.addWidget(banner)
    example = "my husband died 3 weeks ago and I keep getting emails addressed to him about his wishlist, please stop"
    banner.show_escalations([Escalation("bereavement", 1, f"reads like bereavement (0.95), as in “{example}”")])
    shown = banner.text
    assert "reads like bereavement (0.95)" in shown and "wishlist" not in shown and "…" in shown


def test_the_override_question_waits_without_holding_other_work(qtbot, event_loop_qt) -> None:  # type: ignore[no-untyped-def]
    parent = QWidget()
    qtbot.addWidget(parent)
    parent.show()
    review = Review(unsupported=(Unsupported(0, 4, "$500", "no cited clause backs $500"),))

    async def ask_while_working() -> bool:
        question = asyncio.ensure_future(ask_override(parent, review))
        await asyncio.sleep(0.05)  # other work of the app runs while the question is open
        box = parent.findChild(QMessageBox)
        assert box is not None and box.isVisible() and "no cited clause backs $500" in box.text()
        assert not question.done()
        box.button(QMessageBox.StandardButton.Yes).click()
        return await question

    assert event_loop_qt.run_until_complete(ask_while_working())
