"""The wrap-up the rep files when a conversation ends (F9, or the helpdesk's ``conversation_end``): the root
causes suggested from the pack's taxonomy as checkboxes (the best ones ticked), the outcome, the summary with
its citations and the CSAT survey message; Confirm (Ctrl+Enter in the view) stores it, Esc closes it."""

from __future__ import annotations

import re
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from copilot.records.models import Ending
from copilot.wrapup import WrapUp

TICKED = 2
"""Suggested tags ticked from the start (the best first); the rep ticks or unticks the rest."""
_BREAK_AFTER = re.compile(r"([#@,/_-])(?=\S)")


def breakable(text: str) -> str:
    """``text`` with a zero-width space after the joints of a citation (``pack@version#clause-id``): QLabel
    wraps only at spaces, so one long citation would widen the view past the panel."""
    return _BREAK_AFTER.sub("\\1\u200b", text)


class WrapUpView(QFrame):
    """One conversation's suggested wrap-up, for the rep to confirm or change; hidden until asked for."""

    confirmed = Signal(object, tuple, object)
    """(the WrapUp, the root-cause ids ticked, the Ending picked)."""
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("wrapUp")
        self.setStyleSheet("#wrapUp { background: #eef4fb; border: 1px solid #9bb8da; border-radius: 5px; }")
        self.setAccessibleName("Wrap-up")
        self.wrapup: WrapUp | None = None
        self.title = QLabel("<b>Wrap-up</b>")
        self.title.setWordWrap(True)  # a conversation's title may be longer than the panel is wide
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.tags: list[tuple[str, QCheckBox]] = []
        self._tag_box = QVBoxLayout()
        self.outcome = QComboBox()
        self.outcome.setAccessibleName("Outcome")
        for ending in Ending:
            self.outcome.addItem(ending.value.replace("_", " ").capitalize(), ending)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.csat = QLabel()
        self.csat.setWordWrap(True)
        self.csat.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.confirm = QPushButton("Confirm (Ctrl+Enter)")
        self.confirm.setAccessibleName("Confirm and store the wrap-up")
        self.confirm.clicked.connect(self._confirm)
        self.copy_csat = QPushButton("Copy survey")
        self.copy_csat.setAccessibleName("Copy the CSAT survey message")
        self.copy_csat.clicked.connect(
            lambda: QGuiApplication.clipboard().setText(self.wrapup.csat if self.wrapup else "")
        )
        self.cancel = QPushButton("Close (Esc)")
        self.cancel.clicked.connect(self.close_view)
        outcome_row = QHBoxLayout()
        outcome_row.addWidget(QLabel("Outcome:"))
        outcome_row.addWidget(self.outcome, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.confirm)
        buttons.addWidget(self.copy_csat)
        buttons.addWidget(self.cancel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.title)
        layout.addWidget(self.status)
        layout.addWidget(QLabel("Root causes:"))
        layout.addLayout(self._tag_box)
        layout.addLayout(outcome_row)
        layout.addWidget(self.summary)
        layout.addWidget(self.csat)
        layout.addLayout(buttons)
        self._enable(False)
        self.hide()

    def waiting(self, title: str) -> None:
        """Shown while the wrap-up is being made."""
        self.wrapup = None
        self.title.setText(f"<b>Wrap-up: {escape(title)}</b>")
        self.status.setText("Making the wrap-up from this conversation's advice…")
        self._set_tags(None)
        self.summary.clear()
        self.csat.clear()
        self._enable(False)
        self.show()

    def show_wrapup(self, wrapup: WrapUp) -> None:
        self.wrapup = wrapup
        self.status.setText("Tick the root causes that fit, check the outcome, then Confirm.")
        self._set_tags(wrapup)
        self.outcome.setCurrentIndex(max(0, self.outcome.findData(Ending(wrapup.outcome))))
        self.outcome.setToolTip(wrapup.why)
        self.summary.setText(f"<b>Summary</b><br>{escape(breakable(wrapup.summary))}")
        self.summary.setTextFormat(Qt.TextFormat.RichText)
        self.csat.setText(f"<b>CSAT survey</b><br>{escape(wrapup.csat)}")
        self.csat.setTextFormat(Qt.TextFormat.RichText)
        self._enable(True)
        self.show()
        self.confirm.setFocus(Qt.FocusReason.OtherFocusReason)

    def failed(self, message: str) -> None:
        self.status.setText(f"<span style='color:#a61b1b'>No wrap-up: {escape(message)}</span>")

    def _set_tags(self, wrapup: WrapUp | None) -> None:
        for _, box in self.tags:
            box.deleteLater()
        self.tags = []
        for i, tag in enumerate(wrapup.tags if wrapup else ()):
            box = QCheckBox(tag.title)
            box.setChecked(i < TICKED)
            box.setAccessibleName(f"Root cause: {tag.title}")
            self._tag_box.addWidget(box)
            self.tags.append((tag.id, box))
        if wrapup is not None and not wrapup.tags:
            box = QCheckBox("None suggested")
            box.setEnabled(False)
            self._tag_box.addWidget(box)
            self.tags.append(("", box))

    def _enable(self, ready: bool) -> None:
        for widget in (self.confirm, self.copy_csat, self.outcome):
            widget.setEnabled(ready)

    @property
    def ticked(self) -> tuple[str, ...]:
        return tuple(tag for tag, box in self.tags if tag and box.isChecked())

    def _confirm(self) -> None:
        if self.wrapup is not None:
            self.confirmed.emit(self.wrapup, self.ticked, Ending(self.outcome.currentData()))
            self.close_view()

    def close_view(self) -> None:
        self.hide()
        self.closed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        ctrl = event.modifiers() & Qt.KeyboardModifier.ControlModifier
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and ctrl:
            self._confirm()
        elif event.key() == Qt.Key.Key_Escape:
            self.close_view()
        else:
            super().keyPressEvent(event)
