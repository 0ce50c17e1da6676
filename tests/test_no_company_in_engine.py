"""The engine knows no company: no clause id, tool name, id pattern or name of the demo company appears in
copilot/, retrieval/, connectors/ (the demo store's own server aside) or ui/. The demo's behaviour belongs
in its pack (systems.toml, actions.toml, rules.toml, escalation.toml).

Moving it there is under way: today's count is a ceiling that may only fall, and the goal is zero."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from connectors.demo_store.store import DemoStore
from tests.conftest import REPO

DEMO_PACK = REPO / "resources" / "packs" / "northwind-retail"
ENGINE = ("copilot", "retrieval", "connectors", "ui")
CEILING = 70
"""Lines naming the demo company on the day this test was written; lower it as they move into the pack."""


def demo_words() -> re.Pattern[str]:
    ids = {i for f in (DEMO_PACK / "clauses").glob("*.md") for i in re.findall(r"\{#([a-z0-9._-]+)", f.read_text())}
    with tempfile.TemporaryDirectory() as folder:
        tools = {t.name for t in DemoStore(Path(folder) / "store.sqlite3").tools()}
    terms = [re.escape(i) for i in ids] + [rf"\b{re.escape(t)}\b" for t in tools] + ["northwind", "NW-"]
    return re.compile("|".join(terms), re.IGNORECASE)


def test_the_engine_names_the_demo_company_no_more_than_before() -> None:
    words = demo_words()
    found = [
        f"{path.relative_to(REPO)}:{number}: {line.strip()}"
        for package in ENGINE
        for path in sorted((REPO / package).rglob("*.py"))
        if "demo_store" not in path.parts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if words.search(line)
    ]
    assert len(found) <= CEILING, "\n".join(found)
