"""The analysis of a live conversation: events apply in order, each message is analysed in the background,
and a result is dropped unless it is still about the newest message."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from copilot.conversation.events import ConversationStarted, Event, Message, ToolCall, ToolResult
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline
from copilot.session.memory import ConversationMemory, Left
from copilot.session.tasks import Tasks, in_daemon_thread

log = logging.getLogger("copilot")


class AnalysisListener(Protocol):
    """What the analysis tells the outside world (the UI bridge implements it)."""

    def conversation_changed(self, conversation: Conversation) -> None: ...

    def insight_ready(self, insight: Insight) -> None: ...

    def analysis_failed(self, seq: int, message: str) -> None: ...


class Follower(Protocol):
    """A part of the session that works from the conversation and its analysis (the reply desk, operations).

    Followers hear of an insight before the listener does, so what the UI does with it finds them ready.
    """

    def started(self, conversation: Conversation) -> None:
        """Another conversation is followed (a new one, or one the rep comes back to): drop whatever
        belonged to the previous one and take up this one's own state."""

    def updated(self, conversation: Conversation, newest: int) -> None:
        """An event joined ``conversation``; ``newest`` is the seq of its newest message (-1: none yet)."""

    def analysed(
        self, insight: Insight, conversation: Conversation, pipeline: Pipeline
    ) -> Coroutine[Any, Any, None] | None:
        """``insight`` is the analysis of the newest message of ``conversation``. Work that follows from it
        is returned, not started: the analysis task runs it once the listener has the insight, and a newer
        analysis cancels it along with its own."""


class Analysis:
    """Owns the conversation state and its analysis task; a newer message cancels the older task.

    Each conversation keeps its own state in ``memory``: switching to another and back shows the first as
    it was left, and a restart rebuilds it from the data folder.
    """

    def __init__(
        self,
        pipeline: asyncio.Future[Pipeline],
        listener: AnalysisListener,
        memory: ConversationMemory | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._listener = listener
        self.memory = memory or ConversationMemory(None)
        self._followers: list[Follower] = []
        self._tasks = Tasks(pipeline.get_loop())
        self._task: asyncio.Task[None] | None = None
        self.newest = -1
        """The seq of the newest message (-1 before the first)."""
        self.conversation: Conversation | None = None
        self.insight: Insight | None = None
        """The analysis of the newest message, once ready."""

    def follow(self, follower: Follower) -> None:
        """Tell ``follower`` of every conversation, event and insight from now on."""
        self._followers.append(follower)

    def start(self, event: ConversationStarted, source: str = "") -> None:
        """Follow the conversation ``event`` opens: where it was left if the rep had it before, else new.
        ``source`` names the file it plays from, so a restart can open it again."""
        self._cancel()
        if self.conversation is not None:
            self.memory.remember(Left(self.conversation, self.newest, self.insight))
        left = self.memory.recall(event.id)
        if left is None:
            self.memory.append(event.id, event)
            left = Left(Conversation.start(event), -1, None)
        self.conversation = left.conversation.apply(event)
        self.newest, self.insight = left.newest, left.insight
        self.memory.mark_open(event.id, source)
        for follower in self._followers:
            follower.started(self.conversation)
            follower.updated(self.conversation, self.newest)
        self._listener.conversation_changed(self.conversation)
        if self.insight is not None:
            self._listener.insight_ready(self.insight)
        if self.newest >= 0:  # followers' work (proposals, lookups) and anything that changed since
            self._task = self._tasks.spawn(self._analyse(self.conversation, self.newest))

    def forget(self) -> None:
        """Drop the followed conversation's saved state, so it can be played again from its start."""
        if self.conversation is not None:
            self.memory.forget(self.conversation.id)
            self.conversation = None

    def submit(self, event: Event) -> None:
        """Apply one event now; analyse it in the background when it is a message."""
        if isinstance(event, ConversationStarted):
            self.start(event)
            return
        if self.conversation is None:
            self.start(ConversationStarted(id=getattr(event, "conversation_id", "conversation")))
        assert self.conversation is not None
        conversation = self.conversation.apply(event)
        if conversation is self.conversation:
            return  # another conversation's event, or a message delivered twice
        self.memory.append(conversation.id, event)
        if isinstance(event, Message):
            self.newest = event.seq
        self._changed(conversation, analyse=isinstance(event, Message))

    def add_system_result(self, tool: str, arguments: dict[str, Any], result: dict[str, Any]) -> None:
        """A lookup or action result from a connected system joins the conversation; the newest message
        is analysed again so paths, drafts and guardrails see it."""
        if self.conversation is None:
            return
        seq = max(self.newest, 0)  # known from now on, so it counts for the message being analysed
        conversation_id = self.conversation.id
        events = (
            ToolCall(conversation_id, seq, tool, arguments),
            ToolResult(conversation_id, seq, tool, json.dumps(result)),
        )
        conversation = self.conversation
        for event in events:
            conversation = conversation.apply(event)
            self.memory.append(conversation_id, event)
        self._changed(conversation, analyse=self.newest >= 0)

    def _changed(self, conversation: Conversation, analyse: bool) -> None:
        self.conversation = conversation
        for follower in self._followers:
            follower.updated(conversation, self.newest)
        self._listener.conversation_changed(conversation)
        if analyse:
            self._cancel()
            self._task = self._tasks.spawn(self._analyse(conversation, self.newest))

    async def settle(self) -> None:
        """Wait until the newest message has been analysed (for screenshots and tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    async def aclose(self) -> None:
        """Cancel the analysis in flight and wait for it to end."""
        await self._tasks.aclose()

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._task = None

    async def _analyse(self, conversation: Conversation, seq: int) -> None:
        try:
            pipeline = await asyncio.shield(self._pipeline)  # a cancelled analysis must not cancel start-up
            insight = await in_daemon_thread(pipeline.run, conversation, seq)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # shown to the rep; the previous advice stays on screen
            log.exception("analysis of seq %s failed", seq)
            if seq == self.newest:
                self._listener.analysis_failed(seq, str(exc))
            return
        if seq == self.newest and self.conversation is not None and conversation.id == self.conversation.id:
            self.insight = insight
            work = [w for f in self._followers if (w := f.analysed(insight, conversation, pipeline)) is not None]
            self._listener.insight_ready(insight)
            await asyncio.gather(*work)  # cancelled (and awaited) with this task
