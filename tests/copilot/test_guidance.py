"""Pack guidance files: stored with the version, merged by priority, and refused with file, line and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from base.errors import PackError
from copilot.reasoning.escalation import ESCALATION_CATEGORIES
from copilot.reasoning.guidance import check_pack, merge
from copilot.settings import DEMO_PACK
from copilot.workspace import Workspace
from retrieval.packs import load_pack


def test_demo_guidance_is_stored_with_its_version(workspace: Workspace) -> None:
    keys = tuple(v.key for v in workspace.catalog.active_versions())
    guidance = workspace.guidance(keys)
    assert len(guidance.playbooks) >= 15 and {c.id for c in guidance.categories} == set(ESCALATION_CATEGORIES)
    assert guidance.rules and guidance.disclosure.jurisdictions == ("US-CA", "EU")
    assert guidance.citations["refunds.timing"] == "northwind-retail@2025.6#refunds.timing"
    rebuilt = workspace.catalog.pack("northwind-retail", "2025.6")
    assert [f for f, _ in rebuilt.guidance] == [
        "actions.toml",
        "escalation-examples.jsonl",
        "escalation.toml",
        "pack.toml",
        "playbooks.toml",
        "qa.toml",
        "rules.toml",
        "systems.toml",
    ]


def _broken(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(DEMO_PACK, folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        ("playbooks.toml", "max_suggestions = 4", 'max_suggestions = "many"', "playbooks.toml:"),
        (
            "playbooks.toml",
            '"refunds.timing"',
            '"refunds.no-such-clause"',
            "unknown clause id 'refunds.no-such-clause'",
        ),
        ("rules.toml", 'category = "regulated_action"', 'category = "rudeness"', "field 'rule.0.category'"),
        ("escalation.toml", "classifier_threshold = 0.65", "classifier_threshold = 6.5", "classifier_threshold"),
        ("escalation-examples.jsonl", '{"text": ', '{"text" ', "escalation-examples.jsonl:1: not JSON"),
        ("escalation-examples.jsonl", '"labels": []', '"labels": "none"', "field 'labels'"),
        ("escalation-examples.jsonl", '"labels": ["bereavement"]', '"labels": ["grief"]', "the label 'grief'"),
        ("rules.toml", "[disclosure]", "[disclosure", "invalid TOML"),
        ("rules.toml", 'secrets = "', 'secret = "', "unknown check 'secret' in [checks]"),
        (
            "rules.toml",
            'secrets = "security.no-secrets"',
            'secrets = "security.no-such-clause"',
            "check 'secrets' enforces clause 'security.no-such-clause', which is not in this pack",
        ),
        ("rules.toml", 'message = "Verify', 'mesage = "Verify', "field 'checks.identity_before_change.mesage'"),
        ("rules.toml", 'guarantees = "conduct.no-guarantees"', "guarantees = 3", "field 'checks.guarantees'"),
    ],
)
def test_bad_guidance_is_refused_naming_file_field_and_fix(
    tmp_path: Path, file: str, old: str, new: str, expected: str
) -> None:
    folder = _broken(tmp_path, file, old, new)
    with pytest.raises(PackError) as raised:
        check_pack(load_pack(folder), str(folder))
    message = str(raised.value)
    assert file in message and expected in message and "Fix:" in message


def test_a_bad_guidance_file_leaves_the_active_version_in_force(tmp_path: Path, workspace: Workspace) -> None:
    folder = _broken(tmp_path, "rules.toml", "[[rule]]", "[[rule]]\nwhatever = 1")
    (folder / "pack.toml").write_text((folder / "pack.toml").read_text().replace("2025.6", "2025.7"))
    before = [v.key for v in workspace.catalog.active_versions()]
    with pytest.raises(PackError, match="whatever"):
        workspace.load_pack(folder)
    assert [v.key for v in workspace.catalog.active_versions()] == before
    assert not workspace.catalog.has("northwind-retail", "2025.7")


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ('guarantee = "conduct.no-guarantees"', "unknown check 'guarantee'"),
        (
            'guarantees = { clause = "conduct.no-such-clause" }',
            "check 'guarantees' enforces clause 'conduct.no-such-clause'",
        ),
    ],
)
def test_a_bad_check_is_refused_at_its_own_line(tmp_path: Path, written: str, expected: str) -> None:
    folder = _broken(tmp_path, "rules.toml", 'guarantees = "conduct.no-guarantees"', written)
    line = (folder / "rules.toml").read_text(encoding="utf-8").splitlines().index(written) + 1
    with pytest.raises(PackError) as raised:
        check_pack(load_pack(folder), "northwind")
    assert str(raised.value).startswith(f"northwind/rules.toml:{line}: {expected}")
    assert "Fix: " in str(raised.value)


def test_the_highest_pack_that_names_a_check_says_which_clause_it_enforces(workspace: Workspace) -> None:
    demo = workspace.catalog.pack("northwind-retail", "2025.6")
    ids = {c.id for c in demo.clauses}
    own = ("own@1", (("rules.toml", '[checks]\nguarantees = "returns.window"\n'),), ids)
    merged = merge([own, (demo.key, demo.guidance, ids)])
    assert merged.checks.enforced["guarantees"].clause == "returns.window"
    assert merged.checks.enforced["secrets"].clause == "security.no-secrets"
    assert not merge([own]).checks.runs("balance_waiver") and merge([own]).checks.runs("secrets")
