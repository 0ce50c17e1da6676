"""Hostile event files (issue 15): each bad line is skipped with ``file:line: reason``, the rest plays.

Reproduces the findings of the adversarial review: one non-UTF-8 byte dropped the whole file, a lone
surrogate ended in a TypeError, deep nesting in a RecursionError, an empty file passed silently, a
second header silently dropped the messages after it, and a long message was analysed whole. Then
hypothesis feeds the reader arbitrary bytes and arbitrary JSON for a bounded number of examples.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from base.errors import EventError
from copilot.conversation.events import (
    MAX_ANALYSED_CHARS,
    MAX_LINE_BYTES,
    MAX_NESTING,
    EventLog,
    Message,
    read_events,
)
from copilot.replay import replay_states
from tests.copilot.test_cli import copilot

HEADER = '{"type":"conversation","id":"c1","jurisdiction":"US"}'


def message(seq: int, text: str, conversation: str = "c1") -> str:
    event = {"type": "message", "conversation_id": conversation, "seq": seq, "role": "customer", "text": text}
    return json.dumps(event, ensure_ascii=False)


def write(path: Path, *lines: str | bytes) -> Path:
    path.write_bytes(b"\n".join(line if isinstance(line, bytes) else line.encode() for line in lines) + b"\n")
    return path


def texts(log: EventLog) -> list[str]:
    return [e.text for e in log.events if isinstance(e, Message)]


def only_error(log: EventLog) -> str:
    assert len(log.errors) == 1, log.errors
    return str(log.errors[0])


def test_one_byte_that_is_not_utf8_skips_its_line_only(tmp_path: Path) -> None:
    bad = message(2, "café").encode().replace("é".encode(), b"\xe9")
    path = write(tmp_path / "latin1.jsonl", HEADER, message(1, "hello"), bad, message(3, "my order is late"))
    log = read_events(path)
    assert texts(log) == ["hello", "my order is late"]
    at = bad.index(b"\xe9") + 1
    assert only_error(log) == f"{path}:3: is not UTF-8 text (byte 0xe9 at byte {at}); save the file as UTF-8"


def test_a_lone_surrogate_skips_its_line_with_a_printable_error(tmp_path: Path) -> None:
    bad = '{"type":"message","conversation_id":"c1","seq":2,"role":"customer","text":"x\\ud800y"}'
    log = read_events(write(tmp_path / "s.jsonl", HEADER, message(1, "hi"), bad, message(3, "refund please")))
    assert texts(log) == ["hi", "refund please"]
    error = only_error(log)
    assert error.startswith(f"{tmp_path / 's.jsonl'}:3: field 'text': holds a lone surrogate")
    error.encode("utf-8")  # the error itself holds no surrogate, so it can be printed and shown


def test_a_surrogate_pair_is_one_character_and_reads_well(tmp_path: Path) -> None:
    emoji = '{"type":"message","conversation_id":"c1","seq":1,"role":"customer","text":"thanks \\ud83d\\ude00"}'
    log = read_events(write(tmp_path / "pair.jsonl", HEADER, emoji))
    assert log.errors == [] and texts(log) == ["thanks \N{GRINNING FACE}"]


def test_nesting_10000_deep_skips_its_line_without_recursing(tmp_path: Path) -> None:
    deep = message(2, "x")[:-1] + ',"n":' + "[" * 10_000 + "]" * 10_000 + "}"
    inside_a_string = message(3, "[" * 10_000)
    log = read_events(write(tmp_path / "deep.jsonl", HEADER, message(1, "hi"), deep, inside_a_string, message(4, "ok")))
    assert texts(log) == ["hi", "[" * 10_000, "ok"]
    assert only_error(log).endswith(f":3: is nested deeper than {MAX_NESTING} levels of arrays and objects; flatten it")


def test_a_5_mb_line_is_skipped_unread_and_the_rest_plays(tmp_path: Path) -> None:
    huge = message(2, "x" * 5_000_000)
    log = read_events(write(tmp_path / "big.jsonl", HEADER, message(1, "hi"), huge, message(3, "still here")))
    assert texts(log) == ["hi", "still here"]
    size = len(huge.encode())
    assert only_error(log).endswith(
        f":3: is {size:,} bytes long, over the limit of {MAX_LINE_BYTES:,}; split it into several events"
    )


def test_a_line_at_the_size_limit_is_read(tmp_path: Path) -> None:
    empty = message(1, "")
    fits = message(1, "y" * (MAX_LINE_BYTES - len(empty)))
    assert len(fits.encode()) == MAX_LINE_BYTES
    log = read_events(write(tmp_path / "edge.jsonl", HEADER, fits))
    assert log.errors == [] and texts(log) == ["y" * (MAX_LINE_BYTES - len(empty))]


def test_a_number_python_will_not_convert_skips_its_line(tmp_path: Path) -> None:
    bad = '{"type":"message","conversation_id":"c1","seq":' + "9" * 5000 + ',"role":"customer","text":"x"}'
    log = read_events(write(tmp_path / "n.jsonl", HEADER, bad, message(1, "fine")))
    assert texts(log) == ["fine"] and "has a number of more than" in only_error(log)


def test_an_empty_file_is_an_error_that_says_what_a_conversation_file_holds(tmp_path: Path) -> None:
    for content in (b"", b"\n  \n"):
        (tmp_path / "empty.jsonl").write_bytes(content)
        log = read_events(tmp_path / "empty.jsonl")
        assert log.events == []
        assert only_error(log).startswith(f"{tmp_path / 'empty.jsonl'}:1: has no events (it is empty); ")
        assert '{"type":"conversation"' in str(log.errors[0])


def test_a_second_header_is_an_error_and_the_messages_after_it_still_play(tmp_path: Path) -> None:
    path = write(
        tmp_path / "two.jsonl",
        HEADER,
        message(1, "hi"),
        '{"type":"conversation","id":"c2"}',
        message(2, "refund please"),
        message(3, "for the other one", conversation="c2"),
        message(4, "still there?"),
    )
    states, errors = replay_states(path)
    conversation, _ = states[-1]
    assert conversation.id == "c1"
    assert [t.text for t in conversation.turns] == ["hi", "refund please", "still there?"]
    assert [str(e) for e in errors] == [
        f"{path}:3: is a second conversation header (the first is on line 1); a file holds one conversation: "
        "put this header and its events in a file of their own",
        f"{path}:5: field 'conversation_id': 'c2' is not this file's conversation 'c1'; a file holds one "
        "conversation: put its events in a file of their own",
    ]


def test_a_header_after_the_messages_is_an_error_not_a_fresh_start(tmp_path: Path) -> None:
    path = write(tmp_path / "late.jsonl", message(1, "hi"), HEADER, message(2, "refund please"))
    states, errors = replay_states(path)
    assert [t.text for t in states[-1][0].turns] == ["hi", "refund please"]
    assert [(e.line, e.field) for e in errors] == [(2, "line")] and "move it to the top" in str(errors[0])


def test_a_50_kb_message_is_kept_whole_and_analysed_on_its_start_with_a_notice(tmp_path: Path) -> None:
    text = "I want a refund for order NW-10482. " + "The blender broke again. " * 2_000
    assert len(text) > 50_000
    states, errors = replay_states(write(tmp_path / "long.jsonl", HEADER, message(1, text), message(2, "short")))
    assert errors == []
    long, short = states[-1][0].turns
    assert long.text == text[:MAX_ANALYSED_CHARS] and long.full_text == text
    assert long.truncated_from == len(text)
    assert long.notice == (
        f"Message #1 is {len(text):,} characters long: only its first {MAX_ANALYSED_CHARS:,} were analysed, "
        "so read the rest yourself."
    )
    assert short.truncated_from is None and short.full_text is None and short.notice == ""


def test_control_characters_and_long_values_are_not_echoed_raw(tmp_path: Path) -> None:
    role = "\x1b[2J" + "a" * 1_000
    bad = json.dumps({"type": "message", "conversation_id": "c1", "seq": 1, "role": role, "text": "x"})
    error = only_error(read_events(write(tmp_path / "ctl.jsonl", HEADER, bad)))
    assert "\x1b" not in error and "\\x1b[2J" in error and len(error) < 200 + len(str(tmp_path))


def test_a_line_separator_inside_a_message_does_not_split_the_line(tmp_path: Path) -> None:
    text = "first part\u2028second part\x85third"
    log = read_events(write(tmp_path / "ls.jsonl", HEADER, message(1, text)))
    assert log.errors == [] and texts(log) == [text]


# Fuzzing: whatever one line holds, the reader raises nothing, reports at most that line, and plays the
# lines around it. Bounded by max_examples (well under a few seconds); no example database is written.
FUZZ = settings(max_examples=150, deadline=None, database=None)
ANY_CHARACTER = st.characters(exclude_categories=())
"""Lone surrogates included: json.dumps writes them as ``\\ud800`` escapes, or raw (then not UTF-8)."""
BEFORE, AFTER = message(1, "before"), message(1_000_000, "after")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(ANY_CHARACTER),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
event_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["conversation", "message", "tool_call", "tool_result", "other"]) | json_values},
    optional={
        "id": st.sampled_from(["c1", "c2", ""]) | json_values,
        "conversation_id": st.sampled_from(["c1", "c2"]) | json_values,
        "seq": st.integers() | json_values,
        "role": st.sampled_from(["customer", "rep", "agent"]) | json_values,
        "text": st.text(ANY_CHARACTER) | json_values,
        "arguments": json_values,
        "content": json_values,
        "started_at": st.sampled_from(["2026-11-20T10:00:00Z", "yesterday"]) | json_values,
    },
)


def check_fuzzed_line(path: Path, line: bytes) -> None:
    try:
        log = read_events(write(path, HEADER, BEFORE, line.replace(b"\n", b" "), AFTER))
    except Exception as exc:  # noqa: BLE001 - the property under test: nothing but the log comes out
        pytest.fail(f"read_events raised {exc!r} on line {line[:200]!r}")
    assert all(isinstance(e, EventError) for e in log.errors)
    for error in log.errors:
        str(error).encode("utf-8")
    assert "before" in texts(log)
    if any(e.line == 3 for e in log.errors):
        assert [e.line for e in log.errors] == [3] and texts(log)[-1] == "after"


@FUZZ
@given(line=st.binary(max_size=400))
def test_fuzz_arbitrary_bytes(tmp_path_factory: pytest.TempPathFactory, line: bytes) -> None:
    check_fuzzed_line(tmp_path_factory.getbasetemp() / "bytes.jsonl", line)


@FUZZ
@given(value=json_values | event_like, ascii_only=st.booleans())
def test_fuzz_arbitrary_json_lines(tmp_path_factory: pytest.TempPathFactory, value: object, ascii_only: bool) -> None:
    line = json.dumps(value, ensure_ascii=ascii_only).encode("utf-8", "surrogatepass")
    check_fuzzed_line(tmp_path_factory.getbasetemp() / "json.jsonl", line)


@FUZZ
@given(value=event_like, cut=st.integers(min_value=0), junk=st.binary(max_size=8))
def test_fuzz_damaged_events(tmp_path_factory: pytest.TempPathFactory, value: object, cut: int, junk: bytes) -> None:
    line = json.dumps(value).encode("utf-8", "surrogatepass")
    at = cut % (len(line) + 1)
    check_fuzzed_line(tmp_path_factory.getbasetemp() / "damaged.jsonl", line[:at] + junk + line[at:])


def test_replay_of_a_hostile_file_names_each_bad_line_and_plays_the_rest(demo_home: Path, tmp_path: Path) -> None:
    path = write(
        tmp_path / "hostile.jsonl",
        HEADER,
        message(1, "My blender stopped working, I want a refund"),
        message(2, "café").encode().replace("é".encode(), b"\xe9"),
        '{"type":"message","conversation_id":"c1","seq":3,"role":"customer","text":"\\ud800"}',
        message(4, "x")[:-1] + ',"n":' + "[" * 10_000 + "]" * 10_000 + "}",
        message(5, "x" * 2_000_000),
        '{"type":"conversation","id":"c2"}',
        message(6, "Can I return it? " * 500),
    )
    done = copilot("replay", str(path), "--json", home=demo_home)
    assert done.returncode == 0 and "Traceback" not in done.stderr
    assert [json.loads(line)["seq"] for line in done.stdout.splitlines()] == [1, 6]
    assert re.findall(r"^skipped: .*hostile\.jsonl:(\d+): ", done.stderr, re.MULTILINE) == ["3", "4", "5", "6", "7"]


def test_replay_of_an_empty_file_fails_with_what_to_do(demo_home: Path, tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"")
    done = copilot("replay", str(tmp_path / "empty.jsonl"), home=demo_home)
    assert done.returncode == 1 and "Traceback" not in done.stderr and done.stdout == ""
    assert f"{tmp_path / 'empty.jsonl'}:1: has no events (it is empty)" in done.stderr
