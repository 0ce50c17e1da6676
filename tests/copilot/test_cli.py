"""The `copilot` command as a user runs it: replay JSON, the headless guard of `run`, and screenshots."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BENCHDATA, demo_conversation


def copilot(
    *args: str, home: Path, extra_env: dict[str, str] | None = None, drop: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update({"COPILOT_HOME": str(home), **(extra_env or {})})
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args], capture_output=True, text=True, env=env, timeout=300, check=False
    )


def test_replay_json_prints_one_cited_line_per_message_without_qt(demo_home: Path, tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text(
        "import sys, runpy\nsys.argv = ['copilot', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('cli.main', run_name='__main__')\n"
        "except SystemExit:\n    pass\n"
        "print('QT_LOADED' if any(m.startswith('PySide6') for m in sys.modules) else 'NO_QT', file=sys.stderr)\n"
    )
    env = {**os.environ, "COPILOT_HOME": str(demo_home)}
    done = subprocess.run(
        [sys.executable, str(probe), "replay", str(demo_conversation("cancellation")), "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=True,
    )
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert len(lines) == 14 and [line["seq"] for line in lines] == sorted(line["seq"] for line in lines)
    assert {"seq", "role", "clauses", "timings_ms"} <= set(lines[0])
    assert set(lines[0]["timings_ms"]) == {
        "embed",
        "search",
        "language",
        "signals",
        "escalation",
        "suggest",
        "draft",
        "flags",
        "retrieval_wait",
        "verify",
        "total",
    }
    assert {"escalations", "flags", "intent", "suggestions", "draft", "grounded"} <= set(lines[0])
    cited = [c for line in lines for c in line["clauses"]]
    assert cited and all(c["citation"].startswith("northwind-retail@2025.6#") and c["title"] for c in cited)
    assert "cancellations.before-shipping" in {c["citation"].split("#")[1] for c in lines[0]["clauses"]}
    assert "NO_QT" in done.stderr and "customer messages with a clause" in done.stderr


def test_replay_runs_on_external_airline_conversations_with_tool_events(demo_home: Path) -> None:
    files = sorted((BENCHDATA / "airline" / "conversations").glob("*.jsonl"))
    if not files:
        pytest.skip("../shared/benchdata is not beside this checkout")
    done = copilot(
        "replay", str(files[0]), "--json", "--pack", str(BENCHDATA / "airline" / "policy.md"), home=demo_home
    )
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    messages = sum('"type": "message"' in line for line in files[0].read_text().splitlines())
    assert len(lines) == messages
    assert any(c["citation"].startswith("policy@1.0#") for line in lines for c in line["clauses"])
    assert "skipped" not in done.stderr


def test_replay_reports_bad_lines_and_plays_the_rest(demo_home: Path, tmp_path: Path) -> None:
    source = demo_conversation("order-status").read_text().splitlines()
    broken = tmp_path / "broken.jsonl"
    broken.write_text("\n".join([source[0], '{"type":"message","seq":1}', *source[1:]]))
    done = copilot("replay", str(broken), "--json", home=demo_home)
    assert done.returncode == 0
    assert "broken.jsonl:2: field 'conversation_id'" in done.stderr
    assert len(done.stdout.splitlines()) == 10


def test_a_broken_pack_is_a_clear_error(demo_home: Path, tmp_path: Path) -> None:
    (tmp_path / "pack" / "clauses").mkdir(parents=True)
    (tmp_path / "pack" / "pack.toml").write_text('[pack]\nname = "x"\n')
    done = copilot("replay", str(demo_conversation("order-status")), "--pack", str(tmp_path / "pack"), home=demo_home)
    assert done.returncode == 2
    assert "pack.toml" in done.stderr and "missing manifest field 'version'" in done.stderr
    assert "Traceback" not in done.stderr


def test_run_without_a_display_names_the_headless_commands(tmp_path: Path) -> None:
    done = copilot("run", home=tmp_path / "home", drop=("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"))
    assert done.returncode == 2
    assert "No display found" in done.stderr and "copilot replay" in done.stderr
    assert "qt.qpa" not in done.stderr and "Traceback" not in done.stderr


def test_screenshot_renders_the_panel_from_an_empty_home(tmp_path: Path) -> None:
    out = tmp_path / "panel.png"
    done = copilot(
        "screenshot",
        str(out),
        "--conversation",
        str(demo_conversation("double-charge")),
        "--upto",
        "3",
        home=tmp_path / "empty-home",
        extra_env={"QT_QPA_PLATFORM": "offscreen"},
    )
    assert done.returncode == 0, done.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(out))
    assert not image.isNull() and 380 <= image.width() <= 480 and image.height() > 500


def test_replay_with_the_demo_store_adds_proposals_and_audits_them(demo_home: Path) -> None:
    from copilot.actions.audit import AUDIT_FILE, AuditLog

    done = copilot("replay", str(demo_conversation("cancellation")), "--json", "--store", "demo", home=demo_home)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    first = lines[0]["proposals"]
    assert first == [
        {
            "tool": "cancel_order",
            "arguments": {"order_id": "NW-11730", "reason": "Cancel before it ships"},
            "verdict": "allowed",
            "approver_role": "",
            "rule": "",
            "clause": "",
        }
    ]
    assert all("proposals" in line for line in lines)
    audit = AuditLog(demo_home / AUDIT_FILE)
    proposed = [r for r in audit.records() if r.kind == "proposed"]
    assert {r.tool for r in proposed} >= {"cancel_order"}
    assert len(proposed) == len({r.action_id for r in proposed}), "each proposal is recorded once"
    assert not [r for r in audit.records() if r.kind in ("executing", "executed")], "replay executes nothing"
    assert audit.verify() == []
    assert (demo_home / "demo-store.sqlite3").exists()
