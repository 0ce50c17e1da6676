"""`packs scaffold`: a folder made from a policy document and a real MCP server (the airline fixture) loads
as a pack, lists the server's tools, guesses lookups, and blocks every write until a rule is written."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from base.errors import PackError
from copilot.action_policy import pack_policy
from copilot.scaffold import server_tools, write_scaffold
from retrieval.packs import load_pack
from tests.conftest import REPO

AIRLINE = REPO / "tests" / "fixtures" / "airline"


def test_a_scaffold_loads_and_blocks_writes_until_rules_are_written(tmp_path: Path) -> None:
    command = f"{sys.executable} -m tests.fixtures.airline.server --state {tmp_path / 'state'}"
    tools = asyncio.run(server_tools(command))
    folder = tmp_path / "pack"
    write_scaffold(AIRLINE / "policy.md", tools, folder)

    pack = load_pack(folder)
    assert len(pack.clauses) > 20  # one clause per rule of the document, not per section
    policy = pack_policy(pack, str(folder))
    assert [i.tool for i in policy.systems.identify] == ["get_user_details"]
    assert policy.kinds["reservation"].key == "reservation_id"
    assert policy.systems.transfer is not None
    writes = {t.name for t in tools if not t.read_only}
    assert set(policy.tools) == writes
    assert all(r.require == "false" for t in policy.tools.values() for r in t.rule)
    assert "get_reservation_details(reservation_id)" in (folder / "systems.toml").read_text()

    with pytest.raises(PackError, match="not empty"):
        write_scaffold(AIRLINE / "policy.md", tools, folder)
