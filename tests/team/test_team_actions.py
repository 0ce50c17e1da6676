"""Two desks (real processes) on one team database: both approve the same actions at once, exactly one runs each
(its idempotency key claimed in the database), and every desk's audit entries verify as one chain."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from copilot.actions.team_audit import TeamAuditLog, team_keys
from copilot.records.database import engine_for, upgrade

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = 40

DESK = """
import sys
from pathlib import Path
from copilot.actions.claims import ActionClaims
from copilot.actions.team_audit import TeamAuditLog, team_keys
from copilot.records.database import engine_for

desk, url, home, count = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
engine = engine_for(url)
log, claims = TeamAuditLog(engine, team_keys(home)), ActionClaims(engine, desk)
for number in range(count):
    action = f"action-{number}"
    common = dict(conversation_id="c-1", action_id=action, tool="refund", arguments={"order": number})
    log.append(actor=desk, kind="approved", **common)
    if claims.claim(action, "refund").ours:
        log.append(actor=desk, kind="executed", result={"by": desk}, **common)
        claims.settle(action, "done")
"""


def test_two_desks_approving_the_same_actions_run_each_once_and_write_one_chain(
    tmp_path: Path, team_database: str
) -> None:
    engine = engine_for(team_database)
    upgrade(engine)
    keys = tmp_path / "keys"
    desks = [
        subprocess.Popen(
            [sys.executable, "-c", DESK, name, team_database, str(tmp_path / name), str(ACTIONS)],
            env={**os.environ, "COPILOT_AUDIT_KEY_DIR": str(keys)},
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("ana", "ben")
    ]
    for desk in desks:
        _, errors = desk.communicate(timeout=300)
        assert desk.returncode == 0, errors

    os.environ["COPILOT_AUDIT_KEY_DIR"] = str(keys)
    try:
        log = TeamAuditLog(engine, team_keys(tmp_path))
        assert log.verify() == []
        records = log.records()
    finally:
        del os.environ["COPILOT_AUDIT_KEY_DIR"]
        engine.dispose()
    assert [r.seq for r in records] == list(range(1, 3 * ACTIONS + 1))  # one chain, nothing forked or lost
    assert {r.actor for r in records if r.kind == "approved"} == {"ana", "ben"}
    executed = Counter(r.action_id for r in records if r.kind == "executed")
    assert executed == Counter({f"action-{n}": 1 for n in range(ACTIONS)})  # one effect per action


def test_an_edited_team_record_is_named(tmp_path: Path, team_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_AUDIT_KEY_DIR", str(tmp_path / "keys"))
    engine = engine_for(team_database)
    upgrade(engine)
    log = TeamAuditLog(engine, team_keys(tmp_path))
    for kind in ("proposed", "approved", "executed"):
        log.append(actor="ana", conversation_id="c", kind=kind, action_id="a", tool="refund", arguments={"n": 1})
    with engine.begin() as db:
        db.exec_driver_sql("UPDATE audit_records SET arguments = '{\"n\": 1000}' WHERE seq = 2")
    try:
        assert log.verify() == ["record 2: content does not match its hash (edited)"]
    finally:
        engine.dispose()
