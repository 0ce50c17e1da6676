"""What a lead reviews: the conversations that match a filter, one conversation as a timeline, and the numbers
the review window charts. Plain SQL that PostgreSQL and SQLite both run (JSON lists are matched as text,
percentiles are taken in Python), so a team database and a desk's file answer the same."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from statistics import median
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, String, cast, exists, select
from sqlalchemy.orm import InstrumentedAttribute, aliased, selectinload

from copilot.records.models import Card, Ending, Kind, Outcome, Question, Wrapup
from copilot.records.store import CardFilter, CardRecord, Records

ACCEPTED = frozenset({Outcome.INSERTED, Outcome.SENT, Outcome.EDITED})
"""A suggestion or draft the rep used (as shown or after editing)."""
ADVICE = frozenset({Kind.SUGGESTION, Kind.DRAFT})
"""The cards whose words a rep may send: what acceptance and edit distance are about."""
EDIT_BUCKETS = (0.0, 0.1, 0.25, 0.5, 0.75, 1.0)
"""Edges of the edit-ratio histogram (sent as shown .. every word rewritten)."""


def _listed(column: InstrumentedAttribute[list[Any]], value: str) -> ColumnElement[bool]:
    """A JSON list column holds ``value``: matched on its text (``"value"`` with quotes), which both backends
    keep as SQLAlchemy wrote it; LIKE wildcards in the value are escaped."""
    return cast(column, String).contains(f'"{value}"', autoescape=True)


@dataclass(frozen=True)
class ConversationFilter:
    """Which conversations a lead looks at; empty fields do not filter."""

    rep: str | None = None
    since: datetime | None = None
    """A card shown at or after."""
    until: datetime | None = None
    """A card shown before."""
    ending: Ending | None = None
    """The wrap-up's outcome (resolved, escalated, ...)."""
    flag: str | None = None
    """A flag card with this rule id."""
    escalation: str | None = None
    """An escalation card with this category (the reason to escalate)."""
    root_cause: str | None = None
    """A wrap-up root cause (the pack taxonomy's id)."""
    pack: str | None = None
    """A card shown under this pack version (``name@version``)."""

    def conversations(self) -> Select[str]:
        """The ids of the matching conversations."""
        query = select(Card.conversation_id).distinct()
        if self.rep is not None:
            query = query.where(Card.rep == self.rep)
        if self.since is not None:
            query = query.where(Card.shown_at >= self.since)
        if self.until is not None:
            query = query.where(Card.shown_at < self.until)
        if self.pack is not None:
            query = query.where(_listed(Card.packs, self.pack))
        for kind, key in ((Kind.FLAG, self.flag), (Kind.ESCALATION, self.escalation)):
            if key is not None:
                other = aliased(Card)
                query = query.where(
                    exists().where(other.conversation_id == Card.conversation_id, other.kind == kind, other.key == key)
                )
        if self.ending is not None:
            query = query.where(
                exists().where(Wrapup.conversation_id == Card.conversation_id, Wrapup.ending == self.ending)
            )
        if self.root_cause is not None:
            query = query.where(
                exists().where(
                    Wrapup.conversation_id == Card.conversation_id, _listed(Wrapup.root_causes, self.root_cause)
                )
            )
        return query


@dataclass(frozen=True)
class ConversationRow:
    """One conversation in the review's list."""

    conversation_id: str
    reps: tuple[str, ...]
    started: datetime
    """When its first card was shown."""
    messages: int
    """Messages the copilot advised on."""
    cards: int
    accepted: int
    """Suggestions and drafts the rep used."""
    advice: int
    """Suggestions and drafts shown."""
    flags: tuple[str, ...]
    escalations: tuple[str, ...]
    ending: Ending | None
    root_causes: tuple[str, ...]


def cards_in(records: Records, which: ConversationFilter) -> list[CardRecord]:
    """Every card of the matching conversations, in the order shown (what the charts and exports read)."""
    query = (
        select(Card)
        .where(Card.conversation_id.in_(which.conversations()))
        .options(selectinload(Card.actions))
        .order_by(Card.shown_at, Card.id)
    )
    with records.sessions.reading() as session:
        return [CardRecord.of(card) for card in session.scalars(query)]


def wrapups_of(records: Records, conversations: Iterable[str]) -> dict[str, Wrapup]:
    """Each conversation's newest wrap-up."""
    ids = sorted(set(conversations))
    query = select(Wrapup).where(Wrapup.conversation_id.in_(ids)).order_by(Wrapup.at, Wrapup.id)
    with records.sessions.reading() as session:
        return {wrapup.conversation_id: wrapup for wrapup in session.scalars(query)}


def conversations(records: Records, which: ConversationFilter = ConversationFilter()) -> list[ConversationRow]:
    """The matching conversations, newest first."""
    by_conversation: dict[str, list[CardRecord]] = defaultdict(list)
    for card in cards_in(records, which):
        by_conversation[card.conversation_id].append(card)
    wrapups = wrapups_of(records, by_conversation)
    rows = []
    for conversation_id, cards in by_conversation.items():
        advice = [c for c in cards if c.kind in ADVICE]
        wrapup = wrapups.get(conversation_id)
        rows.append(
            ConversationRow(
                conversation_id,
                tuple(sorted({c.rep for c in cards})),
                min(c.shown_at for c in cards),
                len({c.seq for c in cards}),
                len(cards),
                sum(c.outcome in ACCEPTED for c in advice),
                len(advice),
                tuple(sorted({c.key for c in cards if c.kind is Kind.FLAG})),
                tuple(sorted({c.key for c in cards if c.kind is Kind.ESCALATION})),
                None if wrapup is None else wrapup.ending,
                () if wrapup is None else tuple(wrapup.root_causes),
            )
        )
    return sorted(rows, key=lambda row: (row.started, row.conversation_id), reverse=True)


