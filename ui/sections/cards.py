"""A titled column of focusable cards, replaced wholesale on every insight (policy, next steps), and the keys
every card shares: thumbs up or down, and a rejection with its reason in one keystroke."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Generic, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from copilot.records.models import Kind, Outcome, Reason
from ui.sections.collapsible import Collapsible

REASON_KEYS: dict[int, Reason] = {Qt.Key.Key_1 + i: reason for i, reason in enumerate(Reason)}
"""1-6 on a focused card reject it with that reason (the records' short list, in its order)."""
REASON_HINT = " · ".join(f"{i} {r.value.replace('_', ' ')}" for i, r in enumerate(Reason, start=1))
THUMB_KEYS: dict[int, bool] = {Qt.Key.Key_Plus: True, Qt.Key.Key_Equal: True, Qt.Key.Key_Minus: False}
"""+ (or =, the same key unshifted) thumbs a focused card up, - down."""


def in_words(fact: str) -> str:
    """A fact's name as a rep reads it: ``points_used_this_year`` → "points used this year",
    ``orderId`` → "order id" (packs name facts for templates, not for people)."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", fact)
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in re.split(r"[_\-\s.]+", spaced) if w)


@dataclass(frozen=True)
class Feedback:
    """What the rep did with one card, for the records (``ReplyDesk.card_decided`` / ``thumb``)."""

    kind: Kind
    key: str
    """The card's record key: citation, rule id, escalation category, path title or proposal id."""
    outcome: Outcome | None = None
    """A look or a decision; None for a thumb alone."""
    reason: Reason | None = None
    """With a rejection: the reason the rep picked."""
    thumb: bool | None = None
    """With no outcome: thumbs up (True) or down (False)."""


def shared_key(key: int, kind: Kind, card_key: str) -> Feedback | None:
    """The feedback a key pressed on a card stands for (a thumb, or a rejection with a reason); None for others."""
    if key in THUMB_KEYS:
        return Feedback(kind, card_key, thumb=THUMB_KEYS[key])
    if key in REASON_KEYS:
        return Feedback(kind, card_key, Outcome.REJECTED, REASON_KEYS[key])
    return None


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


class CardColumn(Collapsible, Generic[Card]):
    """Heading (click it to fold the column), a status line and the cards below it; subclasses decide what the
    cards are."""

    def __init__(self, title: str, status: str, parent: QWidget | None = None) -> None:
        super().__init__(title, parent)
        self._placeholder = status
        self._status = QLabel(status)
        self._status.setWordWrap(True)
        self._status.setStyleSheet("color: #555;")
        self._shown: list[Card] = []
        self._cards = QVBoxLayout()
        self._cards.setSpacing(6)
        self._layout = self.body_layout
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
        """Focus the first card, unfolding the column if it was folded."""
        self.set_collapsed(False)
        if self.cards:
            self.cards[0].setFocus(Qt.FocusReason.ShortcutFocusReason)
