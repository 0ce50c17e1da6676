"""What QA reads of a finished conversation, whichever source it comes from: the steps in order (messages,
tool calls and results, flags and escalations), its region, its day and the cases it was about.

An event file (docs/conversation-events.md) has every message and call but no flag or escalation: those
are found with the pack's own rule and category words (``detect``). The records (docs/records.md) have the
flags and escalations the panel showed and what the rep sent, but neither the customer's words nor the
calls nor the region: checks that need those do not apply to them (``Transcript.has``).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import Any, Literal

from copilot.conversation.events import (
    ConversationStarted,
    Message,
    ToolCall,
    ToolResult,
    read_events,
)
from copilot.qa.policy import QaPolicy
from copilot.reasoning.rules import disclosed, identity_verified
from copilot.reasoning.signals import fold

StepKind = Literal["customer", "rep", "call", "result", "flag", "escalation"]


@dataclass(frozen=True, slots=True)
class Step:
    """One thing that happened in a conversation."""

    seq: int
    kind: StepKind
    name: str = ""
    """The tool of a call or result, the rule of a flag, the category of an escalation."""
    text: str = ""
    """A message's words, a result's content, a call's arguments (JSON), a flag's message or its evidence."""
    citations: tuple[str, ...] = ()
    """The clauses a sent message cited (records: its card's)."""
    outcome: str = ""
    """What the rep did with a flag or escalation card (records), '' when not recorded or not decided."""
    severity: str = ""
    """A flag's severity ('' when the source does not record it: the records)."""
    folded: str = ""
    """A message's words as the pack's patterns read them (``folded``), worked out once."""


def folded(text: str) -> str:
    """``fold(text)``, at the speed of ``str.lower`` for ASCII text (most messages), which it equals there."""
    return text.lower() if text.isascii() else fold(text)


def message(seq: int, kind: StepKind, text: str, citations: tuple[str, ...] = ()) -> Step:
    """A customer or rep message as a step, folded once for every check that reads it."""
    return Step(seq, kind, text=text, citations=citations, folded=folded(text))


@dataclass(frozen=True)
class Transcript:
    """A finished conversation as QA reads it."""

    id: str
    steps: tuple[Step, ...]
    jurisdiction: str | None
    """The region; None when the source does not record it (the records)."""
    day: date | None
    intents: tuple[str, ...] = ()
    """The cases the conversation was about (records: the cards' topics)."""
    source: Literal["events", "records"] = "events"

    def has(self, kind: StepKind) -> bool:
        """Whether this source records steps of ``kind`` at all (not whether this conversation has one)."""
        return self.source == "events" or kind in ("rep", "flag", "escalation")

    def of(self, *kinds: StepKind) -> Iterator[Step]:
        return (s for s in self.steps if s.kind in kinds)


def from_events(path: Path) -> Transcript:
    """The transcript of one event file (lines that cannot be read are left out, as replay leaves them)."""
    log = read_events(path)
    steps: list[Step] = []
    jurisdiction = ""
    day: date | None = None
    conversation = path.stem
    for event in log.events:
        if isinstance(event, ConversationStarted):
            conversation, jurisdiction = event.id, event.jurisdiction
            day = event.started_at.date() if event.started_at else None
        elif isinstance(event, Message):
            conversation = event.conversation_id
            if day is None and event.ts is not None:
                day = event.ts.date()
            if event.role in ("customer", "rep"):
                steps.append(message(event.seq, "customer" if event.role == "customer" else "rep", event.text))
        elif isinstance(event, ToolCall):
            steps.append(Step(event.seq, "call", event.name, json.dumps(event.arguments)))
        elif isinstance(event, ToolResult):
            steps.append(Step(event.seq, "result", event.name, event.content))
    return Transcript(conversation, tuple(steps), jurisdiction, day)


def detect(transcript: Transcript, policy: QaPolicy) -> Transcript:
    """``transcript`` with the flags of the pack's rules on rep messages and the escalations of its categories'
    words on customer messages, found in one pass with the pack's precompiled patterns (no model)."""
    if transcript.source != "events":
        return transcript
    steps: list[Step] = []
    said: list[str] = []
    raised: set[str] = set()
    for step in transcript.steps:
        steps.append(step)
        if step.kind == "rep":
            steps.extend(
                Step(step.seq, "flag", rule.id, step.text[match.start() : match.end()], severity=rule.severity)
                for rule in policy.rules
                if (match := rule.pattern.search(step.folded)) and not _holds(rule.unless, said, policy)
            )
            said.append(step.text)
        elif step.kind == "customer":
            for category, pattern in policy.categories:
                if category not in raised and (match := pattern.search(step.folded)):
                    raised.add(category)
                    steps.append(Step(step.seq, "escalation", category, step.text[match.start() : match.end()]))
    return replace(transcript, steps=tuple(steps))


def _holds(conditions: tuple[str, ...], rep_texts: list[str], policy: QaPolicy) -> bool:
    """Whether one of a rule's ``unless`` conditions holds in the rep's earlier messages."""
    return any(
        identity_verified(rep_texts)
        if condition == "identity_verified"
        else disclosed(rep_texts, policy.disclosure_lines)
        for condition in conditions
    )


CARD_COLUMNS = (
    "conversation_id",
    "seq",
    "kind",
    "key",
    "text",
    "citations",
    "outcome",
    "sent_text",
    "topic",
    "shown_at",
)
"""The columns of the records' ``cards`` table (docs/records.md) a recorded transcript is made from, in the order
``from_card_rows`` reads them."""
SENT = frozenset({"sent", "edited"})
"""A draft or suggestion card in one of these outcomes is what the rep sent."""
LOOKS = frozenset({"displayed", "expanded", "copied"})
"""Outcomes that are no decision of the rep's (the records' ``LOOKS``)."""


def from_card_rows(rows: Iterable[Sequence[Any]]) -> Iterator[Transcript]:
    """Each recorded conversation's transcript from its card rows (CARD_COLUMNS), ordered by conversation and
    seq: one pass that holds one conversation at a time, so QA over 100,000 of them keeps memory flat. The
    records are read by whoever opened them (cli/qa.py), so QA itself needs no database."""
    current: Any = None
    rows_of: list[Sequence[Any]] = []
    for row in rows:
        if row[0] != current and rows_of:
            yield _recorded(rows_of)
            rows_of = []
        current = row[0]
        rows_of.append(row)
    if rows_of:
        yield _recorded(rows_of)


def _recorded(rows: list[Sequence[Any]]) -> Transcript:
    """One conversation's cards as a transcript: what the rep sent, the flags and the escalations shown."""
    steps: list[Step] = []
    sent_at: set[int] = set()
    intents: dict[str, None] = {}
    for _, seq, kind, key, text, citations, outcome, sent_text, topic, _ in rows:
        if topic and topic != "unknown":
            intents[str(topic)] = None
        decided = "" if outcome in LOOKS else str(outcome)
        if kind in ("draft", "suggestion") and outcome in SENT and sent_text and seq not in sent_at:
            sent_at.add(seq)
            steps.append(message(seq, "rep", str(sent_text), tuple(citations or ())))
        elif kind == "flag":
            steps.append(Step(seq, "flag", str(key), str(text), outcome=decided))
        elif kind == "escalation":
            steps.append(Step(seq, "escalation", str(key), str(text), outcome=decided))
    first = min(row[9] for row in rows)
    return Transcript(str(rows[0][0]), tuple(steps), None, first.date(), tuple(intents), "records")
