"""The policy packs window: load with progress, activate, roll back, refused removal, diff view."""

from __future__ import annotations

import asyncio
from pathlib import Path

from copilot.session.tasks import Tasks
from copilot.workspace import Workspace
from retrieval.embed import LocalEmbedder
from tests.copilot.test_workspace import make_pack
from ui.admin.packs import PacksWindow


def settle(loop: asyncio.AbstractEventLoop, window: PacksWindow) -> None:
    async def wait() -> None:
        if window._busy is not None:
            await asyncio.wait([window._busy])

    loop.run_until_complete(wait())


def test_admin_loads_activates_rolls_back_and_sees_the_diff(
    qtbot,
    event_loop_qt,
    tmp_path: Path,  # type: ignore[no-untyped-def]
    embedder: LocalEmbedder,
) -> None:
    workspace = Workspace(tmp_path / "home", embedder)
    workspace.load_pack(make_pack(tmp_path, "acme", "1", {"a.md": "## Window {#refunds.window}\nWithin 30 days.\n"}))
    tasks = Tasks(event_loop_qt)
    window = PacksWindow(workspace, tasks)
    qtbot.addWidget(window)
    window.show()
    progress: list[tuple[int, int]] = []
    window.load_progressed.connect(lambda done, total: progress.append((done, total)))
    window.load(make_pack(tmp_path, "acme", "2", {"a.md": "## Window {#refunds.window}\nWithin 45 days.\n"}))
    settle(event_loop_qt, window)
    assert progress[-1] == (1, 1) and "1 texts embedded" in window.status.text()
    assert [window.table.item(r, 2).text() for r in range(2)] == ["active", "inactive"]
    window.table.selectRow(1)
    assert "[-" not in window.diff.toPlainText() and "30" in window.diff.toPlainText()
    assert "45" in window.diff.toPlainText() and "changed" in window.diff.toPlainText()
    window.activate()
    settle(event_loop_qt, window)
    assert [window.table.item(r, 2).text() for r in range(2)] == ["inactive", "active"]
    window.table.selectRow(1)
    window.rollback()
    settle(event_loop_qt, window)
    assert [window.table.item(r, 2).text() for r in range(2)] == ["active", "inactive"]
    window.table.selectRow(0)
    window.deactivate()
    settle(event_loop_qt, window)
    assert [window.table.item(r, 2).text() for r in range(2)] == ["inactive", "inactive"]
    window.table.selectRow(0)
    window.rollback()  # brings the last active version back
    settle(event_loop_qt, window)
    assert [window.table.item(r, 2).text() for r in range(2)] == ["active", "inactive"]
    window.table.selectRow(0)
    assert not window.buttons["remove"].isEnabled()  # the active version cannot be removed
    window.remove()
    settle(event_loop_qt, window)
    assert "cannot be removed" in window.status.text() and window.table.rowCount() == 2
    window.load(tmp_path / "missing")
    settle(event_loop_qt, window)
    assert "failed" in window.status.text() and "no such file" in window.status.text()
    event_loop_qt.run_until_complete(tasks.aclose())
    workspace.close()
