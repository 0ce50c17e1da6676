"""The demo player: steps through a conversation file message by message, and takes typed messages."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from base.errors import EventError
from copilot.conversation.events import ConversationStarted, Event, Message, read_events
from copilot.session.analysis import Analysis


class DemoPlayer:
    """Feeds the analysis from a file (step by step) or from text the rep types as customer or rep."""

    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self._events: list[Event] = []
        self._position = 0
        self.source: Path | None = None

    def open(self, path: Path) -> list[EventError]:
        """Load a conversation where the rep left it (its opening event applied and no message played the
        first time); the events it already had are not played again."""
        log = read_events(path)
        self.source = path
        self._events = log.events
        self._position = 0
        first = self._events[0] if self._events else None
        if isinstance(first, ConversationStarted):
            self._position = 1
        else:
            first = ConversationStarted(id=path.stem)
        self.analysis.start(first, str(path.resolve()))
        conversation = self.analysis.conversation
        while conversation is not None and not self.finished and conversation.holds(self._events[self._position]):
            self._position += 1
        return log.errors

    def blank(self, conversation_id: str, title: str) -> None:
        """Open a new, empty conversation (the rep types its messages); the one open before stays remembered."""
        self.source, self._events, self._position = None, [], 0
        self.analysis.start(ConversationStarted(id=conversation_id, title=title))

    def start_over(self) -> list[EventError]:
        """Play the open file again from its first message, its saved state dropped."""
        if self.source is None:
            return []
        self.analysis.forget()
        return self.open(self.source)

    @property
    def finished(self) -> bool:
        return self._position >= len(self._events)

    @property
    def messages_played(self) -> int:
        return sum(isinstance(e, Message) for e in self._events[: self._position])

    @property
    def messages_total(self) -> int:
        return sum(isinstance(e, Message) for e in self._events)

    def step(self) -> bool:
        """Submit the events up to and including the next message; False when nothing is left."""
        while not self.finished:
            event = self._events[self._position]
            self._position += 1
            self.analysis.submit(event)
            if isinstance(event, Message):
                return True
        return False

    def type_message(self, role: str, text: str) -> None:
        """A message typed into the demo box, as the customer or the rep."""
        if not text.strip():
            return
        if self.analysis.conversation is None:
            self.analysis.start(ConversationStarted(id="typed", title="Typed conversation"))
        conversation = self.analysis.conversation
        assert conversation is not None
        self.analysis.submit(Message(conversation.id, conversation.next_seq, role, text.strip(), datetime.now(UTC)))
