"""Header: who the customer is, the channel and region, the pack versions in force, model status; with live
sources, which conversation the panel follows and from where, the pin, and sending an inserted reply back."""

from __future__ import annotations

import time
from html import escape

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from copilot.conversation.state import Conversation
from copilot.session.live import source_of

_STATUS = {"loading": "Model loading…", "ready": "Model ready"}


class HeaderSection(QWidget):
    """Two compact lines: customer · channel · region, then packs · model status; a live row below them
    once a live source runs."""

    pin_toggled = Signal(bool)
    """The rep pinned (True) or unpinned the followed conversation."""
    send_requested = Signal()
    """The rep asked to send the inserted reply through the helpdesk."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._followed = ""
        self._live_status = ""
        self._live_plain = ""
        self._waiting: dict[str, int] = {}
        """Unseen messages of each live conversation not followed."""
        self._live = QLabel()
        self._live.setAccessibleName("Live conversation")
        self._live.setWordWrap(True)
        self.pin = QCheckBox("Pin")
        self.pin.setAccessibleName("Pin the followed conversation")
        self.pin.setToolTip("Keep the panel on this conversation whatever the helpdesk opens")
        self.pin.toggled.connect(self.pin_toggled)
        self.send = QPushButton("Send")
        self.send.setAccessibleName("Send the inserted reply through the helpdesk")
        self.send.clicked.connect(self.send_requested)
        self.send.hide()
        self.send_target = ""
        """The conversation the Send button is for ('' while it is hidden)."""
        self._live_row = QWidget()
        row = QHBoxLayout(self._live_row)
        row.setContentsMargins(0, 2, 0, 0)
        row.addWidget(self._live, 1)
        row.addWidget(self.pin)
        row.addWidget(self.send)
        self._live_row.hide()
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
        layout.addWidget(self._live_row)
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

    def show_live_status(self, text: str) -> None:
        """What the live sources are doing; the live row shows while any runs (or failed)."""
        self._live_status = text
        self._render_live()

    def show_followed(self, conversation_id: str, pinned: bool) -> None:
        self._followed = conversation_id
        self._waiting.pop(conversation_id, None)
        self.pin.blockSignals(True)
        self.pin.setChecked(pinned)
        self.pin.blockSignals(False)
        self._render_live()

    def show_waiting(self, conversation_id: str, status: str, unseen: int) -> None:
        """A conversation not followed changed; one the helpdesk closed no longer waits."""
        if unseen and status in ("", "open", "pending"):
            self._waiting[conversation_id] = unseen
        else:
            self._waiting.pop(conversation_id, None)
        self._render_live()

    def offer_send(self, conversation_id: str) -> None:
        """An inserted reply may be sent to ``conversation_id`` through its helpdesk (once)."""
        self.send_target = conversation_id
        self.send.setText(f"Send to {source_of(conversation_id)}")
        self.send.setToolTip(f"Post the inserted reply to {conversation_id}")
        self.send.setEnabled(True)
        self.send.show()

    def sending(self) -> None:
        self.send.setEnabled(False)
        self.send.setText("Sending…")

    def sent(self) -> None:
        """The reply went: the button says so, disabled, until the next insert or another conversation (a
        notice would be replaced by the next message's advice, which the posted reply itself brings)."""
        self.send.setText("Sent ✓")

    def withdraw_send(self) -> None:
        self.send_target = ""
        self.send.hide()

    @property
    def live_text(self) -> str:
        """The live row as plain text (tests, accessibility)."""
        return self._live_plain if self._live_row.isVisibleTo(self) else ""

    def _render_live(self) -> None:
        if not self._live_status and not self._followed:
            self._live_row.hide()
            return
        if self._followed:
            pinned = " · pinned" if self.pin.isChecked() else ""
            line = f"Following {self._followed} from {source_of(self._followed)}{pinned}"
        else:
            line = "Live: waiting for the first conversation"
        if waiting := len(self._waiting):
            line += f" · {waiting} other{'s' if waiting > 1 else ''} waiting"
        self._live_plain = f"{line}\n{self._live_status}".strip()
        status = f"<br><span style='color:#555'>{escape(self._live_status)}</span>" if self._live_status else ""
        self._live.setText(escape(line) + status)
        self.pin.setEnabled(bool(self._followed))
        self._live_row.show()
