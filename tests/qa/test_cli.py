"""`copilot qa`, `copilot bench --qa`: exit codes, the JSON shape, the table and the progress bar, run as the
command runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.qa.conftest import AIRLINE_PACK, write_conversation


def copilot(*args: str, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COPILOT_HOME": str(home)},
        timeout=600,
        check=False,
    )


def conversations(folder: Path, cancel_without_yes: bool) -> Path:
    folder.mkdir()
    identified = ("call", ("get_user_details", {"user_id": "ana_ruiz_1234"}))
    listed = ("rep", "I'll cancel reservation NO6JO3. Shall I go ahead?")
    cancel = ("call", ("cancel_reservation", {"reservation_id": "NO6JO3"}))
    write_conversation(
        folder, "ok", [("customer", "Cancel NO6JO3"), identified, listed, ("customer", "Yes, go ahead."), cancel]
    )
    if cancel_without_yes:
        write_conversation(folder, "hasty", [("customer", "Cancel NO6JO3"), identified, listed, cancel])
    return folder


def test_qa_json_lists_rates_failures_and_exits_1(tmp_path: Path) -> None:
    done = copilot("qa", str(conversations(tmp_path / "c", True)), "--pack", str(AIRLINE_PACK), "--json", home=tmp_path)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"pack", "conversations", "checks", "root_causes", "anomalies"}
    assert result["pack"] == "airline@2024.5" and result["conversations"] == 2
    confirmed = result["checks"]["action-confirmed"]
    assert (confirmed["applies"], confirmed["passed"], confirmed["failed"], confirmed["pass_rate"]) == (2, 1, 1, 0.5)
    assert confirmed["failures"] == [
        {
            "check": "action-confirmed",
            "conversation": "hasty",
            "seq": 4,
            "reason": "cancel_reservation ran without the customer's yes (they last said “Cancel NO6JO3”)",
            "citation": "airline@2024.5#general.confirm-before-update",
        }
    ]
    assert result["checks"]["ai-disclosure"]["pass_rate"] is None  # applies nowhere in the US outside California
    assert "conversations [##############################] 2/2" in done.stderr


def test_qa_table_and_exit_0_when_everything_passes(tmp_path: Path) -> None:
    done = copilot("qa", str(conversations(tmp_path / "c", False)), "--pack", str(AIRLINE_PACK), home=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "1 conversations, pack airline@2024.5" in done.stdout
    assert any(line.split() == ["action-confirmed", "1", "1", "100.0%"] for line in done.stdout.splitlines())


def test_qa_bad_sources_are_clear_errors(tmp_path: Path) -> None:
    missing = copilot("qa", str(tmp_path / "nowhere"), home=tmp_path)
    assert missing.returncode == 2 and "no such folder or file" in missing.stderr and "Traceback" not in missing.stderr
    (tmp_path / "empty").mkdir()
    empty = copilot("qa", str(tmp_path / "empty"), home=tmp_path)
    assert empty.returncode == 2 and "no conversation files (*.jsonl)" in empty.stderr


def test_bench_qa_prints_its_numbers(tmp_path: Path) -> None:
    done = copilot("bench", "--qa", "--qa-conversations", "600", "--json", home=tmp_path)
    assert done.returncode == 0, done.stderr
    qa = json.loads(done.stdout.strip().splitlines()[-1])["qa"]
    assert qa["conversations"] == 600 and qa["seconds"] > 0 and len(qa["load_average"]) == 3
    assert "generating [" in done.stderr and "conversations [" in done.stderr
