"""A live conversation in the app: events apply in order, each message is analysed, stale work is dropped."""

from __future__ import annotations

import asyncio
import logging
from typing import Protocol

from copilot.conversation import Conversation
from copilot.events import ConversationStarted, Event, Message
from copilot.pipeline import Insight, Pipeline

log = logging.getLogger("copilot")


class SessionListener(Protocol):
    """What the session tells the outside world (the UI bridge implements it)."""

    def conversation_changed(self, conversation: Conversation) -> None: ...

    def insight_ready(self, insight: Insight) -> None: ...

    def analysis_failed(self, seq: int, message: str) -> None: ...


class Session:
    """Owns the analysis task of the current conversation; a newer message cancels the older task."""

    def __init__(self, pipeline: asyncio.Future[Pipeline], listener: SessionListener) -> None:
        self._pipeline = pipeline
        self._listener = listener
        self._task: asyncio.Task[None] | None = None
        self._latest_seq = -1
        self.conversation: Conversation | None = None

    def start(self, event: ConversationStarted) -> None:
        """Begin a new conversation, dropping any analysis of the previous one."""
        self._cancel()
        self._latest_seq = -1
        self.conversation = Conversation.start(event)
        self._listener.conversation_changed(self.conversation)

    def submit(self, event: Event) -> None:
        """Apply one event now; analyse it in the background when it is a message."""
        if isinstance(event, ConversationStarted):
            self.start(event)
            return
        if self.conversation is None:
            conversation_id = getattr(event, "conversation_id", "conversation")
            self.start(ConversationStarted(id=conversation_id))
        assert self.conversation is not None
        self.conversation = self.conversation.apply(event)
        self._listener.conversation_changed(self.conversation)
        if isinstance(event, Message):
            self._cancel()
            self._latest_seq = event.seq
            self._task = self._pipeline.get_loop().create_task(self._analyse(self.conversation, event.seq))

    async def settle(self) -> None:
        """Wait until the newest message has been analysed (for screenshots and tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    def close(self) -> None:
        self._cancel()

    def _cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
        self._task = None

    async def _analyse(self, conversation: Conversation, seq: int) -> None:
        try:
            pipeline = await asyncio.shield(self._pipeline)  # a cancelled analysis must not cancel start-up
            insight = await asyncio.to_thread(pipeline.run, conversation, seq)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown to the rep; the previous advice stays on screen
            log.exception("analysis of seq %s failed", seq)
            if seq == self._latest_seq:
                self._listener.analysis_failed(seq, str(exc))
            return
        if seq == self._latest_seq and self.conversation is not None and conversation.id == self.conversation.id:
            self._listener.insight_ready(insight)
