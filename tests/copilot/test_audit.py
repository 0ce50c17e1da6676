"""The audit log: a hash chain that shows any edited or deleted record; JSONL export; the CLI."""

from __future__ import annotations

import io
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from copilot.actions.audit import AUDIT_FILE, AuditLog


def _filled(path: Path, count: int = 4) -> AuditLog:
    log = AuditLog(path)
    for n in range(count):
        log.append(
            actor="rep",
            conversation_id="c1",
            kind="proposed" if n % 2 == 0 else "approved",
            action_id=f"a{n}",
            tool="refund_payment",
            arguments={"order_id": "NW-1", "amount": 10 + n},
            result={"n": n},
            citations=("northwind-retail@2025.3#refunds.original-method",),
        )
    return log


def test_an_intact_chain_verifies(tmp_path: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE)
    assert log.verify() == []
    records = list(log.records())
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[1].prev_hash == records[0].hash


def test_an_edited_record_is_found(tmp_path: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE)
    with sqlite3.connect(tmp_path / AUDIT_FILE) as db:
        db.execute("""UPDATE records SET arguments = '{"amount": 5000, "order_id": "NW-1"}' WHERE seq = 2""")
    problems = log.verify()
    assert problems == ["record 2: content does not match its hash (edited)"]


def test_deleted_records_are_found_in_the_middle_and_at_the_end(tmp_path: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE)
    with sqlite3.connect(tmp_path / AUDIT_FILE) as db:
        db.execute("DELETE FROM records WHERE seq = 2")
    assert any("records 2..2 are missing" in p for p in log.verify())
    log2 = _filled(tmp_path / "other.sqlite3")
    with sqlite3.connect(tmp_path / "other.sqlite3") as db:
        db.execute("DELETE FROM records WHERE seq = 4")
    assert log2.verify() == ["records 4..4 are missing (deleted from the end)"]


def test_a_rehashed_forgery_still_breaks_the_chain(tmp_path: Path) -> None:
    """Someone who edits a record and recomputes its own hash still breaks the next record's link."""
    log = _filled(tmp_path / AUDIT_FILE)
    with sqlite3.connect(tmp_path / AUDIT_FILE) as db:
        db.execute("UPDATE records SET hash = 'f' || substr(hash, 2) WHERE seq = 2")
    problems = log.verify()
    assert "record 2: content does not match its hash (edited)" in problems
    assert any(p.startswith("record 3: does not follow") for p in problems)


def test_export_writes_one_json_line_per_record(tmp_path: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE, 3)
    out = io.StringIO()
    assert log.export(out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert lines[0]["arguments"] == {"order_id": "NW-1", "amount": 10}
    assert lines[0]["citations"] == ["northwind-retail@2025.3#refunds.original-method"]


def test_cli_verify_and_export(tmp_path: Path) -> None:
    _filled(tmp_path / AUDIT_FILE).close()
    env = {"COPILOT_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"}
    run = [sys.executable, "-m", "cli.main", "audit"]
    ok = subprocess.run([*run, "verify"], env=env, capture_output=True, text=True, timeout=60)
    assert ok.returncode == 0, ok.stderr
    assert "4 records, chain intact" in ok.stdout
    exported = subprocess.run(
        [*run, "export", "-o", str(tmp_path / "audit.jsonl")], env=env, capture_output=True, text=True, timeout=60
    )
    assert exported.returncode == 0, exported.stderr
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 4
    with sqlite3.connect(tmp_path / AUDIT_FILE) as db:
        db.execute("UPDATE records SET actor = 'someone else' WHERE seq = 1")
    bad = subprocess.run([*run, "verify"], env=env, capture_output=True, text=True, timeout=60)
    assert bad.returncode == 1
    assert "record 1: content does not match its hash (edited)" in bad.stdout
