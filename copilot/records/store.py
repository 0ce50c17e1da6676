"""The records of what reps did with every card the copilot showed them: the API the panel, the review window
and QA use. One ``Records`` per desk (its rep); a team's desks share one PostgreSQL database."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import ColumnElement, Engine, delete, func, select, tuple_, update
from sqlalchemy.orm import selectinload

from base.errors import RecordsError
from copilot.llm.redact import redact
from copilot.records.columns import now
from copilot.records.database import Sessions, engine_for, shown, upgrade
from copilot.records.diff import word_diff
from copilot.records.journal import Journal
from copilot.records.models import (
    LOOKS,
    Approval,
    Card,
    CardAction,
    ChangeRequest,
    Coaching,
    Decision,
    Draft,
    Ending,
    Insert,
    Kind,
    Outcome,
    Question,
    Reason,
    RequestState,
    Review,
    Wrapup,
)


@dataclass(frozen=True)
class Shown:
    """A card as the panel showed it."""

    conversation_id: str
    seq: int
    """The message the card was made for."""
    kind: Kind
    key: str
    """What it is about: a citation, rule id, escalation category, path title or proposal id."""
    text: str = ""
    """The words it showed (what a rep may insert or send)."""
    citations: tuple[str, ...] = ()
    packs: tuple[str, ...] = ()
    latency_ms: float | None = None
    topic: str = ""
    names: tuple[str, ...] = ()
    """The customer's names, so redaction finds them; not stored."""


@dataclass(frozen=True)
class CardRecord:
    """One recorded card, as a review or QA reads it."""

    id: int
    conversation_id: str
    seq: int
    kind: Kind
    key: str
    text: str
    citations: tuple[str, ...]
    packs: tuple[str, ...]
    latency_ms: float | None
    topic: str
    rep: str
    shown_at: datetime
    outcome: Outcome
    decided_at: datetime | None
    decision_ms: int | None
    sent_text: str | None
    diff: tuple[tuple[str, str], ...] | None
    edit_ratio: float | None
    reason: Reason | None
    thumb: int | None
    actions: tuple[tuple[Outcome, datetime], ...]
    """Everything the rep did with it, in order."""

    @classmethod
    def of(cls, card: Card) -> CardRecord:
        return cls(
            card.id,
            card.conversation_id,
            card.seq,
            card.kind,
            card.key,
            card.text,
            tuple(card.citations),
            tuple(card.packs),
            card.latency_ms,
            card.topic,
            card.rep,
            card.shown_at,
            card.outcome,
            card.decided_at,
            card.decision_ms,
            card.sent_text,
            None if card.diff is None else tuple((op, words) for op, words in card.diff),
            card.edit_ratio,
            card.reason,
            card.thumb,
            tuple((a.action, a.at) for a in card.actions),
        )


@dataclass(frozen=True)
class CardFilter:
    """Which cards a review or QA asks for; empty fields do not filter."""

    rep: str | None = None
    since: datetime | None = None
    """Shown at or after."""
    until: datetime | None = None
    """Shown before."""
    outcomes: frozenset[Outcome] = frozenset()
    kinds: frozenset[Kind] = frozenset()
    conversation_id: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        """The WHERE conditions on ``cards`` this filter stands for."""
        found: list[ColumnElement[bool]] = []
        if self.rep is not None:
            found.append(Card.rep == self.rep)
        if self.since is not None:
            found.append(Card.shown_at >= self.since)
        if self.until is not None:
            found.append(Card.shown_at < self.until)
        if self.outcomes:
            found.append(Card.outcome.in_(sorted(self.outcomes)))
        if self.kinds:
            found.append(Card.kind.in_(sorted(self.kinds)))
        if self.conversation_id is not None:
            found.append(Card.conversation_id == self.conversation_id)
        return found


@dataclass(frozen=True)
class Purged:
    """How many records of each kind a purge deleted."""

    cards: int = 0
    inserts: int = 0
    decisions: int = 0
    drafts: int = 0
    questions: int = 0
    wrapups: int = 0
    reviews: int = 0
    """The leads' records: approvals, queue verdicts, coaching notes and closed change requests."""

    @property
    def total(self) -> int:
        return self.cards + self.inserts + self.decisions + self.drafts + self.questions + self.wrapups + self.reviews


