"""qa.toml is validated against the rest of its pack when the pack loads: an error names the file, the line and
what to write instead."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from base.errors import PackError
from copilot.qa.policy import QaPolicy, qa_policy
from copilot.settings import DEMO_PACK
from copilot.workspace import Workspace
from retrieval.embed import LocalEmbedder
from retrieval.packs import load_pack

GOOD = """
[[check]]
id = "confirm"
kind = "confirmed"
title = "Customer said yes"
tools = ["cancel_order"]
phrases = ["yes"]
"""


def pack_with(tmp_path: Path, qa: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(DEMO_PACK, folder)
    (folder / "qa.toml").write_text(qa, encoding="utf-8")
    return folder


def test_both_packs_qa_loads(demo_qa: QaPolicy, airline_qa: QaPolicy) -> None:
    assert {c.kind for c in demo_qa.file.check} == {
        "disclosure",
        "before",
        "backed",
        "flags_resolved",
        "escalation_made",
        "confirmed",
    }
    assert demo_qa.transfer_tool == "escalate_to_queue" and airline_qa.transfer_tool == "transfer_to_human_agents"
    assert demo_qa.file.root_cause and airline_qa.file.root_cause


def test_another_company_writes_its_own_checks(tmp_path: Path) -> None:
    policy = qa_policy(load_pack(pack_with(tmp_path, GOOD)))
    assert policy is not None and [c.id for c in policy.file.check] == ["confirm"]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (GOOD.replace("cancel_order", "launch_rocket"), "confirm: unknown tool 'launch_rocket'"),
        (
            GOOD + '\n[[check]]\nid = "f"\nkind = "flags_resolved"\ntitle = "F"\nrules = ["no-such-rule"]\n',
            "unknown rule 'no-such-rule'",
        ),
        (
            GOOD + '\n[[check]]\nid = "e"\nkind = "escalation_made"\ntitle = "E"\ncategories = ["martians"]\n',
            "unknown category 'martians'",
        ),
        (GOOD + '\n[[root_cause]]\nid = "x"\ntitle = "X"\nintents = ["teleport"]\n', "unknown intent 'teleport'"),
        (
            GOOD.replace('title = "Customer said yes"', 'title = "Y"\nclause = "no.such-clause"'),
            "unknown clause 'no.such-clause'",
        ),
        (GOOD + GOOD, "check id 'confirm' twice"),
        (GOOD.replace('phrases = ["yes"]', 'phrases = ["yes"]\nphrases_by_language = { it = ["sì"] }'), "'it'"),
        (GOOD.replace('kind = "confirmed"', 'kind = "vibes"'), "field 'check.0'"),
        (GOOD.replace('phrases = ["yes"]', "patterns = ['(unclosed']"), "not a valid regular expression"),
    ],
)
def test_a_bad_qa_toml_is_refused_naming_file_and_fix(tmp_path: Path, text: str, says: str) -> None:
    with pytest.raises(PackError) as raised:
        qa_policy(load_pack(pack_with(tmp_path, text)), "pack")
    assert "qa.toml" in str(raised.value) and says in str(raised.value)


def test_loading_a_pack_refuses_a_bad_qa_toml_before_ingest(tmp_path: Path, embedder: LocalEmbedder) -> None:
    workspace = Workspace(tmp_path / "home", embedder)
    try:
        with pytest.raises(PackError, match="unknown tool 'launch_rocket'"):
            workspace.load_pack(pack_with(tmp_path, GOOD.replace("cancel_order", "launch_rocket")))
        assert workspace.catalog.versions() == []
    finally:
        workspace.close()
