"""`copilot eval redaction` and `copilot redact` as an admin or a script runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cli.main import main

CASES = Path(__file__).resolve().parents[2] / "resources" / "eval" / "redaction.jsonl"


def test_the_shipped_set_is_large_enough_in_four_languages_with_hard_negatives() -> None:
    lines = [json.loads(line) for line in CASES.read_text(encoding="utf-8").splitlines()]
    assert len(lines) >= 150
    assert {line["lang"] for line in lines} == {"en", "de", "fr", "es"}
    assert sum(not line["spans"] for line in lines) >= 50


def test_eval_prints_recall_per_kind_false_positives_and_meets_the_targets(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["eval", "redaction", "--cases", str(CASES), "--json"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["kind", "recall", "support", "target"]
    assert any(line.startswith("card ") for line in out) and any(line.startswith("address ") for line in out)
    assert any(line.startswith("false positives: ") for line in out)
    result = json.loads(out[-1])
    for kind in ("card", "iban", "national_id", "email", "phone", "secret"):
        assert result["per_kind"][kind]["recall"] >= 0.98, kind
    for kind in ("address", "name"):
        assert result["per_kind"][kind]["recall"] >= 0.9, kind
    overall = result["overall"]
    assert overall["negatives"] >= 50 and overall["false_positive_rate_on_negatives"] <= 0.05
    assert overall["citations_kept"] == "8/8"
    assert result["targets_met"] is True


def test_eval_counts_a_miss_and_a_false_positive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    card = "4111 1111 1111 1111"
    rows = [
        {"id": "a", "lang": "en", "text": f"my card is {card}", "spans": [{"kind": "card", "text": card}]},
        {"id": "b", "lang": "en", "text": "my friend Bob lives nearby", "spans": [{"kind": "name", "text": "Bob"}]},
        {"id": "c", "lang": "en", "text": "write to me at x@example.com", "spans": []},
    ]
    cases.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    assert main(["eval", "redaction", "--cases", str(cases), "--json", "--verbose-cases"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out.splitlines()[-1])
    assert result["per_kind"]["card"]["recall"] == 1.0
    assert result["per_kind"]["name"]["recall"] == 0.0
    assert result["overall"]["false_positives"] == 1
    assert result["overall"]["false_positive_rate_on_negatives"] == 1.0
    assert result["targets_met"] is False
    assert "missed name in b: 'Bob'" in captured.err
    assert "redacted EMAIL in c: 'x@example.com'" in captured.err


def test_eval_names_a_bad_line_and_its_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "a", "text": "hello", "spans": [{"kind": "card", "text": "4111"}]}\n', encoding="utf-8")
    assert main(["eval", "redaction", "--cases", str(cases)]) == 2
    err = capsys.readouterr().err
    assert f"{cases}:1" in err and "spans[0].text" in err and "does not occur" in err


def copilot(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_redact_prints_exactly_what_would_be_sent_from_stdin() -> None:
    text = "Hi, I'm Ana Souza.\nCard 4111.1111.1111.1111, see northwind-retail@2025.6#returns.window\n"
    done = copilot("redact", stdin=text)
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Hi, I'm [NAME_1].\nCard [CARD_1], see northwind-retail@2025.6#returns.window\n"


def test_redact_reads_a_file_and_takes_the_record_values(tmp_path: Path) -> None:
    message = tmp_path / "message.txt"
    message.write_text("Thanks, Margaret here; ring 0117 496 0123 please.", encoding="utf-8")
    done = copilot("redact", str(message), "--name", "Margaret Carter", "--phone", "+44 117 496 0123")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "Thanks, [NAME_1] here; ring [PHONE_1] please."


def test_redact_says_which_file_it_cannot_read(tmp_path: Path) -> None:
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe card")
    done = copilot("redact", str(binary))
    assert done.returncode == 2
    assert str(binary) in done.stderr and "UTF-8" in done.stderr and "Traceback" not in done.stderr
