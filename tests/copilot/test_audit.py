"""The audit log: a signed hash chain and head that name any edited or deleted record; keys; JSONL export; the CLI."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring
import keyring.backend
import pytest

from base.errors import CopilotError
from copilot.actions.audit import AUDIT_FILE, KEY_DIR_ENV, KEYRING_SERVICE, AuditKeys, AuditLog, head_path, verification

CITATION = "northwind-retail@2025.6#refunds.original-method"


@pytest.fixture(autouse=True)
def key_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every log of these tests keeps its key in a folder of the test's own."""
    folder = tmp_path / "keys"
    monkeypatch.setenv(KEY_DIR_ENV, str(folder))
    return folder


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
            citations=(CITATION,),
        )
    return log


def run_sql(path: Path, *statements: str) -> None:
    """Change the database behind the app's back, as any SQLite tool can."""
    with sqlite3.connect(path) as db:
        for statement in statements:
            db.execute(statement)
    db.close()


def test_an_intact_log_verifies_and_every_record_is_signed(tmp_path: Path, key_dir: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE)
    assert log.verify() == []
    records = list(log.records())
    assert [r.seq for r in records] == [1, 2, 3, 4]
    assert records[1].prev_hash == records[0].hash
    assert all(r.key_id and r.signature for r in records)
    head = json.loads(head_path(tmp_path / AUDIT_FILE).read_text())
    assert (head["seq"], head["root"]) == (4, records[-1].hash)
    key_file = key_dir / f"{AUDIT_FILE}.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(key_dir.stat().st_mode) == 0o700


def test_an_edited_record_is_found(tmp_path: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE)
    run_sql(
        tmp_path / AUDIT_FILE, """UPDATE records SET arguments = '{"amount": 5000, "order_id": "NW-1"}' WHERE seq = 2"""
    )
    assert log.verify() == ["record 2: content does not match its hash (edited)"]


def test_deleted_records_are_found_in_the_middle_and_at_the_end(tmp_path: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE)
    run_sql(tmp_path / AUDIT_FILE, "DELETE FROM records WHERE seq = 2")
    assert log.verify() == [
        "records 2..2 are missing (deleted)",
        "record 3: does not follow the record before it (one was deleted or replaced)",
    ]
    log2 = _filled(tmp_path / "other.sqlite3")
    run_sql(tmp_path / "other.sqlite3", "DELETE FROM records WHERE seq = 4")
    assert log2.verify() == ["records 4..4 are missing (deleted from the end: the signed head covers records up to 4)"]


def test_a_rehashed_record_fails_its_signature_and_breaks_the_next_link(tmp_path: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE)
    run_sql(
        tmp_path / AUDIT_FILE,
        "UPDATE records SET hash = iif(hash LIKE 'f%', '0', 'f') || substr(hash, 2) WHERE seq = 2",
    )
    assert log.verify() == [
        "record 2: content does not match its hash (edited)",
        "record 2: signature does not match (edited, forged or renumbered)",
        "record 3: does not follow the record before it (one was deleted or replaced)",
    ]


def test_a_log_that_no_longer_matches_its_head_refuses_appends_and_keeps_the_evidence(tmp_path: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE)
    head_before = head_path(tmp_path / AUDIT_FILE).read_bytes()
    run_sql(tmp_path / AUDIT_FILE, "DELETE FROM records WHERE seq >= 3")
    with pytest.raises(CopilotError, match="does not match its signed head"):
        log.append(actor="rep", conversation_id="c1", kind="approved", action_id="a9", tool="t", arguments={})
    assert head_path(tmp_path / AUDIT_FILE).read_bytes() == head_before
    assert [r.seq for r in log.records()] == [1, 2]


def test_records_after_the_head_are_a_note_until_the_next_append_signs_them(tmp_path: Path) -> None:
    """What a crash between a record's commit and its head leaves: no false alarm, and the gap is said."""
    path = tmp_path / AUDIT_FILE
    log = _filled(path, 2)
    older_head = head_path(path).read_bytes()
    log.append(actor="rep", conversation_id="c1", kind="approved", action_id="a2", tool="t", arguments={})
    head_path(path).write_bytes(older_head)
    found = verification(path)
    assert found.problems == ()
    assert found.notes == (
        "records 3..3 come after the signed head (the app stopped before signing it; the next append signs "
        "them): their deletion would go unnoticed",
    )
    log.append(actor="rep", conversation_id="c1", kind="executed", action_id="a2", tool="t", arguments={})
    assert verification(path).notes == ()
    assert verification(path).head_seq == 4


