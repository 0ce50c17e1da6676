"""What the rep must not miss: the escalation banner and the compliance flags of the newest message.

Each escalation and each flag is a line the rep can focus (Tab) and answer like any card: Delete or 1-6
rejects it (with a reason), + / - thumbs it.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from copilot.reasoning.escalation import Escalation
from copilot.reasoning.rules import Flag
from copilot.records.models import Kind, Outcome
from ui.sections.cards import Feedback, move_between_cards, shared_key
from ui.sections.policy import snippet

EVIDENCE_CHARS = 90
"""Evidence longer than this (a classifier's closest example) is cut at a word: the banner stays short."""
_SEVERITY_COLOUR = {"error": "#b3261e", "warning": "#8a5300", "info": "#2d4f8a"}


def _label(name: str) -> str:
    return name.replace("_", " ")


class AlertLine(QLabel):
    """One escalation or flag: focusable, and answered from the keyboard like a card."""

    feedback = Signal(object)

    def __init__(self, html: str, kind: Kind, key: str, description: str, parent: QWidget | None = None) -> None:
        super().__init__(html, parent)
        self.kind, self.key = kind, key
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setAccessibleName(description)
        self.setAccessibleDescription("Delete or 1 to 6 rejects it with a reason; plus or minus rates it.")
        self.setStyleSheet("AlertLine:focus { border: 1px solid #2d6cdf; border-radius: 3px; }")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.feedback.emit(Feedback(self.kind, self.key, Outcome.REJECTED))
        elif (said := shared_key(key, self.kind, self.key)) is not None:
            self.feedback.emit(said)
        elif not move_between_cards(self, key):
            super().keyPressEvent(event)


class AlertLines(QWidget):
    """A column of AlertLines, replaced together."""

    feedback = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.lines: list[AlertLine] = []
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)

    @property
    def text(self) -> str:
        return "<br>".join(line.text() for line in self.lines)

    def show_lines(self, lines: list[tuple[str, Kind, str, str]]) -> None:
        """(html, kind, record key, accessible name) of each line."""
        for line in self.lines:
            self._layout.removeWidget(line)
            line.hide()
            line.deleteLater()
        self.lines = [AlertLine(*line) for line in lines]
        for line in self.lines:
            line.feedback.connect(self.feedback)
            self._layout.addWidget(line)


class EscalationBanner(QWidget):
    """Red when a case must go to someone else: reason, triggering turn, queue, tone; opens the handoff."""

    handoff_requested = Signal()
    feedback = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Escalation")
        self._text = AlertLines()
        self._text.feedback.connect(self.feedback)
        self.handoff = QPushButton("Handoff… (Ctrl+H)")
        self.handoff.setAccessibleName("Open the handoff package")
        self.handoff.clicked.connect(self.handoff_requested)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(self._text, 1)
        layout.addWidget(self.handoff, 0, Qt.AlignmentFlag.AlignTop)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            "EscalationBanner { background: #fde7e4; border: 1px solid #d9534f; border-radius: 4px; }"
            "QLabel { color: #5c1510; }"
        )
        self.escalations: tuple[Escalation, ...] = ()
        self.setVisible(False)

    @property
    def text(self) -> str:
        return self._text.text

    @property
    def lines(self) -> list[AlertLine]:
        return self._text.lines

    def show_escalations(self, escalations: Sequence[Escalation]) -> None:
        self.escalations = tuple(escalations)
        lines = []
        for index, e in enumerate(escalations):
            high = " <b>(high)</b>" if e.severity == "high" else ""
            queue = f" → {escape(e.queue)}" if e.queue else ""
            tone = f"<br><i>{escape(e.tone)}</i>" if e.tone and index == 0 else ""  # one tone line: no clutter
            html = (
                f"<b>Escalate: {escape(_label(e.category))}</b>{high}{queue}: "
                f"“{escape(snippet(e.evidence, EVIDENCE_CHARS))}” (message #{e.seq}){tone}"
            )
            lines.append((html, Kind.ESCALATION, e.category, f"Escalate: {_label(e.category)}"))
        self._text.show_lines(lines)
        self.setAccessibleDescription(" ".join(f"Escalate: {_label(e.category)}, message {e.seq}" for e in escalations))
        self.setVisible(bool(escalations))


class FlagList(QWidget):
    """Compliance flags, one line each with the rule, the words that raised it and the clause."""

    feedback = Signal(object)

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(title)
        self._title = QLabel(f"<b>{escape(title)}</b>")
        self._rows = AlertLines()
        self._rows.feedback.connect(self.feedback)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(2)
        layout.addWidget(self._title)
        layout.addWidget(self._rows)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("FlagList { background: #fff8f0; border: 1px solid #e8b06a; border-radius: 4px; }")
        self.flags: tuple[Flag, ...] = ()
        self.setVisible(False)

    @property
    def text(self) -> str:
        return f"{self._title.text()}<br>{self._rows.text}"

    @property
    def lines(self) -> list[AlertLine]:
        return self._rows.lines

    def show_flags(self, flags: Sequence[Flag]) -> None:
        self.flags = tuple(flags)
        rows = [
            (
                f"<span style='color:{_SEVERITY_COLOUR.get(f.severity, '#333')}'>"
                f"<b>⚑ {escape(_label(f.category))}</b></span>"
                f" “{escape(f.evidence)}”: {escape(f.message)} <span style='color:#4a5a7a'>[{escape(f.rule)}"
                + (f" · {escape(f.clause)}" if f.clause else "")
                + "]</span>",
                Kind.FLAG,
                f.rule,
                f"{_label(f.category)}: {f.message}",
            )
            for f in flags
        ]
        self._rows.show_lines(rows)
        self.setAccessibleDescription("; ".join(f"{_label(f.category)}: {f.message}" for f in flags))
        self.setVisible(bool(flags))