@dataclass(frozen=True)
class Step:
    """One message of a conversation in the timeline: what the customer asked, the cards the rep was shown,
    and what the rep sent."""

    seq: int
    question: str
    """The customer's words, where the records kept them ('' if not)."""
    cards: tuple[CardRecord, ...]
    sent: str
    """What the rep sent after this message (the draft or suggestion they used, as sent; '' if nothing)."""


def timeline(records: Records, conversation_id: str) -> list[Step]:
    """The conversation message by message, each card beside what the rep actually sent."""
    cards = records.cards(CardFilter(conversation_id=conversation_id))
    with records.sessions.reading() as session:
        found = session.execute(select(Question.seq, Question.text).where(Question.conversation_id == conversation_id))
        questions = dict(found.all())
    by_seq: dict[int, list[CardRecord]] = defaultdict(list)
    for card in cards:
        by_seq[card.seq].append(card)
    steps = []
    for seq in sorted(set(by_seq) | set(questions)):
        shown = by_seq.get(seq, [])
        used = [c for c in shown if c.kind in ADVICE and c.outcome in (Outcome.SENT, Outcome.EDITED)]
        used += [c for c in shown if c.kind in ADVICE and c.outcome is Outcome.INSERTED]
        steps.append(Step(seq, questions.get(seq, ""), tuple(shown), used[0].sent_text or "" if used else ""))
    return steps


@dataclass(frozen=True)
class Charts:
    """The numbers the review window draws, for one filtered view."""

    acceptance_by_day: dict[date, dict[Kind, float]] = field(default_factory=dict)
    """Share of the suggestions / drafts shown that day that the rep used."""
    acceptance_by_rep: dict[str, dict[Kind, float]] = field(default_factory=dict)
    edit_ratios: tuple[int, ...] = ()
    """How many used cards fall in each ``EDIT_BUCKETS`` interval of edit ratio (sent vs suggested)."""
    flags_by_rule: dict[str, int] = field(default_factory=dict)
    escalations_by_reason: dict[str, int] = field(default_factory=dict)
    root_causes: dict[str, int] = field(default_factory=dict)
    """The most frequent root causes, most first."""
    decision_ms_by_rep: dict[str, float] = field(default_factory=dict)
    """Median time from shown to the rep's decision."""
    latency_p95_by_day: dict[date, float] = field(default_factory=dict)
    """The 95th percentile of the advice's latency per message, as the reps waited for it."""


def _rates(cards: Sequence[CardRecord]) -> dict[Kind, float]:
    shown = Counter(c.kind for c in cards if c.kind in ADVICE)
    used = Counter(c.kind for c in cards if c.kind in ADVICE and c.outcome in ACCEPTED)
    return {kind: used[kind] / shown[kind] for kind in sorted(shown)}


def charts(records: Records, which: ConversationFilter = ConversationFilter(), top: int = 10) -> Charts:
    """The review's chart numbers for the conversations ``which`` matches."""
    cards = cards_in(records, which)
    by_day: dict[date, list[CardRecord]] = defaultdict(list)
    by_rep: dict[str, list[CardRecord]] = defaultdict(list)
    for card in cards:
        by_day[card.shown_at.date()].append(card)
        by_rep[card.rep].append(card)
    ratios = [c.edit_ratio for c in cards if c.kind in ADVICE and c.outcome in ACCEPTED and c.edit_ratio is not None]
    histogram, _ = np.histogram(ratios, bins=EDIT_BUCKETS)
    latencies: dict[date, dict[tuple[str, int], float]] = defaultdict(dict)
    for card in cards:
        if card.latency_ms is not None:  # every card of a message carries the message's latency: count it once
            latencies[card.shown_at.date()][card.conversation_id, card.seq] = card.latency_ms
    causes = Counter(
        cause for w in wrapups_of(records, {c.conversation_id for c in cards}).values() for cause in w.root_causes
    )
    return Charts(
        {day: _rates(day_cards) for day, day_cards in sorted(by_day.items())},
        {rep: _rates(rep_cards) for rep, rep_cards in sorted(by_rep.items())},
        tuple(int(n) for n in histogram),
        dict(Counter(c.key for c in cards if c.kind is Kind.FLAG).most_common()),
        dict(Counter(c.key for c in cards if c.kind is Kind.ESCALATION).most_common()),
        dict(causes.most_common(top)),
        {
            rep: float(median(times))
            for rep, rep_cards in sorted(by_rep.items())
            if (times := [c.decision_ms for c in rep_cards if c.decision_ms is not None])
        },
        {day: float(np.percentile(list(values.values()), 95)) for day, values in sorted(latencies.items())},
    )


def choices(records: Records) -> dict[str, list[str]]:
    """What each filter can be set to: the reps, flag rules, escalation reasons, root causes and pack
    versions the records hold."""
    with records.sessions.reading() as session:
        keys = session.execute(
            select(Card.kind, Card.key).where(Card.kind.in_([Kind.FLAG, Kind.ESCALATION])).distinct()
        )
        found: dict[str, set[str]] = {"flag": set(), "escalation": set()}
        for kind, key in keys:
            found[kind.value].add(key)
        reps = session.scalars(select(Card.rep).distinct()).all()
        packs = {p for listed in session.scalars(select(Card.packs)) for p in listed}
        causes = {c for listed in session.scalars(select(Wrapup.root_causes)) for c in listed}
    return {
        "rep": sorted(reps),
        "flag": sorted(found["flag"]),
        "escalation": sorted(found["escalation"]),
        "root_cause": sorted(causes),
        "pack": sorted(packs),
        "ending": [e.value for e in Ending],
    }
