"""The transcript: what the customer and the rep said, and what the rep's systems did."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem, QWidget

from copilot.conversation.state import Conversation, ToolEvent

_ROLE_LABEL = {"customer": "Customer", "rep": "You", "system": "System"}
_ROLE_COLOUR = {"customer": "#1b3a6b", "rep": "#2b2b2b", "system": "#6b6b6b"}


SHOWN_CHARS = 20_000
"""The most of one message the transcript shows (a pasted log can be a megabyte)."""


def _shown_text(text: str) -> str:
    return text if len(text) <= SHOWN_CHARS else f"{text[:SHOWN_CHARS]} … [{len(text):,} characters in all]"


class TranscriptSection(QListWidget):
    """A read-only, keyboard-navigable list of turns; renders only what is new since the last update."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Transcript")
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.setSpacing(3)
        self._conversation_id: str | None = None
        self._shown: set[tuple[str, int]] = set()

    def show_conversation(self, conversation: Conversation) -> None:
        if conversation.id != self._conversation_id:
            self.clear()
            self._shown.clear()
            self._conversation_id = conversation.id
        entries: list[tuple[int, str, str, str]] = [
            (t.seq, "turn", t.role, f"{_ROLE_LABEL.get(t.role, t.role)}: {_shown_text(t.full_text or t.text)}")
            for t in conversation.turns
        ]
        entries += [(e.seq, "tool", "system", _tool_line(e)) for e in conversation.tools]
        for seq, kind, role, text in sorted(entries):
            if (kind, seq) in self._shown:
                continue
            self._shown.add((kind, seq))
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, seq)
            item.setForeground(QBrush(QColor(_ROLE_COLOUR.get(role, "#2b2b2b"))))
            if kind == "tool":
                font = item.font()
                font.setItalic(True)
                item.setFont(font)
            self.addItem(item)
        self.scrollToBottom()


def _tool_line(event: ToolEvent) -> str:
    """A system's call or answer in words, not JSON: ``⚙ Get order → status: shipped · total: 89.5 · …``."""
    name = event.name.replace("_", " ").capitalize()
    record = event.record()
    if record is None:
        shown = _short(event.payload)
    else:
        fields = [
            f"{k.replace('_', ' ')}: {v}" if not isinstance(v, dict | list) else f"{k.replace('_', ' ')}: {len(v)}"
            for k, v in record.items()
            if v not in (None, "", [], {})
        ]
        shown = _short(" · ".join(fields))
    return f"⚙ {name} ({shown})" if event.kind == "call" else f"⚙ {name} → {shown}"


def _short(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
