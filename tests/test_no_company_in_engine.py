"""The engine knows no company: no clause id, tool name, id pattern or name of the demo company appears in
copilot/, retrieval/, connectors/ (the demo store's own server aside) or ui/. The demo's behaviour belongs
in its pack (systems.toml, actions.toml, rules.toml, escalation.toml), and which pack the demo opens is
named in resources/demo.toml."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from connectors.demo_store.store import DemoStore
from copilot.settings import DEMO_PACK
from tests.conftest import REPO

ENGINE = ("copilot", "retrieval", "connectors", "ui")


def demo_words() -> re.Pattern[str]:
    ids = {i for f in (DEMO_PACK / "clauses").glob("*.md") for i in re.findall(r"\{#([a-z0-9._-]+)", f.read_text())}
    with tempfile.TemporaryDirectory() as folder:
        tools = {t.name for t in DemoStore(Path(folder) / "store.sqlite3").tools()}
    # A clause id counts as a whole id only: `escalation.handoff_requested` is no mention of `escalation.handoff`.
    terms = [rf"(?<![\w.]){re.escape(i)}(?![\w-])" for i in ids]
    terms += [rf"\b{re.escape(t)}\b" for t in tools] + ["northwind", r"\bNW\b"]
    return re.compile("|".join(terms), re.IGNORECASE)


def test_the_engine_names_no_clause_tool_id_or_name_of_the_demo_company() -> None:
    words = demo_words()
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for package in ENGINE
        for path in sorted((REPO / package).rglob("*.py"))
        if "demo_store" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if words.search(line)
    ]
    assert not found, "\n".join(found)
