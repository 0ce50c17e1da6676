"""`copilot screenshot`: the real panel, fed a conversation offscreen, saved as a PNG."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from base.errors import CopilotError

if TYPE_CHECKING:
    from ui.app import PanelApp


def render_screenshot(
    out: Path,
    conversation: Path | None,
    upto: int | None,
    window: str = "panel",
    store: bool = False,
    approve: bool = False,
) -> None:
    """Play the first ``upto`` messages of ``conversation`` (all when None) and save the panel,
    or save the policy packs window (``window="packs"``) with its newest inactive version selected.
    With ``store`` the data folder's systems are connected (connectors.toml, else the demo store): customer
    record, actions; ``approve`` approves the first action that may run before the picture is taken."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication, QWidget

    from copilot.actions.connections import configured, connect
    from copilot.settings import home
    from retrieval.embed import LocalEmbedder
    from ui.app import compose, start_workspace

    app = QApplication.instance() or QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    async def play() -> None:
        systems = connect(configured(home())) if store else None
        parts = compose(loop, systems=systems, remember=False)
        parts.panel.show()
        await start_workspace(parts, LocalEmbedder)
        parts.bridge.model_status_changed.emit("ready")
        if conversation is not None:
            parts.panel.open_conversation(conversation)
            if not parts.panel.player.messages_total:
                raise CopilotError(f"{conversation}: no readable message events; check it with `copilot replay`")
            played = 0
            while (upto is None or played < upto) and parts.panel.player.step():
                played += 1
            parts.panel.demo.set_progress(parts.panel.player.messages_played, parts.panel.player.messages_total)
            await parts.session.settle()
            if store:
                await _settle_actions(parts, approve)
                parts.panel.cards_area.ensureWidgetVisible(parts.panel.action_cards, 0, 0)
        shown: QWidget = parts.panel
        if window == "packs":
            from ui.admin.packs import PacksWindow

            shown = packs = PacksWindow((await parts.ready).workspace, parts.tasks)
            packs.show()
            versions = packs.workspace.catalog.versions()
            active_names = {v.name for v in versions if v.active}
            inactive = [i for i, v in enumerate(versions) if not v.active and v.name in active_names]
            packs.table.selectRow(inactive[-1] if inactive else 0)
        app.processEvents()
        out.parent.mkdir(parents=True, exist_ok=True)
        if not shown.grab().save(str(out)):
            raise CopilotError(f"could not write {out}; check the folder exists and is writable")
        await parts.aclose()
        if systems is not None:
            await systems.aclose()

    with loop:
        loop.run_until_complete(play())


async def _settle_actions(parts: PanelApp, approve: bool) -> None:
    """Wait for lookups and proposals (and, with ``approve``, for the first runnable action to finish)."""
    steady, known = 0, -1
    for _ in range(400):  # until the lookups have stopped adding results for a second and the cards are shown
        await asyncio.sleep(0.05)
        await parts.session.settle()
        conversation = parts.session.analysis.conversation
        results = len(conversation.tools) if conversation is not None else 0
        steady, known = (steady + 1, known) if results == known else (0, results)
        if steady >= 20 and parts.panel.action_cards.cards:
            break
    if approve:
        card = next((c for c in parts.panel.action_cards.cards if "approve" in c.buttons), None)
        if card is not None:
            card.buttons["approve"].click()
            for _ in range(200):
                await asyncio.sleep(0.05)
                done = [c for c in parts.panel.action_cards.cards if c.action.id == card.action.id]
                if done and done[0].action.state in ("done", "failed", "unknown"):
                    break
            await parts.session.settle()
