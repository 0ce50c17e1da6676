"""Every live conversation analysed, headless: what ``copilot listen`` and ``copilot bench --live`` run.

Unlike the panel, which analyses only the conversation the rep follows, this analyses every message of
every conversation: one pipeline, one message at a time, in the order the inbox applied them, so its
output is the same as ``copilot replay`` would print for each conversation's events.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from copilot.conversation.events import ConversationStarted, Event, Message, OtherEvent
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline
from copilot.session.tasks import Tasks, in_daemon_thread

log = logging.getLogger("copilot")


class AnalyseAll:
    """The conversations' states, and a queue of their messages analysed one by one (the inbox's sink)."""

    def __init__(
        self,
        pipeline: Pipeline,
        on_insight: Callable[[Insight], None],
        on_error: Callable[[str, int, str], None] = lambda *_: None,
    ) -> None:
        self._pipeline = pipeline
        self._on_insight = on_insight
        self._on_error = on_error
        self.conversations: dict[str, Conversation] = {}
        self._queue: asyncio.Queue[tuple[Conversation, int]] = asyncio.Queue()
        self._pending = 0
        self._tasks = Tasks(asyncio.get_running_loop())
        self._tasks.spawn(self._work())

    def apply(self, event: Event) -> None:
        """Add one event to its conversation; a new message joins the queue of work."""
        if isinstance(event, OtherEvent):
            return  # focus and status changes matter to a rep's panel only
        conversation_id = event.id if isinstance(event, ConversationStarted) else event.conversation_id
        known = self.conversations.get(conversation_id) or Conversation(id=conversation_id)
        conversation = known.apply(event)
        self.conversations[conversation_id] = conversation
        if isinstance(event, Message) and conversation is not known:
            self._pending += 1
            self._queue.put_nowait((conversation, event.seq))

    def pending(self) -> int:
        """Messages not analysed yet (including the one in progress)."""
        return self._pending

    async def drain(self) -> None:
        """Wait until every message received so far has been analysed."""
        await self._queue.join()

    async def aclose(self) -> None:
        await self._tasks.aclose()

    async def _work(self) -> None:
        while True:
            conversation, seq = await self._queue.get()
            try:
                insight = await in_daemon_thread(self._pipeline.run, conversation, seq)
            except Exception as exc:  # reported, and the next message still runs
                log.exception("analysis of %s #%s failed", conversation.id, seq)
                self._on_error(conversation.id, seq, str(exc))
            else:
                self._on_insight(insight)
            finally:
                self._pending -= 1
                self._queue.task_done()