def _legacy_log(path: Path, count: int) -> None:
    """An audit.sqlite3 as the unkeyed version wrote it: its schema and its hash chain."""
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE records (seq INTEGER PRIMARY KEY AUTOINCREMENT, at TEXT NOT NULL, actor TEXT NOT NULL, "
            "conversation_id TEXT NOT NULL, kind TEXT NOT NULL, action_id TEXT NOT NULL, tool TEXT NOT NULL, "
            "arguments TEXT NOT NULL, result TEXT NOT NULL, citations TEXT NOT NULL, prev_hash TEXT NOT NULL, "
            "hash TEXT NOT NULL)"
        )
        prev = "0" * 64
        for n in range(count):
            content = {
                "at": f"2025-01-0{n + 1}T10:00:00.000+00:00",
                "actor": "rep",
                "conversation_id": "c0",
                "kind": "proposed",
                "action_id": f"old{n}",
                "tool": "cancel_order",
                "arguments": {"order_id": f"NW-{n}"},
                "result": {},
                "citations": [],
            }
            body = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
            digest = hashlib.sha256(f"{prev}\n{body}".encode()).hexdigest()
            db.execute(
                "INSERT INTO records (at, actor, conversation_id, kind, action_id, tool, arguments, result, citations, "
                "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    content["at"],
                    "rep",
                    "c0",
                    "proposed",
                    content["action_id"],
                    "cancel_order",
                    json.dumps(content["arguments"]),
                    "{}",
                    "[]",
                    prev,
                    digest,
                ),
            )
            prev = digest
    db.close()


def test_a_log_of_the_unkeyed_version_opens_says_what_cannot_be_proven_and_is_signed_from_then_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / AUDIT_FILE
    _legacy_log(path, 3)
    log = AuditLog(path)
    before = verification(path)
    assert before.problems == ()
    assert before.notes == (
        "records 1..3 carry no signature (an older version wrote them): their integrity is not provable; the next "
        "append signs the log from there on",
    )
    record = log.append(actor="rep", conversation_id="c1", kind="proposed", action_id="a1", tool="t", arguments={})
    assert record.seq == 4
    after = verification(path)
    assert after.problems == ()
    assert after.notes[0].startswith("records 1..3 were written by an older version without a key")
    # From the upgrade on, the old records are held by the first signed record's link.
    run_sql(path, "UPDATE records SET actor = 'someone else' WHERE seq = 2")
    assert log.verify() == ["record 2: content does not match its hash (edited)"]


def test_an_unsigned_record_after_the_signed_ones_is_named(tmp_path: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE, 3)
    run_sql(tmp_path / AUDIT_FILE, "UPDATE records SET key_id = NULL, signature = NULL WHERE seq = 2")
    assert log.verify() == ["record 2: not signed (added outside the app)"]


def test_rotating_the_key_keeps_older_records_verifiable_and_drops_the_old_private_key(
    tmp_path: Path, key_dir: Path
) -> None:
    log = _filled(tmp_path / AUDIT_FILE, 2)
    key_file = key_dir / f"{AUDIT_FILE}.key"
    old = json.loads(key_file.read_text())
    assert AuditLog(tmp_path / AUDIT_FILE).rotate_key() == str(key_file)  # as `copilot audit rotate-key` does
    log.append(actor="rep", conversation_id="c1", kind="proposed", action_id="a2", tool="t", arguments={})
    _filled(tmp_path / AUDIT_FILE, 1)
    new = json.loads(key_file.read_text())
    assert new["current"] != old["current"]
    assert set(new["public"]) == {old["current"], new["current"]}
    assert old["private"] not in key_file.read_text()
    assert [r.key_id for r in log.records()] == [old["current"]] * 2 + [new["current"]] * 2
    assert log.verify() == []
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


def test_a_copy_of_the_key_without_its_private_half_verifies_but_cannot_sign(tmp_path: Path, key_dir: Path) -> None:
    """What an auditor is given: the log, its head and the public keys; they can check it, not rewrite it."""
    _filled(tmp_path / AUDIT_FILE, 3).close()
    key = json.loads((key_dir / f"{AUDIT_FILE}.key").read_text())
    del key["private"]
    public_only = AuditKeys(tmp_path / "auditor" / f"{AUDIT_FILE}.key", None)
    public_only.file.parent.mkdir()
    public_only.file.write_text(json.dumps(key))
    assert verification(tmp_path / AUDIT_FILE, public_only).problems == ()
    with pytest.raises(CopilotError, match="can verify, not sign"):
        AuditLog(tmp_path / AUDIT_FILE, public_only).append(
            actor="rep", conversation_id="c1", kind="approved", action_id="a9", tool="t", arguments={}
        )
    assert verification(tmp_path / AUDIT_FILE).problems == ()


