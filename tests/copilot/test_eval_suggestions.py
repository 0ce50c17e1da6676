"""`copilot eval suggestions` as a user runs it: recorded airline conversations replayed against the airline
fixture server, scored on whether the copilot proposed the agent's writes in time and with its arguments."""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from copilot.action_policy import pack_policy
from copilot.actions.proposals import Proposal
from copilot.actions.verdict import Verdict
from copilot.suggestions_eval import Matcher, Write
from retrieval.packs import load_pack
from tests.conftest import BENCHDATA, REPO
from tests.copilot.test_cli import copilot

AIRLINE = BENCHDATA / "airline"
RECORDED = pytest.mark.skipif(not AIRLINE.exists(), reason="../shared/benchdata is not beside this checkout")
"""The recorded airline conversations live only in the shared benchdata; the airline fixture server does not."""
SOLVED = ("taubench-airline-gpt-4o-task001-t1", "taubench-airline-gpt-4o-task043-t0")
"""A cancellation for an insured customer who feels unwell, and a passenger's new last name."""


def arguments(conversations: Path, outcomes: Path) -> list[str]:
    server = f"{sys.executable} -m tests.fixtures.airline.server --state {{state}}"
    return [
        "eval", "suggestions", "--conversations", str(conversations), "--outcomes", str(outcomes),
        "--pack", str(REPO / "resources" / "packs" / "airline"), "--server", server, "--json",
    ]  # fmt: skip


@RECORDED
def test_solved_conversations_are_scored_per_tool(tmp_path: Path) -> None:
    conversations = tmp_path / "conversations"
    conversations.mkdir()
    for name in SOLVED:
        shutil.copy(AIRLINE / "conversations" / f"{name}.jsonl", conversations)
    outcomes = tmp_path / "outcomes.jsonl"
    lines = [json.loads(line) for line in (AIRLINE / "outcomes.jsonl").read_text().splitlines()]
    unsolved = next(line for line in lines if line["reward"] == 0)  # its file is absent: never read
    outcomes.write_text("".join(json.dumps(line) + "\n" for line in lines if line["id"] in SOLVED or line is unsolved))

    done = copilot(*arguments(conversations, outcomes), home=tmp_path / "home")

    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["conversations"] == 2
    assert {"name_recall", "exact_recall", "extra_per_conversation"} <= set(result["overall"])
    assert set(result["by_tool"]) >= {"cancel_reservation", "update_reservation_passengers"}
    assert result["overall"]["writes"] == 2
    assert result["overall"]["name_recall"] == 1.0
    cancel = result["by_tool"]["cancel_reservation"]
    assert cancel["exact_recall"] == 1.0  # Z7GOZK, the reservation the customer's return flight is on
    assert "cancel_reservation" in done.stdout and "all" in done.stdout
    passengers = next(m for m in result["misses"] if m["tool"] == "update_reservation_passengers")
    assert "why" in passengers  # the diagnostic: what stood in the copilot's way


@RECORDED
def test_only_measures_the_conversations_it_names_and_names_an_unknown_one(tmp_path: Path) -> None:
    outcomes = AIRLINE / "outcomes.jsonl"
    done = copilot(*arguments(AIRLINE / "conversations", outcomes), "--only", SOLVED[0], home=tmp_path / "home")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1])["conversations"] == 1

    wrong = copilot(*arguments(AIRLINE / "conversations", outcomes), "--only", "nope", home=tmp_path / "home")
    assert wrong.returncode == 2 and "only" in wrong.stderr and "nope" in wrong.stderr
    assert "Traceback" not in wrong.stderr


def test_arguments_are_compared_by_the_tools_schema() -> None:
    """Fields the tool's schema does not name (an agent's ``origin`` in each flight) are not compared."""
    policy = pack_policy(load_pack(REPO / "resources" / "packs" / "airline"), "airline")
    listed = json.loads((REPO / "tests" / "fixtures" / "airline" / "tool_schemas.json").read_text())
    schemas = {s["name"]: s["parameters"] for s in listed}
    flights = [{"flight_number": "HAT056", "date": "2024-05-25"}]
    agent = Write("update_reservation_flights", {"reservation_id": "FQ8APE", "flights": [
        {**flights[0], "origin": "EWR"}]}, 0, 0)  # fmt: skip
    proposal = Proposal("p", "c", "update_reservation_flights", {"reservation_id": "FQ8APE", "flights": flights},
                        "", (), Verdict("allowed"))  # fmt: skip

    assert Matcher(policy, schemas).exact(proposal, agent)
    assert not Matcher(policy).exact(proposal, agent)


def test_an_outcome_line_without_a_reward_is_named(tmp_path: Path) -> None:
    outcomes = tmp_path / "outcomes.jsonl"
    outcomes.write_text(json.dumps({"id": SOLVED[0], "reward": "yes"}) + "\n")
    done = copilot(*arguments(tmp_path, outcomes), home=tmp_path / "home")
    assert done.returncode == 2
    assert f"{outcomes}:1" in done.stderr and "reward" in done.stderr
    assert "Traceback" not in done.stderr
