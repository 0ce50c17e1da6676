"""Demo controls: pick a conversation, play / pause / step it, or type a message as customer or rep."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget


def conversation_title(path: Path) -> str:
    """The ``title`` of a conversation file's opening line, or its file name."""
    try:
        with path.open(encoding="utf-8") as handle:
            first = json.loads(handle.readline())
        title = first.get("title") if isinstance(first, dict) else None
    except (OSError, ValueError):
        title = None
    return f"{title} ({path.stem})" if title else path.stem


class DemoSection(QWidget):
    """Emits what the rep asked for; the panel connects it to the core's DemoPlayer."""

    conversation_chosen = Signal(object)
    """A Path to open."""
    play_toggled = Signal()
    step_requested = Signal()
    start_over_requested = Signal()
    message_typed = Signal(str, str)
    """(role, text)."""

    def __init__(self, conversations: list[Path], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.picker = QComboBox()
        self.picker.setAccessibleName("Demo conversation")
        self.picker.addItem("Choose a demo conversation…", None)
        for path in conversations:
            self.picker.addItem(conversation_title(path), str(path.resolve()))
        self.picker.activated.connect(self._on_picked)
        self.play = QPushButton("Play (F5)")
        self.play.setAccessibleName("Play or pause")
        self.play.clicked.connect(self.play_toggled)
        self.step = QPushButton("Step (F6)")
        self.step.setAccessibleName("Next message")
        self.step.clicked.connect(self.step_requested)
        self.start_over = QPushButton("Start over")
        self.start_over.setAccessibleName("Play this conversation again from its first message")
        self.start_over.setToolTip(
            "A conversation opens where you left it, also after a restart; this plays it again from the top."
        )
        self.start_over.clicked.connect(self.start_over_requested)
        self.progress = QLabel("")
        self.progress.setAccessibleName("Playback position")
        self.role = QComboBox()
        self.role.setAccessibleName("Speak as")
        self.role.addItem("as customer", "customer")
        self.role.addItem("as rep", "rep")
        self.composer = QLineEdit()
        self.composer.setAccessibleName("Type a message")
        self.composer.setPlaceholderText("Type a message and press Enter (Ctrl+L)")
        self.composer.returnPressed.connect(self._on_send)
        controls = QHBoxLayout()
        controls.addWidget(self.play)
        controls.addWidget(self.step)
        controls.addWidget(self.start_over)
        controls.addWidget(self.progress, 1)
        typing = QGridLayout()
        typing.addWidget(self.composer, 0, 0)
        typing.addWidget(self.role, 0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.picker)
        layout.addLayout(controls)
        layout.addLayout(typing)

    def set_playing(self, playing: bool) -> None:
        self.play.setText("Pause (F5)" if playing else "Play (F5)")

    def set_progress(self, played: int, total: int) -> None:
        self.progress.setText(f"message {played} of {total}" if total else "")

    def _on_picked(self, index: int) -> None:
        path = self.picker.itemData(index)
        if path is not None:
            self.conversation_chosen.emit(Path(path))

    def select(self, path: Path) -> None:
        """Show ``path`` as the chosen conversation without emitting (it is already open)."""
        self.picker.setCurrentIndex(max(self.picker.findData(str(path.resolve())), 0))

    def _on_send(self) -> None:
        text = self.composer.text().strip()
        if text:
            self.message_typed.emit(self.role.currentData(), text)
            self.composer.clear()
