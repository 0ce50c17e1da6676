"""Measures how long the GUI thread's event loop was blocked: the rep feels any gap over ~50 ms."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer


class StallMonitor(QObject):
    """Ticks every ``interval_ms``; the longest extra delay between ticks is the worst stall seen."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._interval = interval_ms / 1000
        self._last = time.perf_counter()
        self.max_stall_ms = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._on_tick)

    def start(self) -> None:
        self._last = time.perf_counter()
        self.max_stall_ms = 0.0
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()

    def _on_tick(self) -> None:
        now = time.perf_counter()
        self.max_stall_ms = max(self.max_stall_ms, (now - self._last - self._interval) * 1000)
        self._last = now
