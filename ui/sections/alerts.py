"""What the rep must not miss: the escalation banner and the compliance flags of the newest message."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from copilot.reasoning.escalation import Escalation
from copilot.reasoning.rules import Flag
from ui.sections.policy import snippet

EVIDENCE_CHARS = 90
"""Evidence longer than this (a classifier's closest example) is cut at a word: the banner stays short."""
_SEVERITY_COLOUR = {"error": "#b3261e", "warning": "#8a5300", "info": "#2d4f8a"}


def _label(name: str) -> str:
    return name.replace("_", " ")


class EscalationBanner(QWidget):
    """Red when a case must go to someone else: reason, triggering turn, queue, tone; opens the handoff."""

    handoff_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Escalation")
        self._text = QLabel()
        self._text.setWordWrap(True)
        self._text.setTextFormat(Qt.TextFormat.RichText)
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
        return self._text.text()

    def show_escalations(self, escalations: Sequence[Escalation]) -> None:
        self.escalations = tuple(escalations)
        lines = []
        for index, e in enumerate(escalations):
            high = " <b>(high)</b>" if e.severity == "high" else ""
            queue = f" → {escape(e.queue)}" if e.queue else ""
            tone = f"<br><i>{escape(e.tone)}</i>" if e.tone and index == 0 else ""  # one tone line: no clutter
            lines.append(
                f"<b>Escalate: {escape(_label(e.category))}</b>{high}{queue}: "
                f"“{escape(snippet(e.evidence, EVIDENCE_CHARS))}” (message #{e.seq}){tone}"
            )
        self._text.setText("<br>".join(lines))
        self.setAccessibleDescription(" ".join(f"Escalate: {_label(e.category)}, message {e.seq}" for e in escalations))
        self.setVisible(bool(escalations))


class FlagList(QWidget):
    """Compliance flags, one line each with the rule, the words that raised it and the clause."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(title)
        self._title = title
        self._text = QLabel()
        self._text.setWordWrap(True)
        self._text.setTextFormat(Qt.TextFormat.RichText)
        self._text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self._text)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("FlagList { background: #fff8f0; border: 1px solid #e8b06a; border-radius: 4px; }")
        self.flags: tuple[Flag, ...] = ()
        self.setVisible(False)

    @property
    def text(self) -> str:
        return self._text.text()

    def show_flags(self, flags: Sequence[Flag]) -> None:
        self.flags = tuple(flags)
        rows = [
            f"<span style='color:{_SEVERITY_COLOUR.get(f.severity, '#333')}'>"
            f"<b>⚑ {escape(_label(f.category))}</b></span>"
            f" “{escape(f.evidence)}”: {escape(f.message)} <span style='color:#4a5a7a'>[{escape(f.rule)}"
            + (f" · {escape(f.clause)}" if f.clause else "")
            + "]</span>"
            for f in flags
        ]
        self._text.setText(f"<b>{escape(self._title)}</b><br>" + "<br>".join(rows))
        self.setAccessibleDescription("; ".join(f"{_label(f.category)}: {f.message}" for f in flags))
        self.setVisible(bool(flags))
