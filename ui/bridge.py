"""The one adapter from core callbacks (any thread) to typed Qt signals (delivered on the GUI thread)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from copilot.actions.approvals import Action
from copilot.actions.customer import CustomerView
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight
from copilot.reasoner import Review


class Bridge(QObject):
    """Implements the core's SessionListener, LiveListener and status callbacks by emitting signals."""

    conversation_updated = Signal(object)
    """A Conversation after a new event."""
    insight_arrived = Signal(object)
    """The Insight for the newest message."""
    analysis_error = Signal(int, str)
    model_status_changed = Signal(str)
    """``loading``, ``ready`` or ``failed: reason``."""
    packs_changed = Signal(list)
    """``name@version`` of the active pack versions."""
    error_reported = Signal(str)
    """A plain-language error for the banner."""
    review_arrived = Signal(str, object)
    """(text, Review) of the draft editor's text."""
    draft_stream = Signal(int, str, bool)
    """(seq, text so far, done) of an LLM draft."""
    draft_error = Signal(int, str)
    customer_updated = Signal(object)
    """The CustomerView of the current conversation."""
    actions_updated = Signal(list)
    """The current conversation's actions (proposed, approved, done...)."""
    followed_changed = Signal(str, bool)
    """(conversation id, pinned): the live conversation the panel follows."""
    waiting_changed = Signal(str, str, int)
    """(conversation id, helpdesk status, unseen messages) of a live conversation not followed."""
    live_status_changed = Signal(str)
    """What the live sources are doing, in one line ('' when none runs)."""

    def conversation_changed(self, conversation: Conversation) -> None:
        self.conversation_updated.emit(conversation)

    def insight_ready(self, insight: Insight) -> None:
        self.insight_arrived.emit(insight)

    def analysis_failed(self, seq: int, message: str) -> None:
        self.analysis_error.emit(seq, message)

    def draft_reviewed(self, text: str, review: Review) -> None:
        self.review_arrived.emit(text, review)

    def draft_streamed(self, seq: int, text: str, done: bool) -> None:
        self.draft_stream.emit(seq, text, done)

    def draft_failed(self, seq: int, message: str) -> None:
        self.draft_error.emit(seq, message)

    def customer_changed(self, customer: CustomerView) -> None:
        self.customer_updated.emit(customer)

    def actions_changed(self, actions: list[Action]) -> None:
        self.actions_updated.emit(actions)

    def operation_failed(self, message: str) -> None:
        self.error_reported.emit(message)

    def followed(self, conversation_id: str, pinned: bool) -> None:
        self.followed_changed.emit(conversation_id, pinned)

    def waiting(self, conversation_id: str, status: str, unseen: int) -> None:
        self.waiting_changed.emit(conversation_id, status, unseen)

    def live_status(self, text: str) -> None:
        self.live_status_changed.emit(text)

    def live_failed(self, message: str) -> None:
        self.error_reported.emit(message)

    def report_model_status(self, status: str) -> None:
        """Called from the embedder's watcher thread; Qt queues the signal to the GUI thread."""
        self.model_status_changed.emit(status)
