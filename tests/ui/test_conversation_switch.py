"""Switching conversations in the panel: nothing of the previous customer stays, and each comes back as it was
left, also after a restart."""

from __future__ import annotations

from pathlib import Path

from copilot.workspace import Workspace
from tests.conftest import demo_conversation
from tests.ui.test_panel import play
from tests.ui.test_panel_advice import open_app, until
from ui.app import PanelApp


def _shown(parts: PanelApp) -> str:
    panel = parts.panel
    return " ".join(
        [
            panel.escalation.text,
            panel.suggestions.status_text,
            *(card.text for card in panel.suggestions.cards),
            panel.draft.editor.toPlainText(),
        ]
    )


def test_switching_shows_no_other_customer_and_a_restart_resumes_where_the_rep_was(
    qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    parts = open_app(qtbot, event_loop_qt, workspace, tmp_path)
    bereavement = demo_conversation("bereavement")
    parts.panel.open_conversation(bereavement)
    play(event_loop_qt, parts, 3)
    until(event_loop_qt, lambda: "Helen" in _shown(parts), 30)
    parts.panel.open_conversation(demo_conversation("double-charge"))
    # At once, before any analysis of the new conversation: no banner, path or "Hi Helen" draft is left.
    assert "Helen" not in _shown(parts)
    assert not parts.panel.escalation.isVisibleTo(parts.panel)
    play(event_loop_qt, parts, 1)
    parts.panel.open_conversation(bereavement)  # back: exactly where it was left
    until(event_loop_qt, lambda: "Helen" in _shown(parts), 30)
    assert parts.player.messages_played == 3
    assert "bereavement" in parts.panel.escalation.text.lower()
    event_loop_qt.run_until_complete(parts.aclose())

    again = open_app(qtbot, event_loop_qt, workspace, tmp_path)  # a restart: the app opens what was open
    opened = again.session.analysis.memory.opened()
    assert opened is not None and Path(opened.source) == bereavement.resolve()
    again.panel.open_conversation(Path(opened.source))
    until(event_loop_qt, lambda: "Helen" in _shown(again), 30)
    assert again.player.messages_played == 3
    again.panel.start_over()
    assert again.player.messages_played == 0
    assert "Helen" not in _shown(again)
    event_loop_qt.run_until_complete(again.aclose())


def test_the_header_says_a_message_is_being_analysed_until_its_advice_arrives(
    qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    parts = open_app(qtbot, event_loop_qt, workspace, tmp_path)
    parts.panel.open_conversation(demo_conversation("cancellation"))
    parts.player.step()
    assert parts.panel.header.analysing_text.startswith("Analysing message #1…")
    event_loop_qt.run_until_complete(parts.session.settle())
    until(event_loop_qt, lambda: parts.panel.header.analysing_text == "", 10)
    event_loop_qt.run_until_complete(parts.aclose())
