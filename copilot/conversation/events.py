"""Conversation events and the JSONL reader that reports bad lines precisely and plays the rest.

The format is documented in docs/conversation-events.md. Unknown fields are kept in ``extra`` and
unknown event types become ``OtherEvent``: both are carried along but ignored by the pipeline.

The reader takes hostile files too: every line is read on its own and within the limits below, so a
line that is not UTF-8, too long, too deeply nested or holds a lone surrogate is skipped with an
error naming it, and the lines around it still play; nothing in a file makes the reader raise.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from base.errors import EventError, LineError
from base.jsonl import parse_jsonl

ROLES = ("customer", "rep", "system")
CONVERSATION_END = "conversation_end"
"""The type of the event a helpdesk sends when a conversation ends (``{"type": "conversation_end",
"conversation_id": ...}``): kept as an ``OtherEvent``; it is when the wrap-up is made (copilot/wrapup.py)."""

# Limits. Module constants for now; when admins may set them they belong in settings.json
# (copilot/settings.py), handed to read_events and Conversation by whoever opens the file.
MAX_LINE_BYTES = 1_000_000
"""Longest event line read, in bytes of UTF-8 (without its newline). A longer line is skipped with an
error without being held in memory whole; one megabyte holds a message of about a million characters."""
MAX_NESTING = 64
"""Deepest nesting of JSON arrays and objects in one line. A deeper line is skipped with an error before
it is parsed (the json module recurses, so a 10,000-deep line would end in a RecursionError). Events are
two levels deep; tool arguments and results a few more."""
MAX_ANALYSED_CHARS = 4_000
"""Characters of one message that analysis reads: about 700 words, more than nearly any message a customer
writes (a longer email is mostly quoted history). A longer message is kept whole, analysed on its first
MAX_ANALYSED_CHARS characters, and its turn says so (``Turn.truncated_from``, ``Turn.notice`` in
copilot/conversation/state.py). Analysis time grows faster than the text today (on a shared 2026 dev
machine about 1-2 s at 4,000 characters, 5-10 s at 10,000, mostly escalation), so raise it with care."""


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
            raise self.fail(name, f"'{_shown(raw)}' is not an ISO 8601 time such as 2026-11-20T10:00:05Z") from None

    def mapping(self, name: str) -> dict[str, Any]:
        self.used.add(name)
        value = self._data.get(name, {})
        if not isinstance(value, dict):
            raise self.fail(name, f"must be an object, got {type(value).__name__}")
        return value

    def extra(self) -> dict[str, Any]:
        return {k: v for k, v in self._data.items() if k not in self.used}


_SURROGATE = re.compile("[\ud800-\udfff]")
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def _surrogate_at(data: dict[str, Any]) -> str | None:
    """The top-level field with a lone surrogate (``"\\ud800"``) in a key or a string, if any.

    json decodes such an escape into a string that cannot be written as UTF-8 (nor embedded, nor shown).
    Walked with a stack, not recursion, so no nesting makes it fail; ``"line"`` when the field's own name
    holds one (an error must not quote it).
    """
    for name, value in data.items():
        stack: list[object] = [name, value]
        while stack:
            item = stack.pop()
            if isinstance(item, str):
                if _SURROGATE.search(item):
                    return "line" if _SURROGATE.search(name) else _shown(name)
            elif isinstance(item, dict):
                stack.extend(item.keys())
                stack.extend(item.values())
            elif isinstance(item, list):
                stack.extend(item)
    return None


def _shown(value: str) -> str:
    """A value from the file as an error quotes it: its first 40 characters, control characters escaped,
    so a hostile value can neither flood the message nor drive the terminal it is printed on."""
    cut = value if len(value) <= 40 else f"{value[:40]}…"
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", cut)


def parse_event(data: object, source: str = "<event>", line: int = 1) -> Event:
    """Turn one decoded JSON value into an event, or raise EventError naming the bad field."""
    if not isinstance(data, dict):
        raise EventError(source, line, "line", "must be a JSON object")
    if (where := _surrogate_at(data)) is not None:
        raise EventError(
            source,
            line,
            where,
            "holds a lone surrogate (an escape such as \\ud800, half of a character that no text can hold); "
            "the program that wrote the file split a character: export it again",
        )
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
            raise f.fail("role", f"'{_shown(role)}' is not one of {', '.join(ROLES)}")
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


def event_record(event: Event) -> dict[str, Any]:
    """The JSON object ``parse_event`` reads back as ``event`` (docs/conversation-events.md)."""
    if isinstance(event, OtherEvent):
        return dict(event.data)
    if isinstance(event, ConversationStarted):
        record: dict[str, Any] = {
            **event.extra,
            "type": "conversation",
            "id": event.id,
            "channel": event.channel,
            "customer": {"name": event.customer_name},
            "jurisdiction": event.jurisdiction,
            "title": event.title,
        }
        if event.started_at is not None:
            record["started_at"] = event.started_at.isoformat()
        return record
    common = {**event.extra, "conversation_id": event.conversation_id, "seq": event.seq}
    if isinstance(event, Message):
        record = {**common, "type": "message", "role": event.role, "text": event.text}
        if event.ts is not None:
            record["ts"] = event.ts.isoformat()
        return record
    if isinstance(event, ToolCall):
        return {**common, "type": "tool_call", "name": event.name, "arguments": event.arguments}
    return {**common, "type": "tool_result", "name": event.name, "content": event.content}


_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
"""A JSON string literal (unrolled, so matching is linear in its length)."""
_BRACKET = re.compile(r"[\[\]{}]")


def _structure_problem(line: str) -> str | None:
    """Why json must not parse ``line`` (nested too deep, a number Python will not convert), or None.

    Checked on the text outside string literals, in one pass without recursion; a line with fewer
    brackets than the limit and no room for a long number (most lines) is not scanned at all.
    """
    digits = sys.get_int_max_str_digits()
    deep = line.count("[") + line.count("{") > MAX_NESTING
    if not deep and not (digits and len(line) > digits):
        return None
    outside = _STRING.sub('""', line)
    if deep:
        depth = 0
        for bracket in _BRACKET.findall(outside):
            depth += 1 if bracket in "[{" else -1
            if depth > MAX_NESTING:
                return f"is nested deeper than {MAX_NESTING} levels of arrays and objects; flatten it"
    if digits and re.search(f"[0-9]{{{digits + 1}}}", outside):
        return f"has a number of more than {digits} digits; write it as a string"
    return None


def _too_long(size: int) -> str:
    return f"is {size:,} bytes long, over the limit of {MAX_LINE_BYTES:,}; split it into several events"


def _checked(lines: Iterable[str | EventError], source: str, report: Callable[[EventError], None]) -> Iterator[str]:
    """``lines`` as json may parse them: a line it must not parse is reported and passed on blank."""
    for number, line in enumerate(lines, start=1):
        if isinstance(line, EventError):
            problem = line
        # A character is at most 4 bytes of UTF-8: a shorter line needs no encoding to be measured.
        elif len(line) * 4 > MAX_LINE_BYTES and (size := len(line.encode("utf-8", "surrogatepass"))) > MAX_LINE_BYTES:
            problem = EventError(source, number, "line", _too_long(size))
        elif reason := _structure_problem(line):
            problem = EventError(source, number, "line", reason)
        else:
            yield line
            continue
        report(problem)
        yield ""


def parse_lines(lines: Iterable[str | EventError], source: str) -> EventLog:
    """Parse JSONL text; a bad line becomes an error and the lines after it still play.

    ``lines`` holds each line's text, or the error met reading it (``read_events``: not UTF-8, too long).
    One file holds one conversation: its header (if any) comes first, every event names its id, and
    a second header is an error, not the start of another conversation. A source without a single
    event or error is an error too, so an empty file never passes for a conversation.
    """
    events: list[Event] = []
    errors: list[EventError] = []
    header_line = 0
    conversation = ""
    last_seq: int | None = None

    def skipped(error: LineError) -> None:
        errors.append(EventError(error.file, error.line, error.field, error.problem))

    for line in parse_jsonl(_checked(lines, source, errors.append), source, skipped):
        try:
            event = parse_event(line.value, source, line.number)
        except EventError as exc:
            errors.append(exc)
            continue
        problem: LineError | None = None
        if isinstance(event, ConversationStarted):
            if header_line:
                problem = line.error(
                    f"is a second conversation header (the first is on line {header_line}); a file holds one "
                    "conversation: put this header and its events in a file of their own"
                )
            elif conversation:
                problem = line.error(
                    f"is the conversation header, after events of '{_shown(conversation)}'; "
                    "move it to the top of the file"
                )
            else:
                header_line, conversation = line.number, event.id
        elif isinstance(event, (Message, ToolCall, ToolResult)):
            if conversation and event.conversation_id != conversation:
                problem = line.error(
                    f"'{_shown(event.conversation_id)}' is not this file's conversation '{_shown(conversation)}'; "
                    "a file holds one conversation: put its events in a file of their own",
                    "conversation_id",
                )
            elif last_seq is not None and event.seq <= last_seq:
                problem = line.error(f"{event.seq} does not come after {last_seq}; events must be in seq order", "seq")
            else:
                conversation, last_seq = event.conversation_id, event.seq
        if problem is None:
            events.append(event)
        else:
            skipped(problem)
    if not events and not errors:
        errors.append(
            EventError(
                source,
                1,
                "file",
                "has no events (it is empty); a conversation file holds one JSON event per line, starting "
                'with its header {"type":"conversation","id":...} (see docs/conversation-events.md)',
            )
        )
    return EventLog(events, errors)


def _file_lines(file: IO[bytes], source: str) -> Iterator[str | EventError]:
    """The lines of ``file`` as text, or the error of a line too long or not UTF-8.

    A line is never held beyond MAX_LINE_BYTES (the rest of a longer one is only counted), and lines end
    at ``\\n`` only: a JSON string may hold U+2028, which ``str.splitlines`` would split at.
    """
    number = 0
    while line := file.readline(MAX_LINE_BYTES + 1):  # room for a line at the limit and its newline
        number += 1
        size = len(line.removesuffix(b"\n"))
        tail = line
        while not tail.endswith(b"\n") and (tail := file.readline(MAX_LINE_BYTES)):
            size += len(tail.removesuffix(b"\n"))
        if size > MAX_LINE_BYTES:
            yield EventError(source, number, "line", _too_long(size))
            continue
        content = line.removesuffix(b"\n")
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield EventError(
                source,
                number,
                "line",
                f"is not UTF-8 text (byte 0x{content[exc.start]:02x} at byte {exc.start + 1}); save the file as UTF-8",
            )
            continue
        yield text.removeprefix("\ufeff") if number == 1 else text  # a byte order mark some editors write


def read_events(path: Path) -> EventLog:
    """Read a JSONL event file line by line; a file that cannot be opened is one error on line 0."""
    try:
        with path.open("rb") as file:
            return parse_lines(_file_lines(file, str(path)), str(path))
    except OSError as exc:
        return EventLog([], [EventError(str(path), 0, "file", f"cannot be read: {exc}")])
