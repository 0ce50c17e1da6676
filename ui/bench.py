"""The UI half of `copilot bench`: an offscreen panel plays a conversation while the event loop is timed.

Run as ``python -m ui.bench CONVERSATION.jsonl``; prints one JSON line with the longest stall.
It starts like the app (embedding child process, data folder opened in a thread) and plays the
conversation straight away, so model loading and every analysis fall inside the measured window.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

PACE_S = 0.25
"""Pause between played messages."""


def main(conversation: Path) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    from retrieval.embed import ProcessEmbedder
    from ui.app import before_first_paint, compose, start_workspace
    from ui.stall import StallMonitor

    app = QApplication(sys.argv)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    parts = compose(loop, remember=False)
    before_first_paint()
    parts.panel.show()
    app.processEvents()
    monitor = StallMonitor()
    embedders: list[ProcessEmbedder] = []

    def make_embedder() -> ProcessEmbedder:
        embedders.append(ProcessEmbedder())
        return embedders[-1]

    async def play_through() -> None:
        """Open the conversation and play it one message every PACE_S, as a rep would see it arrive."""
        parts.panel.open_conversation(conversation)
        for _ in iter(parts.player.step, False):  # step() submits the next message; False when none is left
            await asyncio.sleep(PACE_S)

    async def play() -> dict[str, float]:
        monitor.start()
        startup = loop.create_task(start_workspace(parts, make_embedder))
        await play_through()
        await startup
        await parts.session.settle()
        cold = monitor.max_stall_ms
        monitor.start()
        await play_through()
        await parts.session.settle()
        return {
            "max_ui_stall_ms": round(max(cold, monitor.max_stall_ms), 1),
            "cold_ms": round(cold, 1),
            "warm_ms": round(monitor.max_stall_ms, 1),
            "cards": len(parts.panel.policy.cards),
        }

    with loop:
        result = loop.run_until_complete(play())
    for embedder in embedders:
        embedder.close()
    print(json.dumps(result))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
