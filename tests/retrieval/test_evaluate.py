"""`copilot eval retrieval` input: labelled files are read with base.jsonl, and a bad line is named file:line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from base.errors import LineError
from retrieval.evaluate import query_parts, read_passages, read_queries


def write(path: Path, *lines: str) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_passages_and_queries_are_read_in_file_order(tmp_path: Path) -> None:
    passages = write(tmp_path / "p.jsonl", '{"id": "a", "title": "A", "text": "one"}', "", '{"id": "b", "text": "two"}')
    assert [(c.id, c.title, c.text, c.line) for c in read_passages(passages)] == [
        ("a", "A", "one", 1),
        ("b", "", "two", 3),
    ]
    queries = write(tmp_path / "q.jsonl", '{"id": "q1", "text": "refund?", "relevant": ["a", "b"]}')
    assert [(q.id, q.relevant) for q in read_queries(queries)] == [("q1", frozenset({"a", "b"}))]


@pytest.mark.parametrize(
    ("lines", "reader", "message"),
    [
        (['{"id": "a", "text": "one"}', '{"id": "b"}'], read_passages, "p.jsonl:2: field 'text': is missing"),
        # base.jsonl words these two; here only file and line matter.
        (['{"id": "a", "text": "one"', "x"], read_passages, "p.jsonl:1: "),
        (['{"id": "a", "text": "one"}', '["a"]'], read_passages, "p.jsonl:2: "),
        ([""], read_passages, "p.jsonl:0: holds no rows"),
        (
            ['{"id": "q", "text": "t", "relevant": "a"}'],
            read_queries,
            "p.jsonl:1: field 'relevant': must be a non-empty",
        ),
    ],
)
def test_a_bad_file_is_named_by_file_and_line(
    tmp_path: Path, lines: list[str], reader: Callable[[Path], object], message: str
) -> None:
    with pytest.raises(LineError) as caught:
        reader(write(tmp_path / "p.jsonl", *lines))
    assert str(caught.value).startswith(f"{tmp_path}/{message}")


def test_a_dialogue_query_focuses_on_its_last_customer_turn() -> None:
    assert query_parts("customer: my parcel is late\nrep: sorry\ncustomer: can I get a refund") == (
        "can I get a refund",
        ("can I get a refund", "sorry", "my parcel is late"),
    )
