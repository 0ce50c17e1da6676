"""Team desks wired as the app wires them (copilot/actions/ledger.py): two desks approving the same action give one
effect at the store, both write records and audit entries to the team database, and `copilot audit verify` checks
the team's one chain, naming a forged row."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import insert, select, text

from base.errors import ToolRefused
from connectors.demo_store.store import DemoStore
from copilot.actions.audit import _content, _digest
from copilot.actions.claims import ActionClaims, ClaimedSystems
from copilot.actions.connections import DEMO_LOOKUPS, connect, demo_store
from copilot.actions.ledger import desk_name, open_desk
from copilot.actions.team_audit import TeamAuditLog, _columns, team_keys
from copilot.records.database import engine_for
from copilot.records.team_tables import audit_heads, audit_records
from copilot.settings import DEMO_PACK, Settings
from tests.conftest import demo_conversation
from tests.team.conftest import ROOT, run_copilot, team_desk

UNUSED_CHROMA = "http://127.0.0.1:9"
"""A Chroma URL for desks that never search (the settings need one in team mode)."""
CANCEL = {"order_id": "NW-11730", "reason": "The customer asked before it shipped.", "idempotency_key": "copilot-k1"}


def test_two_desks_calling_the_same_keyed_write_run_it_once(
    tmp_path: Path, team_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COPILOT_AUDIT_KEY_DIR", str(tmp_path / "keys"))
    homes = [team_desk(tmp_path / name, team_database, UNUSED_CHROMA, user_name=name) for name in ("ana", "ben")]
    store = demo_store(tmp_path)  # one store (its SQLite file), a client process per desk

    async def run() -> list[dict[str, object] | BaseException]:
        desks = [open_desk(home, Settings.load(home), connect((store,))) for home in homes]
        try:
            assert all(isinstance(d.systems, ClaimedSystems) and isinstance(d.audit, TeamAuditLog) for d in desks)
            await asyncio.gather(*(d.systems.tools() for d in desks))
            return await asyncio.gather(
                *(d.systems.call("cancel_order", dict(CANCEL)) for d in desks), return_exceptions=True
            )
        finally:
            for desk in desks:
                await desk.systems.aclose()
                desk.close()

    results = asyncio.run(run())
    ran = [r for r in results if isinstance(r, dict)]
    refused = [r for r in results if isinstance(r, ToolRefused)]
    assert len(ran) == 1 and len(refused) == 1, results
    assert not ran[0].get("replayed"), "the second desk never reached the store"
    winner = homes[results.index(ran[0])]
    assert str(refused[0]).startswith(f"{desk_name(winner, Settings.load(winner))} ran this action first")
    effects = DemoStore(tmp_path / "demo-store.sqlite3")
    try:
        assert effects.count_effects("cancel_order") == 1
    finally:
        effects.close()
    engine = engine_for(team_database)
    try:
        claim = ActionClaims(engine, desk_name(winner, Settings.load(winner))).claim("copilot-k1", "cancel_order")
        assert claim.ours and claim.outcome == "done"  # the winner may retry its own run; the outcome is on record
    finally:
        engine.dispose()


def test_audit_verify_names_a_team_database_out_of_reach(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_AUDIT_KEY_DIR", str(tmp_path / "keys"))
    home = team_desk(tmp_path / "ana", "postgresql://nobody@127.0.0.1:9/copilot", UNUSED_CHROMA)
    done = run_copilot(home, "audit", "verify", check=False)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "the records database postgresql+psycopg://nobody@127.0.0.1:9/copilot cannot be opened" in done.stdout


def test_two_apps_approving_the_same_action_give_one_effect_and_one_verified_chain(
    tmp_path: Path, team_database: str, chroma_server: str
) -> None:
    env = {"COPILOT_AUDIT_KEY_DIR": str(tmp_path / "keys"), "QT_QPA_PLATFORM": "offscreen", "STORE_TOKEN": "-"}
    admin = team_desk(tmp_path / "admin", team_database, chroma_server)
    run_copilot(admin, "packs", "load", str(DEMO_PACK), "--activate", **env)
    store_db = tmp_path / "store.sqlite3"
    server = subprocess.Popen(
        [sys.executable, "-m", "connectors.demo_store.server", "--db", str(store_db), "--http"],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert server.stdout is not None
        url = server.stdout.readline().split()[-1]
        homes = {
            name: team_desk(tmp_path / name, team_database, chroma_server, user_name=name) for name in ("ana", "ben")
        }
        for home in homes.values():
            (home / "connectors.toml").write_text(
                f'[[system]]\nname = "store"\ntransport = "http"\nurl = "{url}"\ntoken_env = "STORE_TOKEN"\n'
                f"timeout_s = 60\npre_approved = {json.dumps(list(DEMO_LOOKUPS))}\n",
                encoding="utf-8",
            )
        gate = tmp_path / "gate"
        gate.mkdir()
        apps = {
            name: subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.team.desk_app",
                    str(demo_conversation("cancellation")),
                    "cancel_order",
                    str(gate),
                    str(tmp_path / f"{name}.png"),
                ],
                env={**os.environ, **env, "COPILOT_HOME": str(home)},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                cwd=ROOT,
            )
            for name, home in homes.items()
        }
        deadline = time.monotonic() + 600
        while not all((gate / f"ready-{name}").exists() for name in apps):
            failed = [app.communicate()[1] for app in apps.values() if app.poll() is not None]
            assert not failed and time.monotonic() < deadline, failed or "the desks never offered the action"
            time.sleep(0.2)
        (gate / "go").touch()  # both approve at once
        ends = {}
        for name, app in apps.items():
            out, errors = app.communicate(timeout=300)
            assert app.returncode == 0, errors
            ends[name] = json.loads(out.strip().splitlines()[-1])
    finally:
        server.terminate()
        server.communicate(timeout=30)

    assert len({end["action"] for end in ends.values()}) == 1, "both desks proposed the same action"
    assert sorted(end["state"] for end in ends.values()) == ["done", "failed"], ends
    winner = next(name for name, end in ends.items() if end["state"] == "done")
    loser = next(name for name in ends if name != winner)
    # Refused by the claim, or (when the winner had finished before) by the fresh re-check of the cancelled order.
    claimed_by = desk_name(homes[winner], Settings.load(homes[winner]))
    assert ends[loser]["message"].startswith(claimed_by) or "record changed" in ends[loser]["message"], ends
    effects = DemoStore(store_db)
    try:
        assert effects.count_effects("cancel_order") == 1
        assert effects.call("get_order", {"order_id": "NW-11730"})["status"] == "cancelled"
    finally:
        effects.close()

    os.environ["COPILOT_AUDIT_KEY_DIR"] = env["COPILOT_AUDIT_KEY_DIR"]
    engine = engine_for(team_database)
    try:
        records = TeamAuditLog(engine, team_keys(homes["ana"])).records()
        with engine.connect() as db:
            reps = {r[0] for r in db.execute(text("SELECT DISTINCT rep FROM cards"))}
    finally:
        del os.environ["COPILOT_AUDIT_KEY_DIR"]
    cancel = [r for r in records if r.tool == "cancel_order"]
    assert {r.actor for r in cancel if r.kind == "approved"} == {"ana", "ben"}
    assert [r.kind for r in cancel].count("executed") == 1
    assert reps >= {"ana", "ben"}, "both desks write their records to the team database"

    verified = run_copilot(homes["ben"], "audit", "verify", **env)
    assert verified.stdout.strip().endswith(
        f"{len(records)} records, chain intact, signed head at record {len(records)}"
    )

    last = records[-1]
    forged = replace(last, seq=last.seq + 1, actor="mallory", prev_hash=last.hash)  # its signature: the last one's
    forged = replace(forged, hash=_digest(last.hash, _content(forged)))
    try:
        with engine.begin() as db:
            log_id = db.execute(select(audit_heads.c.log)).scalar_one()
            db.execute(insert(audit_records).values(log=log_id, **_columns(forged)))
    finally:
        engine.dispose()
    found = run_copilot(homes["ana"], "audit", "verify", check=False, **env)
    assert found.returncode == 1, found.stdout + found.stderr
    assert f"record {last.seq + 1}: signature does not match (edited, forged or renumbered)" in found.stdout
    assert f"{len(records) + 1} records, 1 problem(s)" in found.stdout
