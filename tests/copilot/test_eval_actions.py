"""`copilot eval actions` as a user runs it, on the airline fixture server: a task's ground-truth writes
run first, each case gets a fresh server, and a case line that is not a case is named by file and line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.conftest import REPO
from tests.copilot.test_cli import copilot

FIXTURE = REPO / "tests" / "fixtures" / "airline"
CASES = [
    # chen_jackson_3290's business reservation: any reason, any time
    {"id": "own", "task": None, "identity": {"user_id": "chen_jackson_3290"},
     "action": {"name": "cancel_reservation", "arguments": {"reservation_id": "4WQ150"}}, "expected": "allow",
     "rule": "cancel"},
    {"id": "anon", "task": None, "identity": None,
     "action": {"name": "cancel_reservation", "arguments": {"reservation_id": "4WQ150"}}, "expected": "block",
     "rule": "identity"},
    {"id": "other", "task": None, "identity": {"user_id": "mia_li_3668"},
     "action": {"name": "cancel_reservation", "arguments": {"reservation_id": "4WQ150"}}, "expected": "block",
     "rule": "ownership"},
]  # fmt: skip


def arguments(cases: Path) -> list[str]:
    server = f"{sys.executable} -m tests.fixtures.airline.server --state {{state}} --task {{task}}"
    return [
        "eval", "actions", "--pack", str(REPO / "resources" / "packs" / "airline"), "--server", server,
        "--tasks", str(FIXTURE / "tasks.json"), "--cases", str(cases), "--json",
    ]  # fmt: skip


def test_eval_actions_scores_cases_on_fresh_servers(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text("".join(json.dumps(case) + "\n" for case in CASES))
    done = copilot(*arguments(cases), home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["valid_allowed"] == 1.0 and result["invalid_blocked"] == 1.0
    assert set(result["by_rule"]) == {"cancel", "identity", "ownership"}
    assert result["mistakes"] == []


def test_a_bad_case_line_is_named(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text(json.dumps({**CASES[0], "expected": "maybe"}) + "\n")
    done = copilot(*arguments(cases), home=tmp_path / "home")
    assert done.returncode == 2
    assert f"{cases}:1" in done.stderr and "expected" in done.stderr
    assert "Traceback" not in done.stderr


def test_replay_with_a_described_system_looks_up_and_proposes_in_its_own_terms(tmp_path: Path) -> None:
    """The airline pack's systems.toml finds the user and reservation ids in the chat; its actions.toml
    judges the cancellation its paths call for, with arguments from the looked-up reservation."""
    home = tmp_path / "home"
    home.mkdir()
    command = [sys.executable, "-m", "tests.fixtures.airline.server", "--state", str(tmp_path / "state")]
    (home / "connectors.toml").write_text(
        f'[[system]]\nname = "airline"\ntransport = "stdio"\ncommand = {json.dumps(command)}\n'
        'pre_approved = ["get_user_details", "get_reservation_details"]\n'
    )
    header = {"type": "conversation", "id": "c1", "channel": "chat", "jurisdiction": "US-NY",
              "started_at": "2024-05-15T15:00:00Z"}  # fmt: skip
    texts = [
        ("customer", "Hi, I want to cancel my reservation 4WQ150. My user id is chen_jackson_3290."),
        ("rep", "Thanks, let me look at reservation 4WQ150."),
        ("rep", "4WQ150 is a business reservation, so I can cancel it with a full refund. Shall I cancel 4WQ150?"),
        ("customer", "Yes, please do."),
    ]
    lines = [header] + [
        {"type": "message", "conversation_id": "c1", "seq": n, "role": role, "text": text,
         "ts": f"2024-05-15T15:0{n}:00Z"}
        for n, (role, text) in enumerate(texts, start=1)
    ]  # fmt: skip
    conversation = tmp_path / "c1.jsonl"
    conversation.write_text("".join(json.dumps(line) + "\n" for line in lines))
    pack = str(REPO / "resources" / "packs" / "airline")
    done = copilot("replay", str(conversation), "--pack", pack, "--store", "connected", "--json", home=home)
    assert done.returncode == 0, done.stderr
    proposals = [p for line in done.stdout.splitlines() for p in json.loads(line).get("proposals", [])]
    cancel = [p for p in proposals if p["tool"] == "cancel_reservation"]
    assert cancel and cancel[-1]["arguments"] == {"reservation_id": "4WQ150"}
    # the customer asked; the rep stated the change; only the customer's yes lets it run
    assert [(p["verdict"], p["rule"]) for p in cancel[:-1]] == [("blocked", "customer-confirmed")] * (len(cancel) - 1)
    assert cancel[-1]["verdict"] == "allowed"  # a business reservation of the identified user, confirmed
