"""Suggested resolution paths: steps marked done or next, what the path would do (the tools in words), the
clauses behind them; Enter uses a path's draft, Delete dismisses it for this conversation (1-6: with a reason).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QLabel, QVBoxLayout, QWidget

from connectors.contract import ToolInfo
from copilot.action_policy import ActionPolicy
from copilot.pipeline import Insight
from copilot.reasoning.suggest import Suggestion
from copilot.records.models import Kind, Outcome
from ui.sections.cards import CardColumn, cited_clauses, in_words, move_between_cards, shared_key

NO_GROUNDED_ANSWER = (
    "No grounded answer: no policy clause or playbook fits this message closely enough. "
    "Answer from what you know, or ask a lead."
)


def humanised(tool: str) -> str:
    """A tool's name as words, for a tool the pack and the systems say nothing about: ``fetch_booking`` →
    "Fetch booking"."""
    return tool.replace("_", " ").strip().capitalize()


def fact_said(matched: str) -> str:
    """A fact the path matched (``points_used_this_year=0``) as words: "points used this year: 0"."""
    name, _, value = matched.partition("=")
    return f"{in_words(name)}: {value}" if value else in_words(name)


_CLAUSE_END = re.compile(r"[.,;:(]")


def tool_namer(policy: ActionPolicy | None, tools: Mapping[str, ToolInfo]) -> Callable[[str], str]:
    """How a path card names a tool, from what the company declared, never from the engine: a tool that reads
    one of the pack's record kinds (systems.toml) or its customer card is "Look up the <kind>"; else the
    connected system's description of it, to its first pause ("Open a support ticket for a customer"); else
    the name in words."""
    reads: dict[str, str] = {}
    if policy is not None:
        customer = policy.systems.customer
        reads = dict.fromkeys(customer.tools if customer is not None else (), "customer")
        for kind in reversed(policy.systems.record):  # the first kind a tool reads names it
            reads[kind.tool] = kind.name.replace("_", " ")

    def name(tool: str) -> str:
        if tool in reads:
            return f"Look up the {reads[tool]}"
        info = tools.get(tool)
        described = _CLAUSE_END.split(info.description, maxsplit=1)[0].strip() if info is not None else ""
        return described if 0 < len(described.split()) <= 10 else humanised(tool)

    return name


def tool_list(tools: tuple[str, ...], name: Callable[[str], str]) -> str:
    """The tools a path uses as one phrase: ``Look up the order, open a support ticket``."""
    names = [name(t) for t in tools]
    return ", ".join(n if i == 0 else n[:1].lower() + n[1:] for i, n in enumerate(dict.fromkeys(names)))


class PathCard(QFrame):
    accepted = Signal(object)
    dismissed = Signal(object, object)
    """(suggestion, the Reason the rep picked or None)."""
    feedback = Signal(object)
    """A thumb (Feedback) for the records."""

    def __init__(
        self, suggestion: Suggestion, tool_name: Callable[[str], str] = humanised, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.suggestion = suggestion
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setObjectName("pathCard")
        self.setStyleSheet(
            "#pathCard { background: palette(base); border: 1px solid #b9d3c0; border-radius: 5px; }"
            "#pathCard:focus { border: 2px solid #2d6cdf; }"
        )
        self.setAccessibleName(f"Suggested path: {suggestion.title}")
        self.setAccessibleDescription("Press Enter to use its draft, Delete to dismiss it, 1 to 6 to say why.")
        steps = []
        for step in suggestion.steps:
            mark = "✓" if step.done else "▸" if step is suggestion.next_step else "·"
            waiting = (
                f" <span style='color:#8a5300'>(needs to know: {escape(', '.join(map(in_words, step.missing)))})</span>"
                if step.missing
                else ""
            )
            text = f"<s>{escape(step.text)}</s>" if step.done else escape(step.text)
            steps.append(f"{mark} {text}{waiting}")
        matched = (
            f" <span style='color:#2e6b3a'>({escape(', '.join(map(fact_said, suggestion.matched)))})</span>"
            if suggestion.matched
            else ""
        )
        actions = (
            f"<br><span style='color:#555'>Does: {escape(tool_list(suggestion.actions, tool_name))}</span>"
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
            self.dismissed.emit(self.suggestion, None)
        elif (said := shared_key(key, Kind.SUGGESTION, self.suggestion.title)) is not None:
            if said.outcome is Outcome.REJECTED:
                self.dismissed.emit(self.suggestion, said.reason)
            else:
                self.feedback.emit(said)
        elif not move_between_cards(self, key):
            super().keyPressEvent(event)


class SuggestionsSection(CardColumn[PathCard]):
    """The "Next steps" list for the newest message; dismissed paths stay hidden for the conversation."""

    accepted = Signal(object)
    dismissed = Signal(object, object)
    """(suggestion, Reason or None); see PathCard.dismissed."""
    feedback = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Next steps", "Suggested paths appear here once the customer says what they need.", parent)
        self._dismissed: set[tuple[str, str]] = set()
        self._conversation = ""
        self.tool_name: Callable[[str], str] = humanised
        """A tool's name in words (the panel gives the pack's and the systems' words)."""

    def show_insight(self, insight: Insight) -> None:
        if insight.conversation_id != self._conversation:
            self._conversation, self._dismissed = insight.conversation_id, set()
        self._insight = insight
        self._clear()
        advice = insight.advice
        shown = [s for s in advice.suggestions if (s.intent, s.title) not in self._dismissed]
        for suggestion in shown:
            card = PathCard(suggestion, self.tool_name)
            card.accepted.connect(self.accepted)
            card.dismissed.connect(self._dismiss)
            card.feedback.connect(self.feedback)
            self._add(card)
        if not insight.grounded:
            self._status.setText(NO_GROUNDED_ANSWER)
        elif shown:
            self._status.setText(f"{shown[0].playbook} (confidence {advice.intent.confidence:.2f}):")
        else:
            self._status.setText("No playbook fits this message well enough; the policy clauses below still apply.")

    def _dismiss(self, suggestion: Suggestion, reason: object) -> None:
        self._dismissed.add((suggestion.intent, suggestion.title))
        self.dismissed.emit(suggestion, reason)
        self.show_insight(self._insight)
