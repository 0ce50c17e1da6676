"""Everything after retrieval for one message: facts, escalations with their handling, intent, paths,
the deterministic draft and its verification, and compliance flags on the newest turn.

All of it is rules, arithmetic and nearest-example lookups over the pack's guidance; no model is asked
for a verdict. The example indexes are built once per guidance (pack versions) and reused.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from copilot.conversation.state import Conversation
from copilot.reasoning.case import Case
from copilot.reasoning.claims import FINDER_CLAUSES, ClauseFinder, Unsupported, verify
from copilot.reasoning.drafting import Reply, draft_reply
from copilot.reasoning.escalation import Escalation, Taxonomy, detect
from copilot.reasoning.examples import ExampleIndex
from copilot.reasoning.facts import Facts
from copilot.reasoning.guidance import Guidance
from copilot.reasoning.intent import Intent
from copilot.reasoning.pack_rules import pack_rules
from copilot.reasoning.rules import Checks, Draft, Flag, evaluate
from copilot.reasoning.signals import SentimentTrend, customer_sentiment
from copilot.reasoning.suggest import Suggestion, suggest
from copilot.reasoning.topics import Reading, Topics, track
from copilot.timing import stage
from copilot.workspace import Workspace
from retrieval.cache import CachedEmbedder


def workspace_clauses(workspace: Workspace, keys: Sequence[str] | None = None) -> ClauseFinder:
    """A ClauseFinder over pack versions ``keys`` (the active ones when None), ranked without a floor."""

    def find(sentence: str, jurisdiction: str) -> list[str]:
        searched = list(keys) if keys is not None else [v.key for v in workspace.catalog.active_versions()]
        return [
            h.text
            for h in workspace.searcher.search(sentence, (), searched, jurisdiction, k=FINDER_CLAUSES, floor=0.0).hits
        ]

    return find


_UNFILLED = re.compile(r"\[[a-z][a-z0-9 ._-]{0,40}\]")
"""A draft's gap for a fact nobody knew yet (``[order id]``, copilot/reasoning/drafting.py): never for a customer."""

FOUND_REMEMBERED = 2048
"""Sentences whose clauses are kept (many conversations' worth of rep messages)."""


@dataclass(frozen=True)
class Review:
    """Compliance flags and unsupported spans of one piece of rep text."""

    flags: tuple[Flag, ...] = ()
    unsupported: tuple[Unsupported, ...] = ()

    @property
    def blocking(self) -> Review:
        """What must not reach a customer without the rep's recorded override: every unsupported span
        (unbacked figures, unfilled placeholders), error flags, and promises of an outcome at any severity."""
        held = tuple(f for f in self.flags if f.severity == "error" or f.category == "forbidden_commitment")
        return Review(held, self.unsupported)


@dataclass(frozen=True)
class Advice:
    facts: Facts = field(default_factory=Facts)
    sentiment: SentimentTrend = SentimentTrend(0.0, "steady")
    escalations: tuple[Escalation, ...] = ()
    intent: Intent = Intent("unknown", 0.0, -1)
    """The intent of the topic the newest customer message belongs to (``topics.intent``)."""
    topics: Topics = field(default_factory=Topics)
    suggestions: tuple[Suggestion, ...] = ()
    reply: Reply = Reply("")
    reply_review: Review = Review()
    flags: tuple[Flag, ...] = ()
    """Flags on the newest turn (a rep message, or what a customer message means for the rep)."""
    tone: str = ""
    """The pack's tone guidance for replies."""


@dataclass(frozen=True)
class _Turn:
    """The message being judged: who wrote it, and its text in its conversation."""

    role: str
    draft: Draft


def _reviewed(flags: list[Flag], unsupported: list[Unsupported], checks: Checks) -> Review:
    """Rule flags and unsupported spans as one review; an unbacked figure is flagged unless a rule did."""
    if unsupported and not any(f.category == "unverified_claim" for f in flags):
        first = unsupported[0]
        message = f"{first.reason}: check it or take it out."
        flags = [*flags, checks.flag("unverified_figures", "verify-figures", message, first.text)]
    return Review(tuple(flags), tuple(unsupported))


