"""A live conversation in the app: events apply in order, each message is analysed, stale work is dropped.

The session also owns the reply being written: reviews of the rep's edits, the optional LLM draft
(cancelled the moment a newer message makes it stale), the saved draft and recorded overrides.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from base.errors import CopilotError
from copilot.conversation.events import ConversationStarted, Event, Message, ToolCall, ToolResult
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline
from copilot.reasoning.claims import Unsupported
from copilot.reasoning.drafting import Reply
from copilot.reasoning.reasoner import Review
from copilot.reasoning.suggest import Suggestion
from copilot.records.journal import Journal
from copilot.session.operations import Operations, OperationsListener

if TYPE_CHECKING:
    from copilot.actions.approvals import Desk
    from copilot.llm.client import DraftRequest, LlmConfig

log = logging.getLogger("copilot")


class SessionListener(OperationsListener, Protocol):
    """What the session tells the outside world (the UI bridge implements it)."""

    def conversation_changed(self, conversation: Conversation) -> None: ...

    def insight_ready(self, insight: Insight) -> None: ...

    def analysis_failed(self, seq: int, message: str) -> None: ...

    def draft_reviewed(self, text: str, review: Review) -> None: ...

    def draft_streamed(self, seq: int, text: str, done: bool) -> None: ...

    def draft_failed(self, seq: int, message: str) -> None: ...


class Session:
    """Owns the analysis task of the current conversation; a newer message cancels the older task."""

    def __init__(
        self,
        pipeline: asyncio.Future[Pipeline],
        listener: SessionListener,
        journal: Journal | None = None,
        llm_config: Callable[[], LlmConfig] | None = None,
        desk: Desk | None = None,
    ) -> None:
        self._pipeline = pipeline
        self._listener = listener
        self._task: asyncio.Task[None] | None = None
        self._review: asyncio.Task[None] | None = None
        self._llm: asyncio.Task[None] | None = None
        self._latest_seq = -1
        self.conversation: Conversation | None = None
        self.insight: Insight | None = None
        """The analysis of the newest message, once ready."""
        self.journal = journal
        self.llm_config = llm_config
        self.operations = Operations(desk, listener, self.add_system_result) if desk is not None else None
        """Customer lookups and actions through the connected systems; None when no system is connected."""

    def start(self, event: ConversationStarted) -> None:
        """Begin a new conversation, dropping any analysis of the previous one."""
        self._cancel()
        self._cancel_llm()
        self._latest_seq = -1
        self.insight = None
        self.conversation = Conversation.start(event)
        self._listener.conversation_changed(self.conversation)
        if self.operations is not None:
            self.operations.start(self.conversation)

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
            self._cancel_llm()  # an LLM draft for an earlier message is stale now
            self._latest_seq = event.seq
            self._task = self._pipeline.get_loop().create_task(self._analyse(self.conversation, event.seq))
        if self.operations is not None:
            self.operations.follow(self.conversation)

    def add_system_result(self, tool: str, arguments: dict[str, Any], result: dict[str, Any]) -> None:
        """A lookup or action result from a connected system joins the conversation; the newest message
        is analysed again so paths, drafts and guardrails see it."""
        if self.conversation is None:
            return
        seq = max(self._latest_seq, 0)  # known from now on, so it counts for the message being analysed
        conversation_id = self.conversation.id
        self.conversation = self.conversation.apply(ToolCall(conversation_id, seq, tool, arguments)).apply(
            ToolResult(conversation_id, seq, tool, json.dumps(result))
        )
        self._listener.conversation_changed(self.conversation)
        if self.operations is not None:
            self.operations.follow(self.conversation)
        if self._latest_seq >= 0:
            self._cancel()
            self._task = self._pipeline.get_loop().create_task(self._analyse(self.conversation, self._latest_seq))

    async def settle(self) -> None:
        """Wait until the newest message has been analysed (for screenshots and tests)."""
        while self._task is not None and not self._task.done():
            await asyncio.wait([self._task])

    def close(self) -> None:
        self._cancel()
        self._cancel_llm()
        if self.operations is not None:
            self.operations.close()
        if self._review is not None:
            self._review.cancel()

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
            self.insight = insight
            self._listener.insight_ready(insight)
            if self.operations is not None:
                self.operations.shown(conversation)
                await self.operations.advise(conversation, insight, pipeline.workspace.guidance(insight.packs))

    # Actions

    def approve(self, action_id: str, name: str = "", role: str = "") -> asyncio.Task[Any] | None:
        """Approve (and, once fully approved, run) an action in the background; by default as this app's user."""
        if self.operations is None or self.conversation is None:
            return None
        desk = self.operations.desk
        return self._pipeline.get_loop().create_task(
            self.operations.approve(action_id, self.conversation, name or desk.actor, role or desk.role)
        )

    def act(self, verb: str, action_id: str) -> asyncio.Task[Any] | None:
        """``run`` (again, after the system was unreachable), ``reconcile`` (read the system's state) or
        ``preview`` (the system's dry run)."""
        if self.operations is None or self.conversation is None:
            return None
        work = {"run": self.operations.run, "reconcile": self.operations.reconcile, "preview": self.operations.preview}[
            verb
        ]
        return self._pipeline.get_loop().create_task(work(action_id, self.conversation))

    def reject(self, action_id: str) -> None:
        if self.operations is not None and self.conversation is not None:
            self.operations.reject(action_id, self.conversation, self.operations.desk.actor)

    def retry_lookups(self) -> None:
        if self.operations is not None and self.conversation is not None:
            self.operations.retry(self.conversation)

    def undo(self, tool: str, why: str) -> asyncio.Task[Any] | None:
        """Propose the compensating action (``reinstate_order``) for the rep to approve."""
        if self.operations is None or self.conversation is None or self.insight is None:
            return None
        guidance = self._pipeline.result().workspace.guidance(self.insight.packs)
        return self._pipeline.get_loop().create_task(
            self.operations.advise(self.conversation, self.insight, guidance, ((tool, why),))
        )

    # The reply being written

    def review(self, text: str) -> None:
        """Check the editor's text in the background; the newest request wins."""
        if self._review is not None:
            self._review.cancel()
        if self.conversation is None or self.insight is None:
            return
        self._review = self._pipeline.get_loop().create_task(self._run_review(self.conversation, self.insight, text))

    async def _run_review(self, conversation: Conversation, insight: Insight, text: str) -> None:
        self._listener.draft_reviewed(text, await self._reviewed(conversation, insight, text))

    async def _reviewed(self, conversation: Conversation, insight: Insight, text: str) -> Review:
        """The editor's text judged against the clauses and facts of ``insight`` (in a worker thread)."""
        pipeline = await asyncio.shield(self._pipeline)
        return await asyncio.to_thread(
            pipeline.reasoner.review_text,
            conversation,
            text,
            insight.packs,
            insight.advice.reply.citations,
            [h.text for h in insight.clauses],
        )

    async def blockers(self, text: str) -> Review:
        """What stands between this text and inserting it: unsupported spans and error-level flags."""
        if self.conversation is None or self.insight is None:
            return Review()
        review = await self._reviewed(self.conversation, self.insight, text)
        return Review(tuple(f for f in review.flags if f.severity == "error"), review.unsupported)

    def inserted(self, text: str, unsupported: tuple[Unsupported, ...]) -> None:
        """The rep inserted ``text``; with unsupported spans this is their recorded override."""
        if self.journal is not None and self.conversation is not None:
            self.journal.record_insert(self.conversation.id, self._latest_seq, text, unsupported)

    def save_draft(self, text: str) -> None:
        """Keep the rep's edited draft so a crash or restart does not lose it."""
        if self.journal is not None and self.conversation is not None:
            self.journal.save_draft(self.conversation.id, self._latest_seq, text)

    def saved_draft(self) -> tuple[int, str] | None:
        if self.journal is None or self.conversation is None:
            return None
        return self.journal.draft(self.conversation.id)

    def path_draft(self, suggestion: Suggestion) -> tuple[Reply, Review] | None:
        """The draft of a suggested path the rep picked (fast: templates and arithmetic only)."""
        if self.conversation is None or self.insight is None or not self._pipeline.done():
            return None
        insight = self.insight
        return self._pipeline.result().reasoner.draft_for(
            self.conversation,
            insight.seq,
            insight.packs,
            suggestion,
            insight.advice.escalations,
            [h.text for h in insight.clauses],
        )

    def decide(self, intent: str, path: str, decision: str) -> None:
        """Record a suggestion accepted or dismissed, for team leads' review."""
        if self.journal is not None and self.conversation is not None:
            self.journal.record_decision(self.conversation.id, self._latest_seq, intent, path, decision)

    def llm_request(self) -> DraftRequest | None:
        """What an LLM draft for the newest message would be given (before redaction)."""
        from copilot.llm.client import DraftRequest

        if self.conversation is None or self.insight is None:
            return None
        advice = self.insight.advice
        turns = tuple((t.role, t.text) for t in self.conversation.turns_upto(self.insight.seq))
        clauses = tuple((h.citation, h.text) for h in self.insight.clauses)
        facts = tuple(
            f"{k.replace('_', ' ')}: {v}"
            for k, v in advice.facts.values.items()
            if advice.facts.sources.get(k) != "conversation"
        )
        tone = "; ".join(filter(None, [advice.tone] + [e.tone for e in advice.escalations]))
        names = tuple(n for n in (self.conversation.customer_name,) if n)
        return DraftRequest(tone, turns, clauses, facts, names)

    def draft_with_llm(self) -> None:
        """Stream an LLM draft for the newest message; errors fall back to the template draft (the UI keeps it)."""
        self._cancel_llm()
        request = self.llm_request()
        if request is None or self.llm_config is None:
            return
        self._llm = self._pipeline.get_loop().create_task(self._stream(request, self._latest_seq))

    def cancel_llm(self) -> None:
        self._cancel_llm()

    def _cancel_llm(self) -> None:
        if self._llm is not None and not self._llm.done():
            self._llm.cancel()
        self._llm = None

    async def _stream(self, request: DraftRequest, seq: int) -> None:
        from copilot.llm.client import LlmClient, api_key

        assert self.llm_config is not None
        text = ""
        try:
            config = self.llm_config()
            key = (await asyncio.to_thread(api_key, config)).key  # a desktop keyring may block on D-Bus
            async with LlmClient(config, key) as client, contextlib.aclosing(client.stream_draft(request)) as stream:
                async for chunk in stream:
                    text += chunk
                    self._listener.draft_streamed(seq, text, False)
        except asyncio.CancelledError:
            raise
        except CopilotError as exc:
            self._listener.draft_failed(seq, str(exc))
            return
        self._listener.draft_streamed(seq, text, True)
