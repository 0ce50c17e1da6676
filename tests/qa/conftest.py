"""QA tests: conversations written as event files (the real reader reads them) and the packs' own qa.toml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from copilot.qa.policy import QaPolicy, qa_policy
from copilot.settings import DEMO_PACK, RESOURCES
from retrieval.packs import load_pack

AIRLINE_PACK = RESOURCES / "packs" / "airline"


def write_conversation(
    folder: Path, name: str, steps: list[tuple[str, Any]], jurisdiction: str = "US", day: str = "2026-11-20"
) -> Path:
    """An event file: ``("customer"|"rep", text)``, ``("call", (tool, arguments))``, ``("result", (tool, content))``,
    ``("end", None)`` (a ``conversation_end`` event), numbered in order."""
    lines: list[dict[str, Any]] = [
        {
            "type": "conversation",
            "id": name,
            "customer": {"name": "Ana Ruiz"},
            "jurisdiction": jurisdiction,
            "started_at": f"{day}T10:00:00Z",
        }
    ]
    for seq, (kind, value) in enumerate(steps, start=1):
        common = {"conversation_id": name, "seq": seq}
        if kind in ("customer", "rep"):
            lines.append({"type": "message", **common, "role": kind, "text": value})
        elif kind == "call":
            lines.append({"type": "tool_call", **common, "name": value[0], "arguments": value[1]})
        elif kind == "result":
            lines.append({"type": "tool_result", **common, "name": value[0], "content": value[1]})
        else:
            lines.append({"type": "conversation_end", "conversation_id": name})
    path = folder / f"{name}.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def demo_qa() -> QaPolicy:
    policy = qa_policy(load_pack(DEMO_PACK), str(DEMO_PACK))
    assert policy is not None
    return policy


@pytest.fixture(scope="session")
def airline_qa() -> QaPolicy:
    policy = qa_policy(load_pack(AIRLINE_PACK), str(AIRLINE_PACK))
    assert policy is not None
    return policy


from tests.records.conftest import postgres_server, records_url  # noqa: E402, F401  (QA reads both backends)
