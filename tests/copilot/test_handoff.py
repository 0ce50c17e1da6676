"""`copilot handoff`: the package a colleague needs, headless, as one JSON line or Markdown."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import demo_conversation


def handoff(demo_home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "handoff", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COPILOT_HOME": str(demo_home)},
        timeout=300,
        check=True,
    )


def test_handoff_json_has_every_part(demo_home: Path) -> None:
    done = handoff(demo_home, str(demo_conversation("bereavement")), "--json")
    record = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(record) >= {"summary", "sentiment", "escalations", "paths", "citations", "suggested_response"}
    assert set(record["sentiment"]) == {"score", "trend"} and record["sentiment"]["trend"] in {
        "rising",
        "falling",
        "steady",
    }
    assert "bereavement" in [e["category"] for e in record["escalations"]]
    assert record["summary"].startswith("Helen Carter") and "“" in record["summary"]
    assert record["citations"] and all(c.startswith("northwind-retail@") for c in record["citations"])
    assert record["paths"] and record["suggested_response"].startswith("Hi Helen")


def test_handoff_markdown_for_a_person(demo_home: Path) -> None:
    text = handoff(demo_home, str(demo_conversation("chargeback-threat"))).stdout
    assert text.startswith("## Handoff:") and "**Escalation**" in text and "**Suggested response**" in text
