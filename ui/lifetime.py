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
from PySide6.QtCore import QCoreApplication, QObject, QSocketNotifier

from base.errors import ModelError
from retrieval.embed import ProcessEmbedder

log = logging.getLogger("copilot.ui")


class QuitOnSignals(QObject):
    """SIGINT and SIGTERM quit the app the way closing its window does.

    Python runs a signal handler only between bytecodes of the main thread, which sits in Qt's event loop;
    Qt watching the signal wake-up fd makes the handler run at once (qutebrowser's crashsignal does the
    same). The handler asks the asyncio loop to quit the app, because ``quit()`` before the event loop
    runs (a signal during start-up) would do nothing.
    """

    def __init__(self, app: QCoreApplication, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(app)
        self._app = app
        self._loop = loop
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._on_notifier_activated)
        signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        for stop in (signal.SIGINT, signal.SIGTERM):
            signal.signal(stop, self._on_signal)

    def _on_notifier_activated(self) -> None:
        with contextlib.suppress(BlockingIOError):
            self._reader.recv(512)

    def _on_signal(self, number: int, _frame: FrameType | None) -> None:
        log.info("%s: closing", signal.Signals(number).name)
        self._loop.call_soon_threadsafe(self._app.quit)


class AppEmbedder:
    """The app's embedding child process (a ProcessEmbedder), which a closing app does not wait for.

    ``ProcessEmbedder.close`` waits for an encode in flight (it holds the pipe's lock) and gives a child
    still loading the model 3 s before killing it, while the first analysis in a fresh data folder encodes
    ~2,000 examples in one call. So once ``close`` is called no encode starts or delivers its vectors (a
    pack load or an analysis in a worker thread stops there, before writing anything), and a busy or
    loading child is left to multiprocessing's exit handler, which terminates daemonic children.
    """

    def __init__(self, model: str, on_status: Callable[[str], None]) -> None:
        self.model_id = model
        self._ready = threading.Event()
        self._lock = threading.Lock()
        self._busy = 0
        self._closing = False

        def status(status: str) -> None:
            if status == "ready":
                self._ready.set()
            on_status(status)

        self._embedder = ProcessEmbedder(model, on_status=status)

    def load(self) -> None:
        self._embedder.load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            if self._closing:
                raise ModelError("the app is closing")
            self._busy += 1
        try:
            vectors = self._embedder.encode(texts)
        finally:
            with self._lock:
                self._busy -= 1
        if self._closing:  # the app closed while the model worked: nothing of it gets written
            raise ModelError("the app is closing")
        return vectors

    def close(self) -> None:
        """Take no more work; stop the child now when it is idle, else leave it to the exit handler."""
        with self._lock:
            self._closing = True
            idle = self._busy == 0
        if idle and self._ready.is_set():
            self._embedder.close()
