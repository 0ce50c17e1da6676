"""The reply being written for a live conversation: reviews of the rep's edits, the saved draft, recorded
overrides and decisions, the records of the cards shown and what the rep did with them (and of the questions
asked, the leads' approvals, the coaching read and the wrap-up, for the leads' review), and the optional LLM
draft (cancelled the moment a newer message makes it stale)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from base.errors import CopilotError, RecordsError
from copilot.actions.approvals import Action
from copilot.actions.credentials import Approver
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline, Worker
from copilot.qa.policy import qa_in_force
from copilot.reasoner import Review
from copilot.reasoning.claims import Unsupported
from copilot.reasoning.drafting import Reply
from copilot.reasoning.suggest import Suggestion
from copilot.records.models import Coaching, Ending, Kind, Outcome, Reason
from copilot.records.shown import DRAFT_KEY, cards_of, shown_for
from copilot.records.store import Records
from copilot.session.tasks import Tasks, in_daemon_thread
from copilot.wrapup import WrapUp, wrap_up

if TYPE_CHECKING:
    from copilot.llm.client import DraftRequest, LlmConfig

log = logging.getLogger("copilot")


class ReplyListener(Protocol):
    """What the reply desk tells the outside world (the UI bridge implements it)."""

    def draft_reviewed(self, text: str, review: Review) -> None: ...

    def draft_streamed(self, seq: int, text: str, done: bool) -> None: ...

    def draft_failed(self, seq: int, message: str) -> None: ...


class ReplyDesk:
    """Works on the insight the analysis hands it (a Follower): the newest review request wins, and an LLM
    draft streams until a newer message or conversation makes it stale."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        listener: ReplyListener,
        records: Records | None = None,
        llm_config: Callable[[], LlmConfig] | None = None,
    ) -> None:
        self._listener = listener
        self._tasks = Tasks(loop)
        self._review: asyncio.Task[None] | None = None
        self._llm: asyncio.Task[None] | None = None
        self._conversation: Conversation | None = None
        self._newest = -1
        self._insight: Insight | None = None
        self._pipeline: Pipeline | None = None
        self.records = records
        self._cards: dict[tuple[Kind, str], int] = {}
        """Record ids of the cards shown for the newest insight, by (kind, key); used in the writer only."""
        self._asked: set[tuple[str, int]] = set()
        """The customer messages recorded as questions (a message analysed again is one question); writer only."""
        self._insights: dict[int, Insight] = {}
        """The newest insight of each message of this conversation, by seq: what its wrap-up is made from."""
        self._writer = Worker("records")
        """Card records are written in order off the GUI thread (a message's cards cost tens of ms)."""
        self.llm_config = llm_config

    # What the analysis tells it

    def started(self, conversation: Conversation) -> None:
        self._tasks.cancel()  # its review and LLM draft are of the previous conversation
        self._review = self._llm = None
        if self._conversation is not None:
            self._write(self._record_start, self._conversation.id)
        self._conversation, self._newest, self._insight = conversation, -1, None
        self._insights = {}

    def updated(self, conversation: Conversation, newest: int) -> None:
        if newest != self._newest:
            self.cancel_llm()  # an LLM draft for an earlier message is stale now
            self._write(self._record_message, conversation, newest)
        self._conversation, self._newest = conversation, newest

    def analysed(self, insight: Insight, conversation: Conversation, pipeline: Pipeline) -> None:
        """Work on ``insight`` from now on (its cards are recorded as shown); nothing follows at once: reviews
        and drafts wait for the rep."""
        self._insight, self._pipeline = insight, pipeline
        self._insights[insight.seq] = insight
        self._write(self._record_shown, insight, conversation)

    async def aclose(self) -> None:
        """Cancel the review and the LLM draft in flight and wait for them to end."""
        await self._tasks.aclose()

    # Records of the cards shown (each in the writer thread, in the order the session saw things)

    def _write(self, job: Callable[..., None], *args: object) -> None:
        if self.records is not None:
            self._writer.submit(_logged, job, *args)

    async def records_written(self) -> None:
        """Wait until every card record asked for so far is written (tests, screenshots)."""
        await asyncio.wrap_future(self._writer.submit(_logged, lambda: None))

    def _record_start(self, previous: str) -> None:
        """A new conversation: the previous one's cards still waiting for a decision were ignored."""
        assert self.records is not None
        self.records.ignore_undecided(previous)
        self._cards = {}

    def _record_shown(self, insight: Insight, conversation: Conversation) -> None:
        assert self.records is not None
        cards = cards_of(insight, _names(conversation))
        ids = self.records.cards_shown(cards)
        self._cards = {(card.kind, card.key): id_ for card, id_ in zip(cards, ids, strict=True)}
        turn = conversation.turn(insight.seq)
        if turn is not None and turn.role == "customer" and (conversation.id, insight.seq) not in self._asked:
            self._asked.add((conversation.id, insight.seq))
            self.records.question_asked(
                conversation.id,
                insight.seq,
                turn.text,
                relevance=max((hit.score for hit in insight.clauses), default=None),
                answered=bool(insight.clauses),  # the insight keeps only clauses above the relevance floor
                topic=insight.advice.intent.id,
                names=_names(conversation),
            )

    def _record_message(self, conversation: Conversation, newest: int) -> None:
        """A new message: a rep's is what was sent in place of (or as) the draft; every card of earlier
        messages still waiting for a decision was ignored."""
        assert self.records is not None
        turn = conversation.turn(newest)
        draft = self._cards.get((Kind.DRAFT, DRAFT_KEY))
        if turn is not None and turn.role == "rep" and draft is not None:
            self.records.card_decided(draft, Outcome.SENT, sent=turn.text, names=_names(conversation))
        self.records.ignore_undecided(conversation.id, before_seq=newest)

    def card_shown(self, kind: Kind, key: str, text: str = "", citations: tuple[str, ...] = ()) -> None:
        """A card the insight does not carry (an action proposal) is on the panel now; once per message."""
        if self._insight is not None and self._conversation is not None:
            self._write(self._record_card, self._insight, self._conversation, kind, key, text, citations)

    def _record_card(
        self, insight: Insight, conversation: Conversation, kind: Kind, key: str, text: str, citations: tuple[str, ...]
    ) -> None:
        assert self.records is not None
        if (kind, key) not in self._cards:
            shown = shown_for(insight, kind, key, text, citations, _names(conversation))
            self._cards[kind, key] = self.records.card_shown(shown)

    def card_decided(
        self, kind: Kind, key: str, outcome: Outcome, sent: str | None = None, reason: Reason | None = None
    ) -> None:
        """The rep expanded, copied, inserted, sent or rejected one of the newest message's cards."""
        if self._conversation is not None:
            self._write(self._record_decision, kind, key, outcome, sent, reason, _names(self._conversation))

    def _record_decision(
        self, kind: Kind, key: str, outcome: Outcome, sent: str | None, reason: Reason | None, names: tuple[str, ...]
    ) -> None:
        assert self.records is not None
        if (card := self._cards.get((kind, key))) is not None:
            self.records.card_decided(card, outcome, sent=sent, reason=reason, names=names)

    def thumb(self, kind: Kind, key: str, up: bool | None) -> None:
        """Thumbs up or down (None: taken back) on one of the newest message's cards."""
        self._write(self._record_thumb, kind, key, up)

    def _record_thumb(self, kind: Kind, key: str, up: bool | None) -> None:
        assert self.records is not None
        if (card := self._cards.get((kind, key))) is not None:
            self.records.thumb(card, up)

    def lead_approved(self, action: Action, lead: Approver, describe: Callable[[Action], str]) -> None:
        """``action`` ran with ``lead``'s approval (verified by their passphrase): the leads' review lists it."""
        if self._conversation is not None:
            conversation, seq = self._conversation, self._newest
            self._write(
                self._record_approval, conversation, seq, describe(action), lead.name, action.proposal.citations
            )

    def _record_approval(
        self, conversation: Conversation, seq: int, action: str, lead: str, citations: tuple[str, ...]
    ) -> None:
        assert self.records is not None
        self.records.lead_approved(conversation.id, seq, action, lead, citations, names=_names(conversation))

    async def unseen_coaching(self) -> list[Coaching]:
        """The leads' notes this desk's rep has not seen, now marked seen: the panel shows them once."""
        records = self.records
        if records is None:
            return []

        def read() -> list[Coaching]:
            notes = records.coaching_for()
            if notes:
                records.coaching_seen([n.id for n in notes])
            return notes

        return await asyncio.wrap_future(self._writer.submit(read))

    # The wrap-up

    async def wrap_up(self) -> WrapUp:
        """The suggested wrap-up of the conversation from the insights of its messages (in a worker thread:
        it reads the pack's qa.toml and the handoff's summary); CopilotError before its first analysis."""
        conversation, pipeline = self._conversation, self._pipeline
        insights = [self._insights[seq] for seq in sorted(self._insights)]
        if conversation is None or pipeline is None or not insights:
            raise CopilotError("No analysed message to wrap up yet: wrap up after the customer's first message.")
        return await in_daemon_thread(
            lambda: wrap_up(conversation, insights, qa_in_force(pipeline.workspace.catalog, insights[-1].packs))
        )

    def wrapup_confirmed(self, wrapup: WrapUp, tags: tuple[str, ...], outcome: Ending) -> None:
        """The rep confirmed the wrap-up with these root-cause ``tags`` (the taxonomy's ids) and ``outcome``."""
        if self._conversation is not None:
            self._write(self._record_wrapup, wrapup, tags, outcome, _names(self._conversation))

    def _record_wrapup(self, wrapup: WrapUp, tags: tuple[str, ...], outcome: Ending, names: tuple[str, ...]) -> None:
        assert self.records is not None
        self.records.wrapup_recorded(
            wrapup.conversation_id, outcome, tags, wrapup.summary, wrapup.citations, names=names
        )

    # Reviews and the journal

    def review(self, text: str) -> None:
        """Check the editor's text in the background; the newest request wins."""
        if self._review is not None:
            self._review.cancel()
        self._review = None
        if self._conversation is not None and self._insight is not None:
            self._review = self._tasks.spawn(self._run_review(self._conversation, self._insight, text))

    async def _run_review(self, conversation: Conversation, insight: Insight, text: str) -> None:
        self._listener.draft_reviewed(text, await self._reviewed(conversation, insight, text))

    async def _reviewed(self, conversation: Conversation, insight: Insight, text: str) -> Review:
        """The editor's text judged against the clauses and facts of ``insight`` (in a worker thread)."""
        assert self._pipeline is not None  # there is an insight, so the pipeline that made it is known
        return await in_daemon_thread(
            self._pipeline.reasoner.review_text,
            conversation,
            text,
            insight.packs,
            insight.advice.reply.citations,
            [h.text for h in insight.clauses],
        )

    async def blockers(self, text: str) -> Review:
        """What stands between this text and inserting it: unsupported spans and error-level flags."""
        if self._conversation is None or self._insight is None:
            return Review()
        review = await self._reviewed(self._conversation, self._insight, text)
        return review.blocking

    def inserted(self, text: str, unsupported: tuple[Unsupported, ...]) -> None:
        """The rep inserted ``text`` (the draft card's outcome, with its word diff); with unsupported spans
        this is their recorded override."""
        if self.records is not None and self._conversation is not None:
            self.records.journal.record_insert(self._conversation.id, self._newest, text, unsupported)
            self.card_decided(Kind.DRAFT, DRAFT_KEY, Outcome.INSERTED, sent=text)

    def save_draft(self, text: str) -> None:
        """Keep the rep's edited draft so a crash or restart does not lose it."""
        if self.records is not None and self._conversation is not None:
            self.records.journal.save_draft(self._conversation.id, self._newest, text)

    def saved_draft(self) -> tuple[int, str] | None:
        if self.records is None or self._conversation is None:
            return None
        return self.records.journal.draft(self._conversation.id)

    def path_draft(self, suggestion: Suggestion) -> tuple[Reply, Review] | None:
        """The draft of a suggested path the rep picked (fast: templates and arithmetic only)."""
        if self._conversation is None or self._insight is None or self._pipeline is None:
            return None
        insight = self._insight
        return self._pipeline.reasoner.draft_for(
            self._conversation,
            insight.seq,
            insight.packs,
            suggestion,
            insight.advice.escalations,
            [h.text for h in insight.clauses],
        )

    def decide(self, intent: str, path: str, decision: str, reason: Reason | None = None) -> None:
        """Record a suggestion accepted (its draft goes into the editor: inserted) or dismissed (rejected, with
        the rep's reason when they gave one)."""
        if self.records is not None and self._conversation is not None:
            self.records.journal.record_decision(self._conversation.id, self._newest, intent, path, decision)
            if decision == "accepted":
                self.card_decided(Kind.SUGGESTION, path, Outcome.INSERTED)
            else:
                self.card_decided(Kind.SUGGESTION, path, Outcome.REJECTED, reason=reason)

    # The optional LLM draft

    def llm_request(self) -> DraftRequest | None:
        """What an LLM draft for the newest message would be given (before redaction)."""
        from copilot.action_policy import policy_in_force
        from copilot.llm.client import DraftRequest
        from copilot.llm.pii.known import private_values

        if self._conversation is None or self._insight is None:
            return None
        advice = self._insight.advice
        turns = tuple((t.role, t.text) for t in self._conversation.turns_upto(self._insight.seq))
        clauses = tuple((h.citation, h.text) for h in self._insight.clauses)
        facts = tuple(
            f"{k.replace('_', ' ')}: {v}"
            for k, v in advice.facts.values.items()
            if advice.facts.sources.get(k) != "conversation"
        )
        tone = "; ".join(filter(None, [advice.tone] + [e.tone for e in advice.escalations]))
        # Everything the systems returned about the customer, not only the header's name: a name a lookup
        # found (when the header had none) is in the facts too, and must be redacted there.
        policy = policy_in_force(self._pipeline.workspace.catalog, self._insight.packs) if self._pipeline else None
        private = private_values(self._conversation, policy)
        return DraftRequest(tone, turns, clauses, facts, _names(self._conversation), private)

    def draft_with_llm(self) -> None:
        """Stream an LLM draft for the newest message; errors fall back to the template draft (the UI keeps it)."""
        self.cancel_llm()
        request = self.llm_request()
        if request is not None and self.llm_config is not None:
            self._llm = self._tasks.spawn(self._stream(self.llm_config, request, self._newest))

    def cancel_llm(self) -> None:
        if self._llm is not None:
            self._llm.cancel()
        self._llm = None

    async def _stream(self, llm_config: Callable[[], LlmConfig], request: DraftRequest, seq: int) -> None:
        from copilot.llm.client import LlmClient, api_key

        text = ""
        try:
            config = llm_config()
            key = (await in_daemon_thread(api_key, config)).key  # a desktop keyring may block on D-Bus
            async with LlmClient(config, key) as client, contextlib.aclosing(client.stream_draft(request)) as stream:
                async for chunk in stream:
                    text += chunk
                    self._listener.draft_streamed(seq, text, False)
        except CopilotError as exc:
            self._listener.draft_failed(seq, str(exc))
            return
        self._listener.draft_streamed(seq, text, True)


def _names(conversation: Conversation) -> tuple[str, ...]:
    """The customer's name, so redaction of what records keep finds it."""
    return (conversation.customer_name,) if conversation.customer_name else ()


def _logged(job: Callable[..., None], *args: object) -> None:
    """Run a record write; a database that fails is logged, and the panel goes on without that record."""
    try:
        job(*args)
    except RecordsError as exc:
        log.warning("a record was not written: %s", exc)
