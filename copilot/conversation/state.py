"""Conversation state: an immutable value, so a snapshot handed to the pipeline never changes under it."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from copilot.conversation.events import (
    MAX_ANALYSED_CHARS,
    ConversationStarted,
    Event,
    Header,
    Message,
    ToolCall,
    ToolResult,
)


@dataclass(frozen=True)
class Turn:
    """One message as the conversation holds it."""

    seq: int
    role: str
    text: str
    """What analysis reads: the message, or its first MAX_ANALYSED_CHARS characters when it is longer."""
    ts: datetime | None = None
    full_text: str | None = None
    """The whole message when ``text`` is only its start; None when ``text`` is all of it."""

    @classmethod
    def of(cls, message: Message) -> Turn:
        """The turn of ``message``, its text cut to MAX_ANALYSED_CHARS for analysis, the whole kept."""
        if len(message.text) <= MAX_ANALYSED_CHARS:
            return cls(message.seq, message.role, message.text, message.ts)
        return cls(message.seq, message.role, message.text[:MAX_ANALYSED_CHARS], message.ts, message.text)

    @property
    def truncated_from(self) -> int | None:
        """The message's length in characters when analysis reads only its start; None otherwise."""
        return None if self.full_text is None else len(self.full_text)

    @property
    def notice(self) -> str:
        """What the rep should know about how this message was analysed; empty when it was read whole."""
        if self.full_text is None:
            return ""
        return (
            f"Message #{self.seq} is {len(self.full_text):,} characters long: only its first "
            f"{len(self.text):,} were analysed, so read the rest yourself."
        )


@dataclass(frozen=True)
class ToolEvent:
    """A recorded tool call or result from the rep's systems."""

    seq: int
    kind: str
    """``"call"`` or ``"result"``."""
    name: str
    payload: str

    def record(self) -> dict[str, Any] | None:
        """The payload as a JSON object (what a system returned), or None when it is not one."""
        try:
            value = json.loads(self.payload)
        except ValueError:
            return None
        return value if isinstance(value, dict) else None


@dataclass(frozen=True)
class Conversation(Header):
    """Everything known about one conversation up to its newest event."""

    turns: tuple[Turn, ...] = ()
    tools: tuple[ToolEvent, ...] = ()

    @classmethod
    def start(cls, event: ConversationStarted) -> Conversation:
        return cls(**{f.name: getattr(event, f.name) for f in fields(Header)})

    def apply(self, event: Event) -> Conversation:
        """Return the conversation with ``event`` added; events of other conversations are ignored."""
        if isinstance(event, ConversationStarted):
            return (
                Conversation.start(event)
                if event.id != self.id
                else replace(Conversation.start(event), turns=self.turns, tools=self.tools)
            )
        if isinstance(event, Message) and event.conversation_id == self.id:
            if self.turn(event.seq) is not None:  # delivered again (a resumed file, a retried push): one turn per seq
                return self
            return replace(self, turns=(*self.turns, Turn.of(event)))
        if isinstance(event, ToolCall) and event.conversation_id == self.id:
            return replace(
                self, tools=(*self.tools, ToolEvent(event.seq, "call", event.name, json.dumps(event.arguments)))
            )
        if isinstance(event, ToolResult) and event.conversation_id == self.id:
            return replace(self, tools=(*self.tools, ToolEvent(event.seq, "result", event.name, event.content)))
        return self

    def holds(self, event: Event) -> bool:
        """Whether the conversation already has ``event`` (a file played again from where it was left)."""
        if isinstance(event, Message):
            return self.turn(event.seq) is not None
        if isinstance(event, ToolCall):
            return ToolEvent(event.seq, "call", event.name, json.dumps(event.arguments)) in self.tools
        if isinstance(event, ToolResult):
            return ToolEvent(event.seq, "result", event.name, event.content) in self.tools
        return True

    @property
    def next_seq(self) -> int:
        """The seq a newly typed event gets: one past everything seen."""
        seqs = [t.seq for t in self.turns] + [t.seq for t in self.tools]
        return max(seqs, default=0) + 1

    def turn(self, seq: int) -> Turn | None:
        return next((t for t in self.turns if t.seq == seq), None)

    def turns_upto(self, seq: int) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.seq <= seq)

    def results(self, tool: str | None = None) -> list[dict[str, Any]]:
        """The JSON objects the systems returned (of ``tool`` only, when given), oldest first."""
        return [
            r
            for e in self.tools
            if e.kind == "result" and (tool is None or e.name == tool) and (r := e.record()) is not None
        ]
