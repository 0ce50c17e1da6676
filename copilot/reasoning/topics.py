"""The topics a customer raised in one conversation: a follow-up stays in its topic, a new request opens one.

Reading the intent message by message lost the thread: "will I get the money back right away?" after a
cancellation read as a refund-status question, "how long does that take" as order tracking, the last
"it's been a hard few weeks" of a bereavement as a late delivery. Here every customer message is read
against the topics already open:

- a message closest to its topic's playbooks (or to a sibling playbook of the same pack ``topic``: a late
  delivery that turns out lost) stays, and may sharpen the topic's intent;
- a message closest to an earlier topic, clearly more than to the current one, goes back to it;
- a message opens a new topic only when it asks for something else clearly: as clearly as an opening
  request (the pack's ``new_topic_floor``), or above the intent floor with a cue that something new
  follows ("also", "another thing", "außerdem", "aussi", "también") or an id the conversation had not
  named;
- anything else (a yes, a number, thanks, a question about what was just said) stays where it is.

The tracker only compares the playbook examples the intent classifier already embeds; it adds no model.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from copilot.conversation.state import Conversation, Turn
from copilot.reasoning.examples import ExampleIndex, Match
from copilot.reasoning.intent import Intent

UNKNOWN = "unknown"
MARGIN = 0.1
"""How much closer a message must be to another topic's playbooks than to its own topic's to leave it."""

_NEW_REQUEST = re.compile(
    r"\b(?:also|another|as well|too|besides|separately|by the way|btw|one more thing|something else"
    r"|while i have you|different question|other question"
    r"|auch|außerdem|ausserdem|noch etwas|noch eine|übrigens|zusätzlich|andere frage"
    r"|aussi|également|egalement|autre chose|autre question|par ailleurs|au fait|de plus"
    r"|también|tambien|además|ademas|otra cosa|otra pregunta|por cierto|aparte)\b",
    re.IGNORECASE,
)
"""Cues, in the languages packs are written in, that a customer is adding a request rather than following up."""


@dataclass(frozen=True)
class Topic:
    """One thing the customer asked for, and the messages about it."""

    number: int
    """1 for the first topic of the conversation, counting up as topics open."""
    intent: str
    """The playbook intent it is about; ``unknown`` until a message shows one above the floor."""
    group: str
    """The pack ``topic`` of that intent (playbooks that are one case, such as late and lost deliveries)."""
    opened: int
    """The customer message that opened it."""
    messages: tuple[int, ...]
    """The customer messages about it, in order."""
    confidence: float = 0.0
    """Similarity of the message the intent was read from to the intent's closest example."""
    read_from: int = -1
    """The customer message the intent was read from (-1 while unknown)."""
    example: str = ""
    title: str = ""
    """The intent's playbook title, for people ("Cancel an order")."""

    @property
    def known(self) -> bool:
        return self.intent != UNKNOWN


@dataclass(frozen=True)
class Topics:
    """The topics of a conversation up to one message, and which one the newest message is about."""

    topics: tuple[Topic, ...] = ()
    current: int = -1
    """Index of the topic the newest customer message belongs to (-1 before any customer message)."""
    change: str = ""
    """What the newest customer message did: ``opened`` a topic after the first, ``resumed`` an earlier one,
    or nothing (``""``)."""

    @property
    def topic(self) -> Topic | None:
        return self.topics[self.current] if self.current >= 0 else None

    @property
    def notice(self) -> str:
        """What the rep should be told about the newest message's topic ("" when it follows up)."""
        topic = self.topic
        if topic is None or not self.change:
            return ""
        if self.change == "resumed":
            return f"Back to an earlier topic: {topic.title}."
        others = "; ".join(t.title for t in self.topics if t is not topic and t.known)
        return f"New topic: {topic.title}." + (f" Still open: {others}." if others else "")

    @property
    def intent(self) -> Intent:
        """The current topic's intent, as the stages that read one intent expect it."""
        topic = self.topic
        if topic is None or not topic.known:
            return Intent(UNKNOWN, topic.confidence if topic else 0.0, -1)
        return Intent(topic.intent, topic.confidence, topic.read_from, topic.example)


