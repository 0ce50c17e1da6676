"""The app's real shutdown, in a child process as a rep meets it: SIGTERM or a closed window at any moment
(the first-run pack load, an analysis in flight, a review just requested) ends the process within seconds,
with exit status 0 and nothing on stderr about tasks destroyed pending, coroutines never awaited,
warnings or tracebacks.

Run as ``python -m tests.ui.test_shutdown close|sigterm CONVERSATION`` the module is the driver: it starts
the app with ``ui.app.run_app`` (what ``copilot run`` calls), acts like a rep through the panel and exits
the process as ``copilot run`` does.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from copilot.conversation.events import ConversationStarted, read_events
from copilot.conversation.state import Conversation
from copilot.pipeline import Pipeline
from copilot.workspace import Workspace
from tests.conftest import REPO, demo_conversation

NOISE = (
    "Traceback",
    "Task was destroyed",
    "was never awaited",
    "Exception ignored",
    "Warning",
    "Fatal Python error",
    "ERROR",
)
"""What must not appear on stderr while the app closes."""
PROMPT_S = 5.0
"""Generous for a loaded 2-core machine; the app closes in well under a second when idle."""


class Running:
    """A child process whose stderr is read line by line (in a thread) until it exits; leaving the ``with``
    block kills it if it is still running."""

    def __init__(self, args: list[str], home: Path) -> None:
        env = dict(os.environ, COPILOT_HOME=str(home), QT_QPA_PLATFORM="offscreen", PYTHONWARNINGS="default")
        self.process = subprocess.Popen(args, cwd=REPO, env=env, stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def __enter__(self) -> Running:
        return self

    def __exit__(self, *_: object) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()
        self._reader.join()
        assert self.process.stderr is not None
        self.process.stderr.close()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._seen:
                self.lines.append(line)
                self._seen.notify_all()

    def wait_for(self, marker: str, timeout: float = 180) -> None:
        with self._seen:
            found = self._seen.wait_for(lambda: any(marker in line for line in self.lines), timeout)
        assert found, f"no {marker!r} on stderr:\n{self.stderr}"

    def exit_seconds(self, since: float) -> float:
        """Seconds from ``since`` (a time.monotonic()) until the process exited (and said all it had to)."""
        self.process.wait(timeout=120)
        seconds = time.monotonic() - since
        self._reader.join()
        return seconds

    @property
    def stderr(self) -> str:
        with self._seen:
            return "".join(self.lines)


def assert_quiet(stderr: str) -> None:
    noisy = [line for line in stderr.splitlines() if any(word in line for word in NOISE)]
    assert not noisy, "\n".join(noisy) + "\n\n" + stderr


def test_sigterm_during_the_first_run_pack_load_exits_at_once(fresh_home: Path) -> None:
    with Running([sys.executable, "-m", "cli.main", "-v", "run"], fresh_home) as app:
        app.wait_for("panel painted")
        sent = time.monotonic()
        app.process.send_signal(signal.SIGTERM)
        seconds = app.exit_seconds(sent)
    assert "retrieval ready" not in app.stderr, "the pack load had finished: nothing was interrupted"
    assert app.process.returncode == 0, app.stderr
    assert seconds < PROMPT_S, f"took {seconds:.2f} s to exit:\n{app.stderr}"
    assert_quiet(app.stderr)


@pytest.fixture
def warm_home(workspace: Workspace, demo_home: Path, tmp_path: Path) -> Path:
    """A copy of the demo data folder whose embedding cache holds the pack's examples, so the first
    analysis takes a moment rather than embedding ~2,000 examples."""
    first, *events = read_events(demo_conversation("cancellation")).events
    assert isinstance(first, ConversationStarted)
    conversation = Conversation.start(first)
    for event in events:
        conversation = conversation.apply(event)
    Pipeline(workspace).run(conversation, conversation.turns[0].seq)
    home = tmp_path / "home"
    shutil.copytree(demo_home, home)
    return home


@pytest.mark.parametrize("quit_by", ["close", "sigterm"])
def test_quitting_mid_conversation_leaves_nothing_behind(warm_home: Path, quit_by: str) -> None:
    """``close``: the window closes just as a review of the rep's edit starts; ``sigterm``: SIGTERM arrives
    while the first message is being analysed."""
    with Running([sys.executable, "-m", "tests.ui.test_shutdown", quit_by, "cancellation"], warm_home) as app:
        app.wait_for("driver: quitting")
        quitting = time.monotonic()
        seconds = app.exit_seconds(quitting)
    assert app.process.returncode == 0, app.stderr
    assert "closed in" in app.stderr, "the app's own shutdown path did not run"
    assert seconds < PROMPT_S, f"took {seconds:.2f} s to exit:\n{app.stderr}"
    assert_quiet(app.stderr)


def drive(quit_by: str, conversation: Path) -> int:
    """Start the app as ``copilot run`` does; once retrieval is ready, play the first message, then quit:
    ``sigterm`` at once (the analysis is in flight), ``close`` once the rep's edit is being reviewed."""
    import logging

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from ui.app import run_app
    from ui.panel import Panel

    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    app = QApplication(sys.argv)  # run_app takes this one

    def quit_now(panel: Panel) -> None:
        print(f"driver: quitting ({quit_by})", file=sys.stderr, flush=True)
        timer.stop()
        if quit_by == "sigterm":
            os.kill(os.getpid(), signal.SIGTERM)
        else:
            panel.close()

    def act(panel: Panel) -> None:
        if "northwind-retail@" not in panel.header.context_text:
            return  # retrieval is still starting
        if not panel.player.messages_played:
            panel.step()
            if quit_by == "sigterm":
                quit_now(panel)
        elif panel.policy.cards and not panel.draft.edited_by_rep:
            panel.draft.editor.setPlainText(panel.draft.editor.toPlainText() + " I have cancelled it for you.")
        elif panel.draft.edited_by_rep and not panel._review_timer.isActive():
            quit_now(panel)  # the review of the edit has just started

    def on_tick() -> None:
        panel = next((w for w in app.topLevelWidgets() if isinstance(w, Panel)), None)
        if panel is not None:
            act(panel)

    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(on_tick)
    timer.start()
    return run_app(conversation)


if __name__ == "__main__":
    from cli.main import leave

    leave(drive(sys.argv[1], demo_conversation(sys.argv[2])))  # as ``copilot run`` ends