def test_a_missing_key_is_named_and_appends_stop(tmp_path: Path, key_dir: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE, 2)
    (key_dir / f"{AUDIT_FILE}.key").unlink()
    fresh = AuditLog(tmp_path / AUDIT_FILE)
    assert fresh.verify() == [
        f"no key for this log in {key_dir / (AUDIT_FILE + '.key')}: signatures cannot be checked (restore the key)"
    ]
    with pytest.raises(CopilotError, match="no audit key"):
        fresh.append(actor="rep", conversation_id="c1", kind="approved", action_id="a9", tool="t", arguments={})
    log.close()


def test_a_key_file_others_can_read_is_noted(tmp_path: Path, key_dir: Path) -> None:
    _filled(tmp_path / AUDIT_FILE, 1).close()
    key_file = key_dir / f"{AUDIT_FILE}.key"
    key_file.chmod(0o644)
    found = verification(tmp_path / AUDIT_FILE)
    assert found.problems == ()
    assert found.notes == (f"the key file {key_file} can be read by other users: chmod 600 it",)


class _MemoryKeyring(keyring.backend.KeyringBackend):
    """A keyring that works, as a desktop's Secret Service would; none can run on this headless machine."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.entries[(service, username)]


@pytest.fixture
def working_keyring(monkeypatch: pytest.MonkeyPatch) -> Iterator[_MemoryKeyring]:
    monkeypatch.delenv(KEY_DIR_ENV)
    previous = keyring.get_keyring()
    backend = _MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def test_where_a_keyring_works_the_key_is_kept_there_and_not_in_a_file(
    tmp_path: Path, working_keyring: _MemoryKeyring
) -> None:
    path = tmp_path / "data" / AUDIT_FILE
    log = _filled(path, 2)
    keys = AuditKeys.for_log(path)
    assert keys.file == tmp_path / "data-keys" / f"{AUDIT_FILE}.key"
    assert not keys.file.exists()
    assert list(working_keyring.entries) == [(KEYRING_SERVICE, str(path.resolve()))]
    assert log.verify() == []


def test_without_a_keyring_the_key_file_is_beside_the_data_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(KEY_DIR_ENV)
    path = tmp_path / "data" / AUDIT_FILE
    keys = AuditKeys.for_log(path)
    assert keys.file == tmp_path / "data-keys" / f"{AUDIT_FILE}.key"
    assert keys.keyring_user == str(path.resolve())


def test_export_writes_one_json_line_per_record_and_an_unreadable_row_as_it_is(tmp_path: Path) -> None:
    log = _filled(tmp_path / AUDIT_FILE, 3)
    run_sql(tmp_path / AUDIT_FILE, "UPDATE records SET result = '{not json' WHERE seq = 3")
    out = io.StringIO()
    assert log.export(out) == 3
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line["seq"] for line in lines] == [1, 2, 3]
    assert lines[0]["arguments"] == {"order_id": "NW-1", "amount": 10}
    assert lines[0]["citations"] == [CITATION]
    assert lines[0]["key_id"] and lines[0]["signature"]
    assert lines[2]["unreadable"] == ["result is not valid JSON ('{not json')"]
    assert lines[2]["row"]["result"] == "{not json"
    assert [r.seq for r in log.records()] == [1, 2]


def _cli(*arguments: str, home: Path) -> subprocess.CompletedProcess[str]:
    env = {"COPILOT_HOME": str(home), KEY_DIR_ENV: os.environ[KEY_DIR_ENV], "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "audit", *arguments], env=env, capture_output=True, text=True, timeout=60
    )


def test_cli_verify_export_and_rotate_key(tmp_path: Path) -> None:
    _filled(tmp_path / AUDIT_FILE).close()
    ok = _cli("verify", home=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.splitlines()[-1] == "4 records, chain intact, signed head at record 4"
    exported = _cli("export", "-o", str(tmp_path / "audit.jsonl"), home=tmp_path)
    assert exported.returncode == 0, exported.stderr
    assert len((tmp_path / "audit.jsonl").read_text().splitlines()) == 4
    rotated = _cli("rotate-key", home=tmp_path)
    assert rotated.returncode == 0, rotated.stderr
    assert "records are signed with a new key from now on" in rotated.stdout
    run_sql(tmp_path / AUDIT_FILE, "UPDATE records SET actor = 'someone else' WHERE seq = 1")
    bad = _cli("verify", home=tmp_path)
    assert bad.returncode == 1
    assert bad.stdout.splitlines() == [
        "record 1: content does not match its hash (edited)",
        "4 records, 1 problem(s): the log was changed outside the app",
    ]
