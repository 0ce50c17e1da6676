"""The reply editor: the copilot's draft, the rep's edits, unsupported figures underlined with the reason,
insert with Ctrl+Enter, an LLM draft on request (Ctrl+G, Esc cancels).
"""

from __future__ import annotations

from html import escape
from math import ceil

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QTextCharFormat, QTextCursor
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QTextEdit, QVBoxLayout, QWidget

from copilot.reasoner import Review
from ui.sections.alerts import FlagList

MIN_LINES = 10
"""The editor never shows fewer lines than this: banners, flags and cards give way to it."""


class DraftSection(QWidget):
    edited = Signal(str)
    """The rep changed the text (not the copilot)."""
    insert_requested = Signal(str)
    ai_requested = Signal()
    ai_cancelled = Signal()
    preview_requested = Signal()
    refresh_requested = Signal()
    """Replace a stale draft with the one for the newest message."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Draft reply")
        heading = QLabel("Draft reply")
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self._state = QLabel()
        self._state.setWordWrap(True)
        self._state.setStyleSheet("color: #555;")
        self.editor = QPlainTextEdit()
        self.editor.setAccessibleName("Draft reply text")
        margins = 2 * (self.editor.frameWidth() + self.editor.document().documentMargin())
        self.editor.setMinimumHeight(ceil(self.editor.fontMetrics().lineSpacing() * MIN_LINES + margins))
        self.editor.textChanged.connect(self._on_text_changed)
        self.flags = FlagList("Before you send")
        self._reasons = QLabel()
        self._reasons.setWordWrap(True)
        self._reasons.setTextFormat(Qt.TextFormat.RichText)
        self.insert = QPushButton("Insert (Ctrl+Enter)")
        self.insert.setAccessibleName("Copy the draft to insert it into the reply")
        self.insert.clicked.connect(lambda: self.insert_requested.emit(self.editor.toPlainText()))
        self.ai = QPushButton("AI draft (Ctrl+G)")
        self.ai.setAccessibleName("Draft with the configured language model")
        self.ai.clicked.connect(self._on_ai_clicked)
        self.preview = QPushButton("What is sent…")
        self.preview.setAccessibleName("Show exactly what would be sent to the language model")
        self.preview.clicked.connect(self.preview_requested)
        self.refresh = QPushButton("Use new draft (Ctrl+R)")
        self.refresh.clicked.connect(self.refresh_requested)
        self.refresh.setVisible(False)
        buttons = QHBoxLayout()
        buttons.addWidget(self.insert)
        buttons.addWidget(self.ai)
        buttons.addWidget(self.preview)
        buttons.addStretch(1)
        self._column = layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(heading)
        layout.addWidget(self._state)
        layout.addWidget(self.refresh)
        layout.addWidget(self.editor)
        layout.addWidget(self._reasons)
        layout.addWidget(self.flags)
        layout.addLayout(buttons)
        self._programmatic = False
        self.streaming = False
        self.edited_by_rep = False
        self.seq = -1

    def needed_height(self) -> int:
        """The height the editor's minimum and the lines shown around it take at the current width (a layout's
        minimum size does not count the lines its wrapped labels need)."""
        need = self.editor.minimumHeight()
        for index in range(self._column.count()):
            item = self._column.itemAt(index)
            if item is None or item.widget() is self.editor or item.isEmpty():
                continue
            wide = item.heightForWidth(self.width()) if item.hasHeightForWidth() else -1
            need += self._column.spacing() + (wide if wide >= 0 else item.sizeHint().height())
        return need

    @property
    def state_text(self) -> str:
        return self._state.text()

    @property
    def reasons_text(self) -> str:
        return self._reasons.text()

    def set_llm_available(self, available: bool, why: str = "") -> None:
        self.ai.setEnabled(available)
        self.preview.setEnabled(available)
        self.ai.setToolTip("" if available else why)

    def set_text(self, text: str, seq: int, state: str, *, edited: bool = False) -> None:
        """Show a draft (the copilot's, or a restored one) without counting it as the rep's edit."""
        self._programmatic = True
        self.editor.setPlainText(text)
        self._programmatic = False
        self.seq = seq
        self.edited_by_rep = edited
        self.refresh.setVisible(False)
        self._state.setText(state)

    def mark_stale(self, newest_seq: int) -> None:
        """The rep's edited draft answers an earlier message: keep it, say so, offer the new one."""
        self._state.setText(f"<b>Stale:</b> written for message #{self.seq}; message #{newest_seq} has arrived since.")
        self.refresh.setVisible(True)

    def show_review(self, text: str, review: Review) -> None:
        """Underline the unsupported spans (when the review is of the current text) and list why."""
        if text != self.editor.toPlainText():
            return
        selections = []
        underline = QTextCharFormat()
        underline.setUnderlineStyle(QTextCharFormat.UnderlineStyle.WaveUnderline)
        underline.setUnderlineColor(QColor("#c5221f"))
        underline.setBackground(QColor("#fde7e4"))
        for span in review.unsupported:
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.editor.document())
            cursor.setPosition(span.start)
            cursor.setPosition(span.end, QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            selection.format = underline
            selections.append(selection)
        self.editor.setExtraSelections(selections)
        self._reasons.setText(
            "<br>".join(f"<span style='color:#b3261e'>✗</span> {escape(u.reason)}" for u in review.unsupported)
        )
        self._reasons.setVisible(bool(review.unsupported))
        self.flags.show_flags([f for f in review.flags if f.category != "unverified_claim"])

    def stream(self, text: str, seq: int, done: bool) -> None:
        self.streaming = not done
        self.set_text(
            text,
            seq,
            "AI draft: streaming… (Esc cancels)"
            if not done
            else f"AI draft for message #{seq}, grounded in the cited clauses. Check it before inserting.",
        )
        self.ai.setText("Cancel (Esc)" if not done else "AI draft (Ctrl+G)")

    def stream_failed(self, message: str) -> None:
        self.streaming = False
        self.ai.setText("AI draft (Ctrl+G)")
        self._state.setText(f"<b>AI draft unavailable:</b> {escape(message)} The template draft is shown instead.")

    def _on_ai_clicked(self) -> None:
        if self.streaming:
            self.ai_cancelled.emit()
        else:
            self.ai_requested.emit()

    def _on_text_changed(self) -> None:
        if self._programmatic:
            return
        self.edited_by_rep = True
        self.edited.emit(self.editor.toPlainText())
