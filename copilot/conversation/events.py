"""Conversation events and the JSONL reader that reports bad lines precisely and plays the rest.

The format is documented in docs/conversation-events.md. Unknown fields are kept in ``extra`` and
unknown event types become ``OtherEvent``: both are carried along but ignored by the pipeline.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from base.errors import EventError, LineError
from base.jsonl import parse_jsonl

ROLES = ("customer", "rep", "system")


@dataclass(frozen=True)
class Header:
    """Who, where and when: what opens a conversation, and what its state keeps of that."""

    id: str
    channel: str = "chat"
    customer_name: str = ""
    """Display name of the customer, empty when unknown."""
    jurisdiction: str = ""
    """Region code such as ``US-CA``, ``UK`` or ``EU-DE``; empty when unknown."""
    started_at: datetime | None = None
    title: str = ""
    """Short human description of the scenario (demo files carry one)."""


@dataclass(frozen=True)
class ConversationStarted(Header):
    """Opens a conversation: who, where and when."""

    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    """One message of the customer, the rep or the system."""

    conversation_id: str
    seq: int
    role: str
    text: str
    ts: datetime | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolCall:
    """A call the rep's systems made (recorded, not executed by us)."""

    conversation_id: str
    seq: int
    name: str
    arguments: dict[str, Any]
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ToolResult:
    """What a recorded tool call returned, as text."""

    conversation_id: str
    seq: int
    name: str
    content: str
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class OtherEvent:
    """An event type this version does not know; kept so nothing is lost, otherwise ignored."""

    type: str
    data: dict[str, Any]


Event = ConversationStarted | Message | ToolCall | ToolResult | OtherEvent


@dataclass(frozen=True)
class EventLog:
    """Everything read from one event file: the good events in order and one error per bad line."""

    events: list[Event]
    errors: list[EventError]


class _Fields:
    """Typed access to one event's fields that raises EventError naming the field."""

    def __init__(self, data: dict[str, Any], source: str, line: int) -> None:
        self._data = data
        self._source = source
        self._line = line
        self.used: set[str] = {"type"}

    def fail(self, name: str, problem: str) -> EventError:
        return EventError(self._source, self._line, name, problem)

    def text(self, name: str, *, required: bool = True, default: str = "") -> str:
        self.used.add(name)
        value = self._data.get(name)
        if value is None:
            if required:
                raise self.fail(name, "is missing; add it as a string")
            return default
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, got {type(value).__name__}")
        if required and not value.strip():
            raise self.fail(name, "is empty")
        return value

    def seq(self) -> int:
        self.used.add("seq")
        value = self._data.get("seq")
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail("seq", "must be a whole number (the event's position in the conversation)")
        if value < 0:
            raise self.fail("seq", "must not be negative")
        return value

    def time(self, name: str) -> datetime | None:
        raw = self.text(name, required=False)
        if not raw:
            return None
        try:
            return datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            raise self.fail(name, f"'{raw}' is not an ISO 8601 time such as 2026-11-20T10:00:05Z") from None

    def mapping(self, name: str) -> dict[str, Any]:
        self.used.add(name)
        value = self._data.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"must be an object, got {type(value).__name__}")
        return value

    def extra(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k not in self.used}


def parse_event(data: object, source: str = "<event>", line: int = 1) -> Event:
    """Turn one decoded JSON value into an event, or raise EventError naming the bad field."""
    if not isinstance(data, dict):
        raise EventError(source, line, "line", "must be a JSON object")
    f = _Fields(data, source, line)
    kind = f.text("type")
    if kind == "conversation":
        customer = f.mapping("customer")
        name = customer.get("name", "")
        if not isinstance(name, str):
            raise f.fail("customer.name", "must be a string")
        return ConversationStarted(
            id=f.text("id"),
            channel=f.text("channel", required=False, default="chat"),
            customer_name=name,
            jurisdiction=f.text("jurisdiction", required=False),
            started_at=f.time("started_at"),
            title=f.text("title", required=False),
            extra=f.extra(),
        )
    if kind == "message":
        conversation_id, seq = f.text("conversation_id"), f.seq()
        role = f.text("role")
        if role not in ROLES:
            raise f.fail("role", f"'{role}' is not one of {', '.join(ROLES)}")
        text = f.text("text", required=False)
        return Message(conversation_id, seq, role, text, f.time("ts"), f.extra())
    if kind == "tool_call":
        return ToolCall(f.text("conversation_id"), f.seq(), f.text("name"), f.mapping("arguments"), f.extra())
    if kind == "tool_result":
        conversation_id, seq, name = f.text("conversation_id"), f.seq(), f.text("name")
        f.used.add("content")
        content = data.get("content", "")
        return ToolResult(
            conversation_id, seq, name, content if isinstance(content, str) else json.dumps(content), f.extra()
        )
    return OtherEvent(kind, dict(data))


def parse_lines(lines: list[str], source: str) -> EventLog:
    """Parse JSONL text; a bad line becomes an error and the lines after it still play."""
    events: list[Event] = []
    errors: list[EventError] = []
    last_seq: dict[str, int] = {}

    def skipped(error: LineError) -> None:
        errors.append(EventError(error.file, error.line, error.field, error.problem))

    for line in parse_jsonl(lines, source, skipped):
        try:
            event = parse_event(line.value, source, line.number)
        except EventError as exc:
            errors.append(exc)
            continue
        if isinstance(event, (Message, ToolCall, ToolResult)):
            previous = last_seq.get(event.conversation_id)
            if previous is not None and event.seq <= previous:
                errors.append(
                    EventError(
                        source,
                        line.number,
                        "seq",
                        f"{event.seq} does not come after {previous}; events must be in seq order",
                    )
                )
                continue
            last_seq[event.conversation_id] = event.seq
        events.append(event)
    return EventLog(events, errors)


def read_events(path: Path) -> EventLog:
    """Read a JSONL event file; an unreadable file is reported as one error on line 0."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return EventLog([], [EventError(str(path), 0, "file", f"cannot be read: {exc}")])
    return parse_lines(text.splitlines(), str(path))