@dataclass
class Records:
    """Cards shown and decided at one desk, and the journal, in one database (SQLite file or server)."""

    engine: Engine
    rep: str = ""
    """Who works at this desk: every record written here names them."""
    redacting: bool = True
    """Redact personal data from shown and sent texts before storing them (an admin may turn it off)."""
    journal: Journal = field(init=False)
    _sessions: Sessions = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sessions = Sessions(self.engine)
        self.journal = Journal(self._sessions, self.rep)

    @classmethod
    def open(cls, url: str, rep: str = "", redacting: bool = True) -> Records:
        """The records at ``url``, upgraded to the newest schema first (an older data folder's journal too)."""
        engine = engine_for(url)
        upgrade(engine)
        return cls(engine, rep, redacting)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def sessions(self) -> Sessions:
        """Transactions on these records, for the review's own queries (``copilot/records/review.py``)."""
        return self._sessions

    def _private(self, text: str, names: tuple[str, ...]) -> str:
        return redact(text, names=names).text if self.redacting else text

    # Writing

    def cards_shown(self, cards: Sequence[Shown], at: datetime | None = None) -> list[int]:
        """Record the cards the panel just showed (one transaction for a message's cards); their ids.

        A card this desk already recorded for the same message (kind and key) keeps its record: a message
        analysed again (a lookup's result joined it) shows its cards again, but the rep saw them once.
        """
        at = at or now()
        with self._sessions.writing() as session:
            known = {
                (c.conversation_id, c.seq, c.kind, c.key): c.id
                for c in session.scalars(
                    select(Card).where(
                        Card.rep == self.rep,
                        tuple_(Card.conversation_id, Card.seq).in_({(c.conversation_id, c.seq) for c in cards}),
                    )
                )
            }
            new = {
                (c.conversation_id, c.seq, c.kind, c.key): self._card(c, at)
                for c in cards
                if (c.conversation_id, c.seq, c.kind, c.key) not in known
            }
            session.add_all(new.values())
            session.flush()
            known |= {identity: card.id for identity, card in new.items()}
            return [known[c.conversation_id, c.seq, c.kind, c.key] for c in cards]

    def _card(self, shown: Shown, at: datetime) -> Card:
        return Card(
            conversation_id=shown.conversation_id,
            seq=shown.seq,
            kind=shown.kind,
            key=shown.key,
            text=self._private(shown.text, shown.names),
            citations=list(shown.citations),
            packs=list(shown.packs),
            latency_ms=shown.latency_ms,
            topic=shown.topic,
            rep=self.rep,
            shown_at=at,
            outcome=Outcome.DISPLAYED,
            actions=[CardAction(action=Outcome.DISPLAYED, at=at)],
        )

    def card_shown(self, card: Shown, at: datetime | None = None) -> int:
        return self.cards_shown([card], at)[0]

    def card_decided(
        self,
        card_id: int,
        outcome: Outcome,
        *,
        sent: str | None = None,
        reason: Reason | None = None,
        names: tuple[str, ...] = (),
        at: datetime | None = None,
    ) -> Outcome:
        """Record what the rep did with a card; returns the outcome kept.

        A look (expanded, copied) never replaces a decision. ``sent`` is the text inserted or sent; sent
        with other words than the card's it is kept as ``edited``, with the word diff. ``reason`` goes
        with a rejection only. Time to decision is counted to the first decision.
        """
        if outcome is Outcome.DISPLAYED:
            raise RecordsError("a card is recorded as displayed when it is shown (cards_shown), not decided")
        if reason is not None and outcome is not Outcome.REJECTED:
            raise RecordsError(f"a reason ({reason}) goes with a rejection, not with {outcome}")
        if sent is not None and outcome not in (Outcome.INSERTED, Outcome.SENT, Outcome.EDITED):
            raise RecordsError(f"a sent text goes with inserted, sent or edited, not with {outcome}")
        at = at or now()
        with self._sessions.writing() as session:
            card = session.get(Card, card_id)
            if card is None:
                raise RecordsError(f"no card record {card_id} in {shown(self.engine.url)}")
            if sent is not None:
                card.sent_text = self._private(sent, names)
                diff = word_diff(card.text, card.sent_text)
                card.diff, card.edit_ratio = diff.ops, diff.edit_ratio
                if outcome is Outcome.SENT and diff.edit_ratio > 0:
                    outcome = Outcome.EDITED
            if outcome.decides or card.outcome in LOOKS:
                card.outcome = outcome
            if outcome.decides and card.decided_at is None:
                card.decided_at = at
                card.decision_ms = round((at - card.shown_at).total_seconds() * 1000)
            if reason is not None:
                card.reason = reason
            session.add(CardAction(card_id=card.id, action=outcome, at=at))
            return outcome

    def thumb(self, card_id: int, up: bool | None) -> None:
        """Thumbs up (True) or down (False) on a card; None takes the thumb back."""
        with self._sessions.writing() as session:
            found = session.execute(
                update(Card).where(Card.id == card_id).values(thumb=None if up is None else (1 if up else -1))
            )
            if found.rowcount == 0:  # type: ignore[attr-defined]
                raise RecordsError(f"no card record {card_id} in {shown(self.engine.url)}")

    def ignore_undecided(self, conversation_id: str, before_seq: int | None = None, at: datetime | None = None) -> int:
        """Cards of the conversation's earlier messages (before ``before_seq``; None: all of them) that the rep
        never decided on become ``ignored``; how many."""
        at = at or now()
        waiting = select(Card).where(Card.conversation_id == conversation_id, Card.outcome.in_(sorted(LOOKS)))
        if before_seq is not None:
            waiting = waiting.where(Card.seq < before_seq)
        with self._sessions.writing() as session:
            cards = session.scalars(waiting).all()
            for card in cards:
                card.outcome = Outcome.IGNORED
                session.add(CardAction(card_id=card.id, action=Outcome.IGNORED, at=at))
            return len(cards)

    def purge(self, before: datetime) -> Purged:
        """Delete every record made before ``before``: cards, inserts, decisions, stale drafts, customer questions,
        wrap-ups and the leads' records about them (an open change request stays until an admin closes it: it is
        their work, and its evidence goes with it once closed and old)."""
        old_cards = select(Card.id).where(Card.shown_at < before)
        with self._sessions.writing() as session:
            session.execute(delete(CardAction).where(CardAction.card_id.in_(old_cards)))
            counts = [
                session.execute(statement).rowcount  # type: ignore[attr-defined]
                for statement in (
                    delete(Card).where(Card.shown_at < before),
                    delete(Insert).where(Insert.at < before),
                    delete(Decision).where(Decision.at < before),
                    delete(Draft).where(Draft.saved_at < before),
                    delete(Question).where(Question.at < before),
                    delete(Wrapup).where(Wrapup.at < before),
                )
            ]
            leads = sum(
                session.execute(statement).rowcount  # type: ignore[attr-defined]
                for statement in (
                    delete(Approval).where(Approval.at < before),
                    delete(Review).where(Review.at < before),
                    delete(Coaching).where(Coaching.at < before),
                    delete(ChangeRequest).where(ChangeRequest.state != RequestState.OPEN, ChangeRequest.at < before),
                )
            )
        cards, inserts, decisions, drafts, questions, wrapups = counts
        return Purged(cards, inserts, decisions, drafts, questions, wrapups, leads)

    # Reading

    def cards(self, which: CardFilter = CardFilter()) -> list[CardRecord]:
        """The cards that match, in the order they were shown."""
        query = (
            select(Card).where(*which.conditions()).options(selectinload(Card.actions)).order_by(Card.shown_at, Card.id)
        )
        with self._sessions.reading() as session:
            return [CardRecord.of(card) for card in session.scalars(query)]

    def outcomes(self, which: CardFilter = CardFilter()) -> dict[Outcome, int]:
        """How many of the matching cards ended in each outcome (acceptance rates, charts)."""
        query = select(Card.outcome, func.count()).where(*which.conditions()).group_by(Card.outcome)
        with self._sessions.reading() as session:
            return dict(session.execute(query).all())

    # What leads review (issue 16): the panel and wrap-up write these; the review window reads them

    def question_asked(
        self,
        conversation_id: str,
        seq: int,
        text: str,
        *,
        relevance: float | None,
        answered: bool,
        topic: str = "",
        names: tuple[str, ...] = (),
        at: datetime | None = None,
    ) -> None:
        """Record a customer message the advice was for, with the best clause's relevance and whether any
        clause passed the relevance floor: unanswered ones are knowledge gaps (``copilot/records/gaps.py``)."""
        with self._sessions.writing() as session:
            session.add(
                Question(
                    conversation_id=conversation_id,
                    seq=seq,
                    rep=self.rep,
                    at=at or now(),
                    text=self._private(text, names),
                    relevance=relevance,
                    answered=answered,
                    topic=topic,
                )
            )

    def wrapup_recorded(
        self,
        conversation_id: str,
        ending: Ending,
        root_causes: Sequence[str],
        summary: str,
        citations: Sequence[str] = (),
        *,
        names: tuple[str, ...] = (),
        at: datetime | None = None,
    ) -> None:
        """Record a conversation's wrap-up as the rep confirmed it (root causes are the pack taxonomy's ids)."""
        with self._sessions.writing() as session:
            session.add(
                Wrapup(
                    conversation_id=conversation_id,
                    rep=self.rep,
                    at=at or now(),
                    ending=ending,
                    root_causes=list(root_causes),
                    summary=self._private(summary, names),
                    citations=list(citations),
                )
            )

    def lead_approved(
        self,
        conversation_id: str,
        seq: int,
        action: str,
        lead: str,
        citations: Sequence[str] = (),
        *,
        names: tuple[str, ...] = (),
        at: datetime | None = None,
    ) -> None:
        """Record an action run with a lead's approval (``lead`` as their credential named them)."""
        with self._sessions.writing() as session:
            session.add(
                Approval(
                    conversation_id=conversation_id,
                    seq=seq,
                    rep=self.rep,
                    action=self._private(action, names),
                    citations=list(citations),
                    lead=lead,
                    at=at or now(),
                )
            )

    def coaching_for(self, rep: str | None = None) -> list[Coaching]:
        """The leads' notes ``rep`` (None: this desk's rep) has not seen yet, oldest first: the panel shows
        them at the start of the rep's next session and then calls ``coaching_seen``."""
        query = (
            select(Coaching)
            .where(Coaching.rep == (self.rep if rep is None else rep), Coaching.seen_at.is_(None))
            .order_by(Coaching.at, Coaching.id)
        )
        with self._sessions.reading() as session:
            return list(session.scalars(query))

    def coaching_seen(self, ids: Sequence[int], at: datetime | None = None) -> None:
        """The rep has read these notes: they are not shown again (leads still see them in the review)."""
        with self._sessions.writing() as session:
            session.execute(update(Coaching).where(Coaching.id.in_(list(ids))).values(seen_at=at or now()))
