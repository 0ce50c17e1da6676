"""A titled column of focusable cards, replaced wholesale on every insight (policy, next steps)."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget


def cited_clauses(citations: Sequence[str], lead: str = "") -> str:
    """A card's last line naming the clauses behind it by id (``returns.period · refunds.processing-time``), or ""."""
    if not citations:
        return ""
    ids = " · ".join(c.split("#", 1)[-1] for c in citations)
    return f"<br><span style='color:#4a5a7a'>{escape(lead)}{escape(ids)}</span>"


def move_between_cards(card: QWidget, key: int) -> bool:
    """Up and Down move to the previous or next card; True when the key was one of them."""
    if key == Qt.Key.Key_Down:
        card.focusNextChild()
    elif key == Qt.Key.Key_Up:
        card.focusPreviousChild()
    else:
        return False
    return True


Card = TypeVar("Card", bound=QWidget)


class CardColumn(QWidget, Generic[Card]):
    """Heading, a status line and the cards below it; subclasses decide what the cards are."""

    def __init__(self, title: str, status: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName(title)
        heading = QLabel(title)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self._placeholder = status
        self._status = QLabel(status)
        self._status.setWordWrap(True)
        self._status.setStyleSheet("color: #555;")
        self._shown: list[Card] = []
        self._cards = QVBoxLayout()
        self._cards.setSpacing(6)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(heading)
        self._layout.addWidget(self._status)
        self._layout.addLayout(self._cards)

    @property
    def cards(self) -> list[Card]:
        return list(self._shown)

    @property
    def status_text(self) -> str:
        return self._status.text()

    def _add(self, card: Card) -> None:
        self._shown.append(card)
        self._cards.addWidget(card)

    def _clear(self) -> None:
        for card in self._shown:
            self._cards.removeWidget(card)
            card.hide()
            card.deleteLater()
        self._shown.clear()

    def reset(self) -> None:
        """Empty, as before any conversation: another conversation is shown and its analysis is not in yet."""
        self._clear()
        self._status.setText(self._placeholder)

    def focus_first(self) -> None:
        if self.cards:
            self.cards[0].setFocus(Qt.FocusReason.ShortcutFocusReason)