@dataclass(frozen=True)
class Reading:
    """How the topics are told apart: the pack's playbooks and thresholds."""

    index: ExampleIndex
    vector: Callable[[str], np.ndarray]
    group_of: Mapping[str, str]
    """Playbook intent → its pack ``topic`` (the intent itself when the playbook names none)."""
    title_of: Mapping[str, str]
    """Playbook intent → its title."""
    floor: float
    """Below it a message shows no intent (the pack's ``intent_floor``)."""
    new_topic_floor: float
    """At or above it a message opens a topic of its own, cue or not."""
    id_patterns: Sequence[re.Pattern[str]] = ()
    """The pack's record ids: an id the conversation had not named is a new request's cue."""

    def group(self, intent: str) -> str:
        return self.group_of.get(intent, intent)


def track(conversation: Conversation, seq: int, reading: Reading) -> Topics:
    """The topics after message ``seq``, every customer message read against the topics before it."""
    topics: list[Topic] = []
    current = -1
    change = ""
    seen_ids: set[str] = set()
    for turn in conversation.turns_upto(seq):
        new_ids = _ids(turn.text, reading.id_patterns) - seen_ids
        seen_ids |= new_ids
        if turn.role != "customer":
            continue
        matches = reading.index.best(reading.vector(turn.text)) if reading.index else []
        cue = bool(_NEW_REQUEST.search(turn.text)) or bool(new_ids and topics)
        current, change = _place(topics, current, turn, matches, reading, cue)
    return Topics(tuple(topics), current, change)


def _place(
    topics: list[Topic], current: int, turn: Turn, matches: Sequence[Match], reading: Reading, cue: bool
) -> tuple[int, str]:
    """Put one customer message in a topic (changing ``topics`` in place); its index and what happened."""
    best = matches[0] if matches else None
    clear = best is not None and best.score >= reading.floor
    if current < 0:
        topics.append(_opened(1, turn, best if clear else None, reading))
        return 0, ""
    topic = topics[current]
    if best is None or not clear or not topic.known:
        topics[current] = _joined(topic, turn, best if clear else None, reading)
        return current, ""
    group = topic.group
    if reading.group(best.label) == group:
        topics[current] = _joined(topic, turn, best, reading)
        return current, ""
    own = max((m.score for m in matches if reading.group(m.label) == group), default=0.0)
    if best.score - own < MARGIN:
        topics[current] = _joined(topic, turn, None, reading)
        return current, ""
    earlier = next(
        (i for i in range(len(topics) - 1, -1, -1) if i != current and topics[i].group == reading.group(best.label)),
        None,
    )
    if earlier is not None:
        topics[earlier] = _joined(topics[earlier], turn, best, reading)
        return earlier, "resumed"
    if cue or best.score >= reading.new_topic_floor:
        topics.append(_opened(len(topics) + 1, turn, best, reading))
        return len(topics) - 1, "opened"
    topics[current] = _joined(topic, turn, None, reading)
    return current, ""


def _opened(number: int, turn: Turn, match: Match | None, reading: Reading) -> Topic:
    topic = Topic(number, UNKNOWN, UNKNOWN, turn.seq, (turn.seq,))
    return _read(topic, turn, match, reading) if match else topic


def _joined(topic: Topic, turn: Turn, match: Match | None, reading: Reading) -> Topic:
    """The topic with the message added; a clear match in its group (or its first clear one) sharpens the intent."""
    joined = replace(topic, messages=(*topic.messages, turn.seq))
    if match is None or (topic.known and reading.group(match.label) != topic.group):
        return joined
    return _read(joined, turn, match, reading)


def _read(topic: Topic, turn: Turn, match: Match, reading: Reading) -> Topic:
    return replace(
        topic,
        intent=match.label,
        group=reading.group(match.label),
        confidence=match.score,
        read_from=turn.seq,
        example=match.example,
        title=reading.title_of.get(match.label, match.label),
    )


def _ids(text: str, patterns: Sequence[re.Pattern[str]]) -> set[str]:
    """The record ids a text names, normalised so "AB 1234" and "ab-1234" are one id."""
    return {re.sub(r"[\W_]", "", m.group()).upper() for p in patterns for m in p.finditer(text)}