class Reasoner:
    """Builds Advice for a conversation state; thread-safe, called from the pipeline's worker thread."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._lock = threading.Lock()
        self._built: tuple[Guidance, Reading, Taxonomy] | None = None
        self._found: dict[tuple[int, tuple[str, ...], str, str], tuple[str, ...]] = {}
        """(catalog generation, packs, sentence, region) → the clauses a claim check found for the sentence."""

    def _finder(self, packs: tuple[str, ...]) -> ClauseFinder:
        """The clauses each sentence of rep text is about, searched once per sentence: a rep message's
        sentence is looked up when the message is judged and again if the rep's text is reviewed before insert."""
        generation = self.workspace.catalog.generation
        search = workspace_clauses(self.workspace, packs)

        def find(sentence: str, jurisdiction: str) -> tuple[str, ...]:
            key = (generation, packs, sentence, jurisdiction)
            found = self._found.get(key)
            if found is None:
                found = tuple(search(sentence, jurisdiction))
                with self._lock:
                    if len(self._found) >= FOUND_REMEMBERED:
                        self._found.clear()
                    self._found[key] = found
            return found

        return find

    def _vector(self, text: str) -> np.ndarray:
        return self.workspace.searcher.vectors([text])[0]

    def _indexes(self, guidance: Guidance) -> tuple[Reading, Taxonomy]:
        with self._lock:
            if self._built is None or self._built[0] is not guidance:
                cached = CachedEmbedder(self.workspace.embedder, self.workspace.cache)
                pairs = [(p.intent, e) for p in guidance.playbooks for e in p.examples]
                settings = guidance.settings
                reading = Reading(
                    ExampleIndex(pairs, cached.encode),
                    self._vector,
                    {p.intent: p.topic or p.intent for p in guidance.playbooks},
                    {p.intent: p.title for p in guidance.playbooks},
                    settings.intent_floor,
                    settings.new_topic_floor,
                    tuple(re.compile(pattern) for _, pattern in guidance.id_patterns),
                )
                self._built = (guidance, reading, Taxonomy.of(guidance, cached.encode, self._vector))
            return self._built[1], self._built[2]

    def case(self, conversation: Conversation, seq: int | None, packs: tuple[str, ...]) -> Case:
        """The case every stage of one analysis reads: the guidance of ``packs`` is looked up once here."""
        return Case(conversation, seq, packs, self.workspace.guidance(packs))

    def clause_text(self, citation: str) -> str | None:
        stored = self.workspace.catalog.clause(citation) if citation else None
        return stored.text if stored else None

    def advise(self, case: Case, retrieved: Callable[[], Sequence[str]]) -> tuple[Advice, dict[str, float]]:
        """Advice for the state after ``case.seq``. ``retrieved`` gives the texts of the clauses retrieval
        showed, waiting for them if need be: only checking figures needs them, so it is called last."""
        timings: dict[str, float] = {}
        conversation, seq = case.conversation, case.seq
        if seq is None:
            raise ValueError("advice is for one message: the case names no message")
        reading, taxonomy = self._indexes(case.guidance)
        with stage(timings, "signals"):
            facts = case.facts
            mood = customer_sentiment(conversation, seq)
        with stage(timings, "escalation"):
            escalations = self._escalations(case, taxonomy)
        with stage(timings, "suggest"):
            topics = track(conversation, seq, reading)
            intent = topics.intent
            suggestions = tuple(suggest(intent, case.guidance, facts))
        with stage(timings, "draft"):
            reply, draft = self._compose(case, suggestions[0] if suggestions else None, escalations, topics)
            draft_flags = self._rule_flags(case, draft)
        with stage(timings, "flags"):
            turn = self._turn_draft(case, ai_drafted=False)
            turn_flags = self._customer_flags(case, turn) if turn and turn.role == "customer" else ()
            rep_flags = self._rule_flags(case, turn.draft) if turn and turn.role == "rep" else []
        with stage(timings, "retrieval_wait"):
            clauses = tuple(retrieved())
        with stage(timings, "verify"):
            cited = [*clauses, *self._texts(reply.citations)]
            checks = case.guidance.checks
            reply_review = _reviewed(draft_flags, self._unsupported(case, draft, cited, find_in=False), checks)
            if turn and turn.role == "rep":
                unsupported = self._unsupported(case, turn.draft, clauses, find_in=True)
                turn_flags = _reviewed(rep_flags, unsupported, checks).flags
        advice = Advice(
            facts,
            mood,
            escalations,
            intent,
            topics,
            suggestions,
            reply,
            reply_review,
            turn_flags,
            case.guidance.settings.tone,
        )
        return advice, timings

    def draft_for(
        self,
        conversation: Conversation,
        seq: int,
        packs: tuple[str, ...],
        suggestion: Suggestion | None,
        escalations: Sequence[Escalation],
        retrieved: Sequence[str] = (),
    ) -> tuple[Reply, Review]:
        """The template draft for one path (or a handoff/generic reply without one), already verified."""
        case = self.case(conversation, seq, packs)
        reply, draft = self._compose(case, suggestion, escalations)
        return reply, self._review(case, draft, [*retrieved, *self._texts(reply.citations)], find_in=False)

    def _compose(
        self,
        case: Case,
        suggestion: Suggestion | None,
        escalations: Sequence[Escalation],
        topics: Topics | None = None,
    ) -> tuple[Reply, Draft]:
        """The reply for one path (after the message of ``topics``, or the path the rep picked), and the same text
        as a draft to judge in this conversation."""
        reply = draft_reply(case, suggestion, escalations, self.clause_text, topics)
        return reply, Draft(
            reply.text,
            case.turns,
            case.jurisdiction,
            True,
            case.guidance.disclosure.jurisdictions,
            case.guidance.disclosure.lines,
        )

    def _review(self, case: Case, draft: Draft, cited: Sequence[str], *, find_in: bool, strict: bool = False) -> Review:
        """Flags and unsupported spans of rep text; with ``find_in`` it also consults the clauses each
        sentence is about (in the case's packs), beyond those cited; ``strict`` as in `_known`."""
        unsupported = self._unsupported(case, draft, cited, find_in=find_in, strict=strict)
        return _reviewed(self._rule_flags(case, draft), unsupported, case.guidance.checks)

    @staticmethod
    def _rule_flags(case: Case, draft: Draft) -> list[Flag]:
        """The compliance rules on rep text (the copilot's own draft, or what the rep wrote)."""
        return evaluate(draft, case.guidance.checks, pack_rules(case.guidance, "draft" if draft.ai_drafted else "rep"))

    def _unsupported(
        self, case: Case, draft: Draft, cited: Sequence[str], *, find_in: bool, strict: bool = False
    ) -> list[Unsupported]:
        """Figures and dates of rep text that nothing cited (or found, with ``find_in``) backs."""
        known = self._known(case, draft, strict=strict)
        finder = self._finder(case.packs) if find_in else None
        return verify(draft.text, cited, known, draft.jurisdiction, finder)

    @staticmethod
    def _known(case: Case, draft: Draft, *, strict: bool) -> list[str]:
        """What backs a figure besides clauses: the system data, and the conversation before the text. For
        text about to be inserted (``strict``) only the customer's own words in it count: a figure the rep
        typed earlier is no evidence for itself."""
        return [t.text for t in draft.context if not strict or t.role == "customer"] + case.facts.system_texts()

    def review_text(
        self,
        conversation: Conversation,
        text: str,
        packs: tuple[str, ...],
        citations: Sequence[str],
        retrieved: Sequence[str] = (),
    ) -> Review:
        """Review the text in the draft editor (a copilot draft, maybe edited) before it is inserted."""
        case = self.case(conversation, None, packs)
        draft = Draft(
            text,
            case.turns,
            case.jurisdiction,
            True,
            case.guidance.disclosure.jurisdictions,
            case.guidance.disclosure.lines,
        )
        review = self._review(case, draft, [*retrieved, *self._texts(citations)], find_in=True, strict=True)
        unfilled = tuple(
            Unsupported(
                m.start(), m.end(), m.group(), f"{m.group()} is not filled in: put in the real value or take it out"
            )
            for m in _UNFILLED.finditer(text)
        )
        return replace(review, unsupported=tuple(sorted((*review.unsupported, *unfilled), key=lambda u: u.start)))

    def escalations(
        self, conversation: Conversation, seq: int | None, packs: tuple[str, ...]
    ) -> tuple[Escalation, ...]:
        """Escalations up to ``seq`` (all turns when None), each with the pack's required handling."""
        case = self.case(conversation, seq, packs)
        return self._escalations(case, self._indexes(case.guidance)[1])

    def _escalations(self, case: Case, taxonomy: Taxonomy) -> tuple[Escalation, ...]:
        return tuple(self._handled(e, case.guidance) for e in detect(case.conversation, case.seq, taxonomy))

    def turn_flags(
        self, conversation: Conversation, seq: int, packs: tuple[str, ...], *, ai_drafted: bool = False
    ) -> tuple[Flag, ...]:
        """Flags on turn ``seq``: the rep rules on a rep turn, the customer-scope rules on a customer turn."""
        case = self.case(conversation, seq, packs)
        turn = self._turn_draft(case, ai_drafted=ai_drafted)
        if turn is None:
            return ()
        if turn.role == "rep":
            return self._review(case, turn.draft, (), find_in=True).flags
        return self._customer_flags(case, turn)

    @staticmethod
    def _turn_draft(case: Case, *, ai_drafted: bool) -> _Turn | None:
        """The message ``case.seq`` as text to judge against the conversation before it."""
        turn = case.conversation.turn(case.seq) if case.seq is not None else None
        if turn is None:
            return None
        context = tuple(t for t in case.turns if t.seq < turn.seq)
        draft = Draft(
            turn.text,
            context,
            case.jurisdiction,
            ai_drafted,
            case.guidance.disclosure.jurisdictions,
            case.guidance.disclosure.lines,
        )
        return _Turn(turn.role, draft)

    @staticmethod
    def _customer_flags(case: Case, turn: _Turn) -> tuple[Flag, ...]:
        """What a customer message means for the rep: secrets they posted, and the pack's customer rules."""
        return tuple(evaluate(turn.draft, case.guidance.checks, pack_rules(case.guidance, "customer"), customer=True))

    def _texts(self, citations: Sequence[str]) -> list[str]:
        return [t for c in citations if (t := self.clause_text(c))]

    @staticmethod
    def _handled(escalation: Escalation, guidance: Guidance) -> Escalation:
        category = guidance.category(escalation.category)
        if category is None:
            return escalation
        return replace(escalation, queue=category.queue, tone=category.tone, citations=guidance.cite(category.clauses))
