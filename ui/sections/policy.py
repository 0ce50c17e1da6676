"""Policy cards: the clauses that apply to the newest message, each with its citation."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QGuiApplication, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from copilot.pipeline import Insight
from copilot.records.models import Kind, Outcome
from retrieval.search import ClauseHit
from ui.sections.cards import CardColumn, Feedback, move_between_cards, shared_key

SNIPPET_CHARS = 170


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[: flat.rfind(" ", 0, limit)].rstrip(",;:") + "…"


class ClauseCard(QFrame):
    """One clause: title, snippet (full text when expanded), citation and score. Enter expands, C copies,
    Delete or 1-6 reject it (with a reason), + / - thumb it."""

    citation_copied = Signal(str)
    feedback = Signal(object)
    """A Feedback for the records: expanded, copied, rejected, a thumb."""

    def __init__(self, hit: ClauseHit, expanded: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.hit = hit
        self.expanded = expanded
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setObjectName("clauseCard")
        self.setStyleSheet(
            "#clauseCard { background: palette(base); border: 1px solid #c8cfdc; border-radius: 5px; }"
            "#clauseCard:focus { border: 2px solid #2d6cdf; }"
        )
        self.setAccessibleName(f"Policy clause: {hit.title}")
        self.setAccessibleDescription(
            f"{hit.citation}. Press Enter to expand, C to copy the citation, Delete or 1 to 6 to reject it."
        )
        self._title = QLabel(hit.title)
        font = self._title.font()
        font.setBold(True)
        self._title.setFont(font)
        self._title.setWordWrap(True)
        self._score = QLabel(f"{hit.score:.2f}")
        self._score.setToolTip("Similarity to the conversation (0–1)")
        self._body = QLabel()
        self._body.setWordWrap(True)
        self._body.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._citation = QLabel(hit.citation)
        small = self._citation.font()
        small.setPointSizeF(small.pointSizeF() * 0.9)
        self._citation.setFont(small)
        self._citation.setStyleSheet("color: #4a5a7a;")
        self._citation.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(self._title, 1)
        top.addWidget(self._score, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(3)
        layout.addLayout(top)
        layout.addWidget(self._body)
        layout.addWidget(self._citation)
        self._render()

    @property
    def body_text(self) -> str:
        return self._body.text()

    def toggle(self) -> None:
        self.expanded = not self.expanded
        self._render()
        if self.expanded:
            self.feedback.emit(Feedback(Kind.CLAUSE, self.hit.citation, Outcome.EXPANDED))

    def copy_citation(self) -> None:
        QGuiApplication.clipboard().setText(self.hit.citation)
        self.citation_copied.emit(self.hit.citation)
        self.feedback.emit(Feedback(Kind.CLAUSE, self.hit.citation, Outcome.COPIED))

    def _render(self) -> None:
        self._body.setText(self.hit.text if self.expanded else snippet(self.hit.text))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            self.toggle()
        elif key == Qt.Key.Key_C:
            self.copy_citation()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.feedback.emit(Feedback(Kind.CLAUSE, self.hit.citation, Outcome.REJECTED))
        elif (said := shared_key(key, Kind.CLAUSE, self.hit.citation)) is not None:
            self.feedback.emit(said)
        elif not move_between_cards(self, key):
            super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        self.toggle()
        super().mousePressEvent(event)


class PolicySection(CardColumn[ClauseCard]):
    """The "Policy" list; replaces its cards on every insight, keeping the ones the rep expanded open."""

    citation_copied = Signal(str)
    feedback = Signal(object)
    """A Feedback from any card; see ClauseCard.feedback."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Policy", "Policy clauses appear here as the conversation goes.", parent)
        self._layout.addStretch(1)
        self._expanded: set[str] = set()

    def show_insight(self, insight: Insight) -> None:
        if insight.clauses and [card.hit for card in self._shown] == list(insight.clauses):
            # The same clauses as shown: rebuilding the cards would only cost a layout and a repaint.
            self._status.setText(f"For message #{insight.seq}:")
            return
        had_focus = any(card.hasFocus() for card in self.cards)
        self._expanded = {c.hit.citation for c in self.cards if c.expanded} & {h.citation for h in insight.clauses}
        self._clear()
        for hit in insight.clauses:
            card = ClauseCard(hit, hit.citation in self._expanded)
            card.citation_copied.connect(self.citation_copied)
            card.feedback.connect(self.feedback)
            self._add(card)
        if insight.clauses:
            self._status.setText(f"For message #{insight.seq}:")
        else:
            self._status.setText("No clause is relevant enough to this message: no grounded answer.")
        if had_focus and self.cards:
            self.cards[0].setFocus(Qt.FocusReason.OtherFocusReason)
