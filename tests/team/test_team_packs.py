"""Two desks in team mode share one catalog and one Chroma server: what an admin loads and activates on one desk
(a real `copilot` process) is in force on the other within its polling interval, and a citation is one text."""

from __future__ import annotations

import time
from pathlib import Path

from copilot.workspace import Workspace
from retrieval.embed import LocalEmbedder
from retrieval.packs import load_pack
from tests.team.conftest import ROOT, run_copilot, team_desk

AIRLINE = ROOT / "resources" / "packs" / "airline"


def test_a_pack_activated_on_one_desk_is_in_force_on_another(
    tmp_path: Path, team_database: str, chroma_server: str, embedder: LocalEmbedder
) -> None:
    admin = team_desk(tmp_path / "admin", team_database, chroma_server)
    rep = team_desk(tmp_path / "rep", team_database, chroma_server)
    run_copilot(admin, "packs", "load", str(AIRLINE))  # loaded, not yet active
    desk = Workspace(rep, embedder)
    try:
        airline = load_pack(AIRLINE)
        assert desk.catalog.has(airline.name, airline.version)
        assert airline.key not in {v.key for v in desk.catalog.active_versions()}
        before = desk.catalog.generation

        run_copilot(admin, "packs", "activate", airline.name, airline.version)
        assert airline.key in {v.key for v in desk.catalog.active_versions()}  # read from the database: at once
        deadline = time.monotonic() + 5
        while desk.catalog.generation == before and time.monotonic() < deadline:
            time.sleep(0.05)
        assert desk.catalog.generation != before, "the rep's desk never noticed the activation"

        found = desk.searcher.search("I want to cancel my flight booking", [], [airline.key])
        assert found.hits, "the rep's desk finds nothing in the pack the admin loaded"
        clause = next(c for c in airline.clauses if airline.citation(c) == found.hits[0].citation)
        assert found.hits[0].text == clause.text  # a citation means the pack's own text on every desk
    finally:
        desk.close()


def test_a_deactivation_on_one_desk_takes_the_pack_out_of_force_on_another(
    tmp_path: Path, team_database: str, chroma_server: str, embedder: LocalEmbedder
) -> None:
    admin = team_desk(tmp_path / "admin", team_database, chroma_server)
    rep = team_desk(tmp_path / "rep", team_database, chroma_server)
    run_copilot(admin, "packs", "load", str(AIRLINE), "--activate")
    desk = Workspace(rep, embedder)
    try:
        assert "airline" in {v.name for v in desk.catalog.active_versions()}
        run_copilot(admin, "packs", "deactivate", "airline")
        assert "airline" not in {v.name for v in desk.catalog.active_versions()}
        assert desk.catalog.withdrawn("airline")
    finally:
        desk.close()
