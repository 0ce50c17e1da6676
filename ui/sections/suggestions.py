"""Suggested resolution paths: steps marked done or next, the clauses behind them; Enter uses a path's
draft, Delete dismisses it for this conversation.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from copilot.pipeline import Insight
from copilot.reasoning.suggest import Suggestion
from ui.sections.cards import CardColumn, cited_clauses, move_between_cards

NO_GROUNDED_ANSWER = (
    "No grounded answer: no policy clause or playbook fits this message closely enough. "
    "Answer from what you know, or ask a lead."
)


class PathCard(QFrame):
    accepted = Signal(object)
    dismissed = Signal(object)

    def __init__(self, suggestion: Suggestion, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.suggestion = suggestion
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setObjectName("pathCard")
        self.setStyleSheet(
            "#pathCard { background: palette(base); border: 1px solid #b9d3c0; border-radius: 5px; }"
            "#pathCard:focus { border: 2px solid #2d6cdf; }"
        )
        self.setAccessibleName(f"Suggested path: {suggestion.title}")
        self.setAccessibleDescription("Press Enter to use its draft, Delete to dismiss it.")
        steps = []
        for step in suggestion.steps:
            mark = "✓" if step.done else "▸" if step is suggestion.next_step else "·"
            waiting = (
                f" <span style='color:#8a5300'>(needs {escape(', '.join(step.missing))})</span>" if step.missing else ""
            )
            text = f"<s>{escape(step.text)}</s>" if step.done else escape(step.text)
            steps.append(f"{mark} {text}{waiting}")
        matched = (
            f" <span style='color:#2e6b3a'>({escape(', '.join(suggestion.matched))})</span>"
            if suggestion.matched
            else ""
        )
        actions = (
            f"<br><span style='color:#555'>Actions: {escape(', '.join(suggestion.actions))}</span>"
            if suggestion.actions
            else ""
        )
        cites = cited_clauses(suggestion.citations)
        label = QLabel(f"<b>{escape(suggestion.title)}</b>{matched}<br>" + "<br>".join(steps) + actions + cites)
        label.setWordWrap(True)
        label.setTextFormat(Qt.TextFormat.RichText)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(label)
        self.text = label.text()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.accepted.emit(self.suggestion)
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.dismissed.emit(self.suggestion)
        elif not move_between_cards(self, key):
            super().keyPressEvent(event)


class SuggestionsSection(CardColumn[PathCard]):
    """The "Next steps" list for the newest message; dismissed paths stay hidden for the conversation."""

    accepted = Signal(object)
    dismissed = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Next steps", "Suggested paths appear here once the customer says what they need.", parent)
        self._dismissed: set[tuple[str, str]] = set()
        self._conversation = ""

    def show_insight(self, insight: Insight) -> None:
        if insight.conversation_id != self._conversation:
            self._conversation, self._dismissed = insight.conversation_id, set()
        self._insight = insight
        self._clear()
        advice = insight.advice
        shown = [s for s in advice.suggestions if (s.intent, s.title) not in self._dismissed]
        for suggestion in shown:
            card = PathCard(suggestion)
            card.accepted.connect(self.accepted)
            card.dismissed.connect(self._dismiss)
            self._add(card)
        if not insight.grounded:
            self._status.setText(NO_GROUNDED_ANSWER)
        elif shown:
            self._status.setText(f"{shown[0].playbook} (confidence {advice.intent.confidence:.2f}):")
        else:
            self._status.setText("No playbook fits this message well enough; the policy clauses below still apply.")

    def _dismiss(self, suggestion: Suggestion) -> None:
        self._dismissed.add((suggestion.intent, suggestion.title))
        self.dismissed.emit(suggestion)
        self.show_insight(self._insight)
