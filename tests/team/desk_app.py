"""One rep's app for the team tests, run as its own process: the real panel (``ui.app.compose``, offscreen) on the
data folder ``COPILOT_HOME`` names, its systems from that folder's connectors.toml, playing the first message of a
conversation until an action of ``TOOL`` is offered. It then says ``ready`` (a file in GATE), waits for ``go`` so
that every desk approves at the same moment, approves and confirms that action like a rep (A, then Confirm), and
prints the action's end as one JSON line before saving the panel to OUT.

    python -m tests.team.desk_app CONVERSATION TOOL GATE OUT.png
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

WAIT_S = 120


async def _until(done: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + WAIT_S
    while not done():
        if time.monotonic() > deadline:
            raise SystemExit(f"desk_app: gave up waiting for {what}")
        await asyncio.sleep(0.05)


def main(conversation: Path, tool: str, gate: Path, out: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    from copilot.actions.connections import configured, connect
    from copilot.settings import Settings, home
    from retrieval.embed import LocalEmbedder
    from ui.app import compose, start_workspace

    app = QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    user = Settings.load(home()).user()

    async def run() -> None:
        systems = connect(configured(home()))
        parts = compose(loop, systems=systems, remember=False)
        parts.panel.resize(420, 900)
        parts.panel.show()
        await start_workspace(parts, LocalEmbedder)
        parts.bridge.model_status_changed.emit("ready")
        parts.panel.open_conversation(conversation)
        parts.player.step()
        parts.panel.demo.set_progress(parts.player.messages_played, parts.player.messages_total)
        await parts.session.settle()

        def card():  # type: ignore[no-untyped-def]
            return next((c for c in parts.panel.action_cards.cards if c.action.proposal.tool == tool), None)

        await _until(lambda: card() is not None and "approve" in card().buttons, f"a {tool} card to approve")
        (gate / f"ready-{user}").touch()
        await _until((gate / "go").exists, "the go signal")
        action_id = card().action.id
        card().buttons["approve"].click()  # shows what the store's dry run says will change, with Confirm
        await _until(lambda: card() is not None and "confirm" in card().buttons, "Confirm")
        card().buttons["confirm"].click()
        await _until(lambda: card() is not None and card().action.state in ("done", "failed", "unknown"), "the end")
        await parts.session.settle()
        print(
            json.dumps(
                {"desk": user, "action": action_id, "state": card().action.state, "message": card().action.message}
            )
        )
        parts.panel.cards_area.ensureWidgetVisible(parts.panel.action_cards, 0, 0)
        app.processEvents()
        parts.panel.grab().save(str(out))
        await parts.aclose()
        await systems.aclose()

    with loop:
        loop.run_until_complete(run())


if __name__ == "__main__":
    main(Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]))
