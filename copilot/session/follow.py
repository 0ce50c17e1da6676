"""Which live conversation the panel follows: the one the rep has open in the helpdesk, unless pinned.

Events of every conversation arrive here in order (``copilot.session.inbox.Inbox`` calls ``apply``).
The followed conversation's go to the ``Analysis``, which analyses each message; every other
conversation's are only added to its saved state (memory and its file under ``conversations/``), so
switching to it later shows it complete, and its newest message is analysed then.

The helpdesk says which conversation the rep opened with a ``focus`` event (docs/conversation-events.md,
"Push"); the rep may pin the followed conversation, and focus events then only change what an unpin
returns to. Without any focus event the first conversation that arrives is followed (replacing a demo
conversation the panel showed before, unless pinned).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import fields
from typing import Protocol

from copilot.conversation.events import CONVERSATION_END, ConversationStarted, Event, Header, Message, OtherEvent
from copilot.conversation.state import Conversation
from copilot.session.analysis import Analysis
from copilot.session.memory import Left

FOCUS = "focus"
"""Event type saying which conversation the rep has open: ``{"type":"focus","conversation_id":...}``."""
STATUS = "status"
"""Event type of a helpdesk status change: ``{"type":"status","conversation_id":...,"status":"resolved"}``."""


class FollowListener(Protocol):
    """What the UI hears besides the analysis itself (the bridge implements it)."""

    def followed(self, conversation_id: str, pinned: bool) -> None:
        """The panel now follows ``conversation_id`` (``pinned``: the rep fixed it)."""

    def waiting(self, conversation_id: str, status: str, unseen: int) -> None:
        """A conversation not followed changed: its helpdesk status and the messages the rep has not seen."""


def header_of(conversation: Conversation) -> ConversationStarted:
    """The header ``conversation`` was opened with, to follow it again without losing its header fields."""
    return ConversationStarted(**{f.name: getattr(conversation, f.name) for f in fields(Header)})


def _same_header(conversation: Conversation, event: ConversationStarted) -> bool:
    return header_of(conversation) == ConversationStarted(**{**vars(event), "extra": {}})


class Follow:
    """Routes each conversation's events: the followed one to the analysis, the others to their state."""

    def __init__(self, analysis: Analysis, listener: FollowListener | None = None) -> None:
        self.analysis = analysis
        self._listener = listener
        self._left: dict[str, Left] = {}
        """Conversations not followed, as they are now (their insight only while no message came since)."""
        self._unseen: dict[str, int] = {}
        self.statuses: dict[str, str] = {}
        """The helpdesk status of each conversation that reported one (``open``, ``resolved``, ...)."""
        self.pinned = False
        self.on_end: Callable[[str], None] | None = None
        """Told the id of a conversation the helpdesk says ended (``conversation_end``): the panel's wrap-up."""
        self.focused = ""
        """The conversation the helpdesk last said the rep has open."""
        self._live = False
        """Whether a live event or a focus has been followed yet: until then the panel may show a conversation
        of its own (a demo file), which the first live conversation replaces unless the rep pinned it."""

    @property
    def current(self) -> str:
        """The followed conversation's id ('' before the first)."""
        return self.analysis.conversation.id if self.analysis.conversation is not None else ""

    def apply(self, event: Event) -> None:
        """One event, in its conversation's order (the inbox's sink)."""
        if isinstance(event, OtherEvent):
            self._other(event)
            return
        conversation_id = event.id if isinstance(event, ConversationStarted) else event.conversation_id
        if not self._live:
            self._live = True  # the first live conversation replaces whatever the panel showed (a demo file)
            if not self.pinned and conversation_id != self.current:
                self._switch(conversation_id, event if isinstance(event, ConversationStarted) else None)
                if isinstance(event, ConversationStarted):
                    return
        if conversation_id == self.current:
            known = self.analysis.conversation
            if isinstance(event, ConversationStarted) and known is not None and _same_header(known, event):
                return  # a helpdesk repeats the header with every webhook: nothing changed
            self.analysis.submit(event)
            return
        self._background(conversation_id, event)

    def open(self, conversation_id: str) -> None:
        """The rep opened ``conversation_id`` in the helpdesk: follow it, unless the panel is pinned."""
        self.focused = conversation_id
        self._live = True
        if not self.pinned and conversation_id != self.current:
            self._switch(conversation_id)

    def pin(self, pinned: bool) -> None:
        """Keep the followed conversation whatever the helpdesk opens; unpinning follows its open one."""
        self.pinned = pinned
        if not pinned and self.focused and self.focused != self.current:
            self._switch(self.focused)
        elif self._listener is not None:
            self._listener.followed(self.current, pinned)

    def state(self, conversation_id: str) -> Conversation | None:
        """Where ``conversation_id`` is now, followed or not (None: never seen)."""
        if conversation_id == self.current:
            return self.analysis.conversation
        left = self._left.get(conversation_id)
        return left.conversation if left is not None else None

    def conversations(self) -> list[str]:
        """Every conversation known, the followed one first (for a picker)."""
        return [c for c in (self.current, *self._left) if c]

    def _other(self, event: OtherEvent) -> None:
        conversation_id = event.data.get("conversation_id")
        if not isinstance(conversation_id, str) or not conversation_id:
            return
        if event.type == FOCUS:
            self.open(conversation_id)
        elif event.type == STATUS:
            self.statuses[conversation_id] = str(event.data.get("status", ""))
            self._tell_waiting(conversation_id)
        elif event.type == CONVERSATION_END and self.on_end is not None:
            self.on_end(conversation_id)

    def _background(self, conversation_id: str, event: Event) -> None:
        """Add ``event`` to a conversation not followed; its file gets it too, so a restart keeps it."""
        memory = self.analysis.memory
        left = self._left.get(conversation_id) or memory.recall(conversation_id)
        if left is None:
            opening = event if isinstance(event, ConversationStarted) else ConversationStarted(id=conversation_id)
            memory.append(conversation_id, opening)
            left = Left(Conversation.start(opening), -1, None)
            self._left[conversation_id] = left
            if event is opening:
                return
        if isinstance(event, ConversationStarted):
            # A changed header is kept in memory only: the file keeps its first header, as a file must.
            if not _same_header(left.conversation, event):
                self._left[conversation_id] = Left(left.conversation.apply(event), left.newest, left.insight)
            return
        conversation = left.conversation.apply(event)
        if conversation is left.conversation:
            return
        memory.append(conversation_id, event)
        if isinstance(event, Message):
            left = Left(conversation, event.seq, None)
            self._unseen[conversation_id] = self._unseen.get(conversation_id, 0) + 1
        else:
            left = Left(conversation, left.newest, None)
        self._left[conversation_id] = left
        self._tell_waiting(conversation_id)

    def _switch(self, conversation_id: str, opening: ConversationStarted | None = None) -> None:
        """Follow ``conversation_id`` (``opening``: its header, when that is what arrived); the one
        followed so far is kept as it is left."""
        analysis = self.analysis
        if analysis.conversation is not None:
            self._left[analysis.conversation.id] = Left(analysis.conversation, analysis.newest, analysis.insight)
        left = self._left.pop(conversation_id, None) or analysis.memory.recall(conversation_id)
        if left is not None:
            analysis.memory.remember(left)  # Analysis.start recalls it from there
        if opening is None:
            opening = header_of(left.conversation) if left is not None else ConversationStarted(id=conversation_id)
        self._unseen.pop(conversation_id, None)
        analysis.start(opening)
        if self._listener is not None:
            self._listener.followed(conversation_id, self.pinned)

    def _tell_waiting(self, conversation_id: str) -> None:
        if self._listener is not None and conversation_id != self.current:
            self._listener.waiting(
                conversation_id, self.statuses.get(conversation_id, ""), self._unseen.get(conversation_id, 0)
            )
