"""Fixtures of the panel tests that several modules share."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from connectors.systems import Systems, open_system
from copilot.actions.connections import demo_store
from copilot.workspace import Workspace
from tests.ui.test_panel_actions import close_app, open_app
from ui.app import PanelApp


@pytest.fixture
def store_app(qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path) -> Iterator[PanelApp]:  # type: ignore[no-untyped-def]
    """The panel with the demo store connected (in ``tmp_path``), closed after the test."""
    systems = Systems([open_system(demo_store(tmp_path, timeout_s=30))])
    parts = open_app(qtbot, event_loop_qt, workspace, tmp_path, systems)
    yield parts
    close_app(event_loop_qt, parts, systems)
