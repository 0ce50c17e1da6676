"""How the app closes at any moment: SIGTERM and Ctrl+C quit it like a closed window, and a closing app
never waits for its embedding child process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import threading
from collections.abc import Callable, Sequence
from types import FrameType

import numpy as np
from PySide6.QtCore import QObject, QSocketNotifier

from base.errors import ModelError
from retrieval.embed import ProcessEmbedder

log = logging.getLogger("copilot.ui")


class QuitOnSignals(QObject):
    """SIGINT and SIGTERM close the app the way closing its window does: they call ``close`` on the loop.

    Python runs a signal handler only between bytecodes of the main thread, which sits in Qt's event loop;
    Qt watching the signal wake-up fd makes the handler run at once (qutebrowser's crashsignal does the
    same). ``close`` runs as a loop callback, so a signal during start-up takes effect once the loop runs.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, close: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self._loop = loop
        self._close = close
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_notifier_activated)
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._previous = {stop: signal.signal(stop, self._on_signal) for stop in (signal.SIGINT, signal.SIGTERM)}

    def close(self) -> None:
        """Give the signals back (the loop that would quit the app is closing) and close the wake-up fd."""
        for stop, handler in self._previous.items():
            signal.signal(stop, handler)
        signal.set_wakeup_fd(-1)
        self._notifier.setEnabled(False)
        self._reader.close()
        self._writer.close()

    def _on_notifier_activated(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._reader.recv(512)

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        log.info("%s: closing", signal.Signals(number).name)
        self._loop.call_soon_threadsafe(self._close)


class AppEmbedder:
    """The app's embedding child process (a ProcessEmbedder), which a closing app does not wait for.

    ``ProcessEmbedder.close`` waits for an encode in flight (it holds the pipe's lock), gives a child still
    loading the model 3 s, and an idle child takes about half a second to exit; the first analysis in a
    fresh data folder encodes ~2,000 examples in one call. So ``close`` only makes every encode, from
    then on or in flight, raise instead of returning vectors (a pack load or an analysis in a worker thread
    stops there, before writing anything), and the child is left to multiprocessing's exit handler, which
    terminates daemonic children: it holds nothing that needs saving.
    """

    def __init__(self, model: str, on_status: Callable[[str], None]) -> None:
        self.model_id = model
        self._closing = threading.Event()
        self._embedder = ProcessEmbedder(model, on_status=self._reporter(on_status))

    def _reporter(self, on_status: Callable[[str], None]) -> Callable[[str], None]:
        """``on_status``, silent once the app is closing: a child stopped at exit while it was still loading
        the model reports a failure from its watcher thread, into widgets that are gone."""

        def report(status: str) -> None:
            if not self._closing.is_set():
                on_status(status)

        return report

    def load(self) -> None:
        self._embedder.load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        self._check()
        vectors = self._embedder.encode(texts)
        self._check()  # the app closed while the model worked: nothing of it gets written
        return vectors

    def _check(self) -> None:
        if self._closing.is_set():
            raise ModelError("the app is closing")

    def close(self) -> None:
        """Take no more work (see the class docstring for why the child is not stopped here)."""
        self._closing.set()
