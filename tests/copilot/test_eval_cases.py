"""`copilot eval escalation|flags` on a small labelled file: the JSON shape, skipped kinds, bad lines."""

from __future__ import annotations

import json
from pathlib import Path

from tests.copilot.test_cli import copilot

CASES = [
    {
        "id": "e1",
        "kind": "escalation",
        "turns": [{"role": "customer", "text": "My father passed away in May."}],
        "jurisdiction": "UK",
        "expected": ["bereavement"],
    },
    {
        "id": "e2",
        "kind": "escalation",
        "turns": [{"role": "customer", "text": "the wait is murder"}],
        "jurisdiction": "UK",
        "expected": [],
    },
    {
        "id": "e3",
        "turns": [{"role": "customer", "text": "Get me a manager now!!"}],
        "jurisdiction": "US-NY",
        "expected": ["human_request"],
    },
    {
        "id": "f1",
        "kind": "flag",
        "turns": [{"role": "rep", "text": "Send me your CVV please."}],
        "jurisdiction": "US-NY",
        "expected": ["sensitive_data"],
    },
]


def run_eval(kind: str, tmp_path: Path, home: Path) -> dict:  # type: ignore[type-arg]
    """Run `copilot eval KIND --json` on CASES; the result is the JSON line printed last."""
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(c) for c in CASES))
    done = copilot("eval", kind, "--cases", str(cases), "--json", home=home)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])  # type: ignore[no-any-return]


def test_escalation_eval_prints_the_json_line_last(tmp_path: Path, demo_home: Path) -> None:
    result = run_eval("escalation", tmp_path, demo_home)
    assert result["per_category"]["bereavement"] == {"precision": 1.0, "recall": 1.0, "support": 1}
    assert result["per_category"]["human_request"]["support"] == 1
    assert set(result["micro"]) == {"precision", "recall", "f1"}


def test_flags_eval_scores_flag_cases_only(tmp_path: Path, demo_home: Path) -> None:
    result = run_eval("flags", tmp_path, demo_home)
    assert result["per_category"]["sensitive_data"]["support"] == 1
    assert result["micro"]["recall"] == 1.0


def test_a_bad_case_line_is_named(tmp_path: Path, demo_home: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(
        json.dumps(CASES[0]) + "\n" + '{"id": "x", "kind": "escalation", "turns": [], "expected": ["angry"]}'
    )
    done = copilot("eval", "escalation", "--cases", str(cases), home=demo_home)
    assert done.returncode == 2 and "cases.jsonl:2: unknown category 'angry'" in done.stderr
