"""Wrap-up through the replay's pipeline over the demo pack: root causes from the taxonomy, the outcome, a
summary with citations and the CSAT message in the customer's language; `copilot wrapup` headless."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from copilot.pipeline import Pipeline
from copilot.workspace import Workspace
from copilot.wrapup import wrap_up_file
from tests.conftest import demo_conversation
from tests.qa.conftest import write_conversation


def test_wrapup_of_a_bereavement(workspace: Workspace) -> None:
    wrapup, errors = wrap_up_file(demo_conversation("bereavement"), Pipeline(workspace))
    assert errors == []
    assert wrapup.tags[0].id == "customer-circumstances"
    assert wrapup.outcome in ("escalated", "follow_up", "resolved", "pending")
    assert wrapup.summary.startswith("Helen Carter") and "Policy: [northwind-retail@" in wrapup.summary
    assert wrapup.citations and all(c.startswith("northwind-retail@") for c in wrapup.citations)
    assert wrapup.csat.startswith("Hi Helen, thanks for contacting Northwind Goods")


def test_wrapup_outcomes_and_language(workspace: Workspace, tmp_path: Path) -> None:
    pipeline = Pipeline(workspace)
    spanish, _ = wrap_up_file(demo_conversation("spanish-speaker"), pipeline)
    assert spanish.language == "es" and spanish.csat.startswith("Hola ")
    handed = write_conversation(
        tmp_path,
        "legal",
        [
            ("customer", "This is the third time. I'm going to take legal action against you."),
            ("rep", "I understand. I've passed this to our team lead, who will contact you by email today."),
            ("end", None),
        ],
    )
    assert wrap_up_file(handed, pipeline)[0].outcome == "escalated"
    later = write_conversation(
        tmp_path,
        "later",
        [
            ("customer", "My parcel is late, order NW-10482."),
            ("rep", "I'll email you tomorrow once the carrier replies."),
        ],
    )
    wrapup, _ = wrap_up_file(later, pipeline)
    assert wrapup.outcome == "follow_up" and "carrier-delay" in [t.id for t in wrapup.tags]


def test_wrapup_command_prints_json(demo_home: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "wrapup", str(demo_conversation("double-charge")), "--json"],
        capture_output=True,
        text=True,
        env={**os.environ, "COPILOT_HOME": str(demo_home)},
        timeout=600,
        check=True,
    )
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(record) == {
        "conversation_id",
        "root_causes",
        "outcome",
        "why",
        "summary",
        "citations",
        "csat",
        "language",
    }
    assert record["root_causes"][0]["id"] == "billing-error"
    assert record["outcome"] in ("resolved", "escalated", "pending", "follow_up")
