"""Header: who the customer is, the channel and region, the pack versions in force, model status."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from copilot.conversation.state import Conversation

_STATUS = {"loading": "Model loading…", "ready": "Model ready"}


class HeaderSection(QWidget):
    """Two compact lines: customer · channel · region, then packs · model status."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._who = QLabel("No conversation yet")
        font = self._who.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self._who.setFont(font)
        self._who.setAccessibleName("Customer")
        self._context = QLabel("")
        self._context.setAccessibleName("Policy packs and model status")
        self._context.setWordWrap(True)
        self._packs: list[str] = []
        self._status = "Model loading…"
        self._analysing = QLabel("")
        self._analysing.setAccessibleName("Analysis in progress")
        self._analysing.setStyleSheet("color: #2d6cdf;")
        self._analysing.hide()
        self._analysing_seq = -1
        self._analysing_since = 0.0
        self._tick = QTimer(self)
        self._tick.setInterval(100)
        self._tick.timeout.connect(self._show_elapsed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._who)
        layout.addWidget(self._context)
        layout.addWidget(self._analysing)
        self._render_context()

    def analysing(self, seq: int) -> None:
        """Message ``seq`` is being analysed: say so, with the time it has taken so far."""
        if seq == self._analysing_seq and self._tick.isActive():
            return
        self._analysing_seq, self._analysing_since = seq, time.monotonic()
        self._show_elapsed()
        self._analysing.show()
        self._tick.start()

    def analysed(self, seq: int) -> None:
        """Advice for ``seq`` (or a newer message) arrived, or its analysis failed: the wait is over."""
        if seq >= self._analysing_seq:
            self._tick.stop()
            self._analysing.hide()

    @property
    def analysing_text(self) -> str:
        return self._analysing.text() if self._tick.isActive() else ""

    def _show_elapsed(self) -> None:
        elapsed = time.monotonic() - self._analysing_since
        self._analysing.setText(f"Analysing message #{self._analysing_seq}… {elapsed:.1f} s")

    def show_conversation(self, conversation: Conversation) -> None:
        parts = [conversation.customer_name or "Unknown customer", conversation.channel]
        if conversation.jurisdiction:
            parts.append(conversation.jurisdiction)
        self._who.setText(" · ".join(parts))
        self._who.setToolTip(conversation.title)

    def show_packs(self, packs: list[str]) -> None:
        self._packs = packs
        self._render_context()

    def show_model_status(self, status: str) -> None:
        self._status = _STATUS.get(status, "Model failed: " + status.removeprefix("failed: "))
        self._render_context()

    @property
    def context_text(self) -> str:
        """The second line: the packs in force and the model status."""
        return self._context.text()

    def _render_context(self) -> None:
        packs = ", ".join(self._packs) if self._packs else "no pack loaded yet"
        self._context.setText(f"Policy: {packs}  ·  {self._status}")
