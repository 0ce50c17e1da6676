"""Issue 15, item 7: someone who can write the data folder, but holds no key, cannot change the audit log unseen.

Each attack is one an adversarial review ran against the unkeyed hash chain, where all of them verified as
"chain intact": a rewritten chain, a forged row, a deleted and renumbered row, a truncated log, a dropped
table, a deleted file; plus a row that crashed `audit verify`, and two processes whose appends forked the chain.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import os
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from base.errors import CopilotError
from copilot.actions.audit import AUDIT_FILE, KEY_DIR_ENV, AuditKeys, AuditLog, head_path, verification
from tests.copilot.test_audit import run_sql

REPO = Path(__file__).resolve().parents[2]

APPENDER = """
import sys
from pathlib import Path
from copilot.actions.audit import AuditLog

log = AuditLog(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
for n in range(int(sys.argv[2])):
    log.append(actor=sys.argv[3], conversation_id="c", kind="proposed", action_id=f"{sys.argv[3]}-{n}", tool="t",
               arguments={"n": n})
    if n == 0:
        print("appending", flush=True)
print("done", flush=True)
"""


@pytest.fixture
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "keys"
    monkeypatch.setenv(KEY_DIR_ENV, str(folder))
    return folder


@pytest.fixture
def path(tmp_path: Path, key_dir: Path) -> Path:
    """An audit log of six signed records, closed."""
    log_path = tmp_path / "data" / AUDIT_FILE
    log = AuditLog(log_path)
    for n in range(6):
        log.append(
            actor="ana",
            conversation_id="c1",
            kind="approved",
            action_id=f"a{n}",
            tool="refund_payment",
            arguments={"order_id": "NW-20001", "amount": 10 + n},
        )
    log.close()
    return log_path


def _plain_hash(prev: str, row: sqlite3.Row) -> str:
    """The chain hash as anyone can compute it (the attacker's tool: the format is public)."""
    content = {
        "at": row["at"],
        "actor": row["actor"],
        "conversation_id": row["conversation_id"],
        "kind": row["kind"],
        "action_id": row["action_id"],
        "tool": row["tool"],
        "arguments": json.loads(row["arguments"]),
        "result": json.loads(row["result"]),
        "citations": json.loads(row["citations"]),
    }
    body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()


def _rechain(path: Path, first_seq: int) -> None:
    """Recompute every plain hash and link from ``first_seq`` on, as the unkeyed chain allowed."""
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute("SELECT * FROM records ORDER BY seq").fetchall()
        prev = "0" * 64
        for row in rows:
            if row["seq"] >= first_seq:
                digest = _plain_hash(prev, row)
                db.execute("UPDATE records SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, digest, row["seq"]))
                prev = digest
            else:
                prev = row["hash"]
    db.close()


def _cli_verify(home: Path) -> subprocess.CompletedProcess[str]:
    env = {"COPILOT_HOME": str(home), KEY_DIR_ENV: os.environ[KEY_DIR_ENV], "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", "verify"],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )


def _appender(log_path: Path, count: int, actor: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", APPENDER, str(log_path), str(count), actor],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def test_two_processes_appending_at_once_keep_one_chain(tmp_path: Path, key_dir: Path) -> None:
    """Both start on a log that does not exist yet, so they also race to create it and its key."""
    log_path = tmp_path / "data" / AUDIT_FILE
    with _appender(log_path, 500, "p1") as first, _appender(log_path, 500, "p2") as second:
        writers = (first, second)
        for writer in writers:
            assert writer.stdout is not None
            assert writer.stdout.readline() == "ready\n"
        for writer in writers:
            assert writer.stdin is not None
            writer.stdin.write("go\n")
            writer.stdin.flush()
        for writer in writers:
            assert writer.wait(timeout=120) == 0
    found = verification(log_path)
    assert found.problems == ()
    assert (found.records, found.head_seq) == (1000, 1000)
    records = list(AuditLog(log_path).records())
    assert [r.seq for r in records] == list(range(1, 1001))
    assert all(later.prev_hash == earlier.hash for earlier, later in itertools.pairwise(records))
    actors = [r.actor for r in records]
    assert actors.count("p1") == actors.count("p2") == 500


def test_a_writer_killed_mid_append_leaves_no_false_alarm(tmp_path: Path, key_dir: Path) -> None:
    log_path = tmp_path / "data" / AUDIT_FILE
    with _appender(log_path, 100_000, "p1") as writer:
        assert writer.stdout is not None and writer.stdin is not None
        assert writer.stdout.readline() == "ready\n"
        writer.stdin.write("go\n")
        writer.stdin.flush()
        assert writer.stdout.readline() == "appending\n"
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
    found = verification(log_path)
    assert found.problems == ()
    assert found.records >= 1
    AuditLog(log_path).append(actor="p2", conversation_id="c", kind="proposed", action_id="x", tool="t", arguments={})
    assert verification(log_path).problems == ()


def test_an_edit_with_the_whole_chain_recomputed_is_named(path: Path) -> None:
    run_sql(path, """UPDATE records SET arguments = '{"amount": 5000, "order_id": "NW-20001"}' WHERE seq = 3""")
    _rechain(path, 3)
    problems = verification(path).problems
    assert problems[:4] == (
        "record 3: signature does not match (edited, forged or renumbered)",
        "record 4: signature does not match (edited, forged or renumbered)",
        "record 5: signature does not match (edited, forged or renumbered)",
        "record 6: signature does not match (edited, forged or renumbered)",
    )
    assert problems[4] == "record 6: does not match the signed head (the log was rewritten)"
    assert len(problems) == 5


def test_a_forged_row_with_a_correct_plain_hash_is_named(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.row_factory = sqlite3.Row
        last = db.execute("SELECT * FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        forged = dict(last) | {"action_id": "forged", "arguments": '{"amount": 900, "order_id": "NW-20001"}'}
        forged["prev_hash"] = last["hash"]
        forged["hash"] = _plain_hash(last["hash"], forged)  # type: ignore[arg-type]
        del forged["seq"]
        columns = ", ".join(forged)
        db.execute(f"INSERT INTO records ({columns}) VALUES ({', '.join('?' * len(forged))})", tuple(forged.values()))
        # a second forgery without any signature at all
        unsigned = forged | {"prev_hash": forged["hash"], "key_id": None, "signature": None}
        unsigned["hash"] = _plain_hash(forged["hash"], unsigned)  # type: ignore[arg-type]
        db.execute(
            f"INSERT INTO records ({columns}) VALUES ({', '.join('?' * len(unsigned))})", tuple(unsigned.values())
        )
    db.close()
    found = verification(path)
    assert found.problems == (
        "record 7: signature does not match (edited, forged or renumbered)",
        "record 8: not signed (added outside the app)",
    )
    assert found.notes == (
        "records 7..8 come after the signed head (the app stopped before signing it; the next append signs them): "
        "their deletion would go unnoticed",
    )


def test_a_deleted_row_with_the_rest_renumbered_and_rechained_is_named(path: Path) -> None:
    run_sql(
        path,
        "DELETE FROM records WHERE seq = 3",
        "UPDATE records SET seq = seq - 1 WHERE seq > 3",
        "UPDATE sqlite_sequence SET seq = 5 WHERE name = 'records'",
    )
    _rechain(path, 3)
    assert verification(path).problems == (
        "record 3: signature does not match (edited, forged or renumbered)",
        "record 4: signature does not match (edited, forged or renumbered)",
        "record 5: signature does not match (edited, forged or renumbered)",
        "records 6..6 are missing (deleted from the end: the signed head covers records up to 6)",
    )


def test_truncation_is_named_even_with_sqlites_counter_reset(path: Path) -> None:
    run_sql(path, "DELETE FROM records WHERE seq > 3", "UPDATE sqlite_sequence SET seq = 3 WHERE name = 'records'")
    assert verification(path).problems == (
        "records 4..6 are missing (deleted from the end: the signed head covers records up to 6)",
    )


def test_a_file_truncated_to_nothing_is_named(path: Path) -> None:
    path.write_bytes(b"")
    assert verification(path).problems == (
        "audit.sqlite3 has no records table (dropped), but its signed head covers records up to 6",
    )


def test_a_dropped_table_is_named_also_after_the_app_recreates_it_and_appends_stop(path: Path) -> None:
    run_sql(path, "DROP TABLE records")
    assert verification(path).problems == (
        "audit.sqlite3 has no records table (dropped), but its signed head covers records up to 6",
    )
    reopened = AuditLog(path)  # the app starting again creates an empty table
    assert reopened.verify() == [
        "records 1..6 are missing (deleted from the end: the signed head covers records up to 6)"
    ]
    with pytest.raises(CopilotError, match="does not match its signed head"):
        reopened.append(actor="ana", conversation_id="c1", kind="approved", action_id="x", tool="t", arguments={})
    assert json.loads(head_path(path).read_text())["seq"] == 6


def test_a_deleted_database_is_named_by_its_head_and_verify_exits_1(path: Path) -> None:
    path.unlink()
    for leftover in path.parent.glob(f"{path.name}-*"):
        leftover.unlink()
    result = _cli_verify(path.parent)
    assert result.returncode == 1, result.stderr
    assert result.stdout.splitlines()[0] == (
        "audit.sqlite3 is missing (deleted), but its signed head covers records up to 6"
    )
    assert not path.exists(), "verify writes nothing"
    with pytest.raises(CopilotError, match="does not match its signed head"):
        AuditLog(path).append(actor="ana", conversation_id="c1", kind="approved", action_id="x", tool="t", arguments={})


def test_a_deleted_database_and_head_are_named_by_the_key_left_outside(path: Path) -> None:
    path.unlink()
    head_path(path).unlink()
    found = verification(path)
    assert len(found.problems) == 1
    assert found.problems[0].startswith("audit.sqlite3 is missing (deleted), but its key is in ")


def test_a_deleted_head_is_named(path: Path) -> None:
    head_path(path).unlink()
    assert verification(path).problems == (
        "the signed head audit.head.json is missing (deleted): records removed from the end cannot be ruled out",
    )


def test_a_database_swapped_for_another_logs_is_named(path: Path, tmp_path: Path) -> None:
    """Another desk's log, whole and correctly signed by its own key, put in place of this one."""
    other = tmp_path / "other" / AUDIT_FILE
    log = AuditLog(other, AuditKeys(tmp_path / "other-keys" / "k", None))
    log.append(actor="bo", conversation_id="c9", kind="approved", action_id="b1", tool="t", arguments={})
    log.close()
    path.write_bytes(other.read_bytes())
    problems = verification(path).problems
    assert problems[0].startswith("the database, its signed head and its key belong to different logs (database: ")
    assert problems[0].endswith("): one was replaced")
    assert "record 1: signature does not match (edited, forged or renumbered)" in problems


def test_a_forged_head_is_named(path: Path) -> None:
    run_sql(path, "DELETE FROM records WHERE seq > 3")
    head = json.loads(head_path(path).read_text())
    with sqlite3.connect(path) as db:
        head["seq"], head["root"] = 3, db.execute("SELECT hash FROM records WHERE seq = 3").fetchone()[0]
    db.close()
    head_path(path).write_text(json.dumps(head))
    assert verification(path).problems == (
        "the signed head audit.head.json does not carry this log's signature (forged)",
        "records 4..6 are missing (deleted from the end)",
    )


def test_rows_that_cannot_be_read_are_named_and_nothing_crashes(path: Path) -> None:
    """Invalid JSON, NULLs and wrong types, in a table rebuilt without its constraints."""
    run_sql(
        path,
        "CREATE TABLE loose AS SELECT * FROM records",
        "DROP TABLE records",
        "ALTER TABLE loose RENAME TO records",
        "UPDATE records SET arguments = '{\"amount\": 10' WHERE seq = 2",
        "UPDATE records SET actor = NULL, result = x'2a' WHERE seq = 3",
        "UPDATE records SET citations = '{\"a\": 1}', hash = NULL WHERE seq = 4",
        "UPDATE records SET signature = x'00ff' WHERE seq = 5",
    )
    problems = verification(path).problems
    assert "record 2: arguments is not valid JSON ('{\"amount\": 10')" in problems
    assert "record 3: actor is empty (NULL), not text" in problems
    assert "record 3: result is of type bytes, not JSON text" in problems
    assert "record 4: hash is empty (NULL), not text" in problems
    assert "record 4: citations is not a JSON array" in problems
    assert "record 5: signature is of type bytes, not text" in problems
    assert "record 5: does not follow the record before it (one was deleted or replaced)" in problems
    result = _cli_verify(path.parent)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "record 2: arguments is not valid JSON" in result.stdout


def test_the_key_is_in_neither_the_database_nor_the_head(path: Path, key_dir: Path) -> None:
    key = json.loads((key_dir / f"{AUDIT_FILE}.key").read_text())
    private = base64.b64decode(key["private"])
    forms = [private, key["private"].encode(), private.hex().encode(), base64.urlsafe_b64encode(private)]
    files = [p for p in path.parent.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {AUDIT_FILE, "audit.head.json"}
    for file in files:
        data = file.read_bytes()
        assert not any(form in data for form in forms), file.name
