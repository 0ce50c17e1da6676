"""The shared JSONL reader (labelled cases, passages, examples): a line json cannot read, however hostile,
is one named bad line, never a traceback, and the lines around it are still read."""

from __future__ import annotations

from base.errors import LineError
from base.jsonl import parse_jsonl


def test_deep_nesting_and_huge_numbers_are_bad_lines_not_crashes() -> None:
    lines = ["[" * 100_000, '{"a": 1}', '{"b": ' + "9" * 5_000 + "}", "[1, 2]", '{"c": 2}']
    errors: list[LineError] = []
    read = [(line.number, line.value) for line in parse_jsonl(lines, "cases.jsonl", errors.append)]
    assert read == [(2, {"a": 1}), (5, {"c": 2})]
    assert [str(e).split(":")[:2] for e in errors] == [["cases.jsonl", "1"], ["cases.jsonl", "3"], ["cases.jsonl", "4"]]
    assert "nested too deeply" in str(errors[0]) and "digits" in str(errors[1])
