"""Reading conversation events: the documented shape, unknown parts kept, bad lines named precisely."""

from __future__ import annotations

import json
from pathlib import Path

from copilot.conversation.events import (
    ConversationStarted,
    Message,
    OtherEvent,
    ToolCall,
    ToolResult,
    parse_lines,
    read_events,
)
from copilot.conversation.state import Conversation

SHAPE = [
    '{"type":"conversation","id":"c1","channel":"chat","customer":{"name":"Ana Ruiz"},"jurisdiction":"US-CA",'
    '"started_at":"2026-11-20T10:00:00Z"}',
    '{"type":"message","conversation_id":"c1","seq":1,"role":"customer","text":"Hi, my blender broke",'
    '"ts":"2026-11-20T10:00:05Z","mood":"tense"}',
    '{"type":"tool_call","conversation_id":"c1","seq":2,"name":"get_order","arguments":{"order_id":"NW-10482"}}',
    '{"type":"tool_result","conversation_id":"c1","seq":3,"name":"get_order","content":{"status":"delivered"}}',
    '{"type":"typing","conversation_id":"c1"}',
    '{"type":"message","conversation_id":"c1","seq":4,"role":"rep","text":"Sorry to hear that."}',
]


def test_reads_the_documented_shape_and_keeps_unknown_parts() -> None:
    log = parse_lines(SHAPE, "c1.jsonl")
    assert log.errors == []
    start, first, call, result, other, reply = log.events
    assert isinstance(start, ConversationStarted)
    assert (start.id, start.customer_name, start.jurisdiction) == ("c1", "Ana Ruiz", "US-CA")
    assert start.started_at is not None and start.started_at.year == 2026
    assert isinstance(first, Message) and first.role == "customer" and first.extra == {"mood": "tense"}
    assert isinstance(call, ToolCall) and call.arguments == {"order_id": "NW-10482"}
    assert isinstance(result, ToolResult) and json.loads(result.content) == {"status": "delivered"}
    assert isinstance(other, OtherEvent) and other.type == "typing"
    assert isinstance(reply, Message) and reply.ts is None


def test_bad_lines_are_named_by_file_line_and_field_and_the_rest_plays() -> None:
    lines = [
        SHAPE[0],
        "{not json",
        '{"type":"message","conversation_id":"c1","seq":1,"role":"agent","text":"x"}',
        '{"type":"message","conversation_id":"c1","seq":"two","role":"rep","text":"x"}',
        '{"type":"message","seq":3,"role":"rep","text":"x"}',
        '{"type":"message","conversation_id":"c1","seq":4,"role":"rep","text":"x","ts":"yesterday"}',
        '{"type":"message","conversation_id":"c1","seq":5,"role":"customer","text":"still here"}',
        '{"type":"message","conversation_id":"c1","seq":5,"role":"customer","text":"again"}',
    ]
    log = parse_lines(lines, "bad.jsonl")
    problems = [(e.line, e.field) for e in log.errors]
    assert problems == [(2, "line"), (3, "role"), (4, "seq"), (5, "conversation_id"), (6, "ts"), (8, "seq")]
    assert str(log.errors[1]).startswith("bad.jsonl:3: field 'role':")
    assert [e.text for e in log.events if isinstance(e, Message)] == ["still here"]


def test_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    log = read_events(tmp_path / "missing.jsonl")
    assert log.events == [] and log.errors[0].field == "file" and "missing.jsonl" in str(log.errors[0])


def test_conversation_is_an_immutable_snapshot() -> None:
    log = parse_lines(SHAPE, "c1.jsonl")
    start = log.events[0]
    assert isinstance(start, ConversationStarted)
    conversation = Conversation.start(start)
    states = [conversation]
    for event in log.events[1:]:
        states.append(states[-1].apply(event))
    assert len(states[1].turns) == 1 and len(states[-1].turns) == 2
    assert [t.kind for t in states[-1].tools] == ["call", "result"]
    assert states[-1].next_seq == 5
