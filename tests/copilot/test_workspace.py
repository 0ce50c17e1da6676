"""Pack lifecycle on a real data folder: load, activate, roll back, remove, priority, caching, interruption,
and the demo pack, which belongs to demo mode only."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, date
from pathlib import Path

import pytest

from base.errors import PackError
from copilot.conversation.state import Conversation
from copilot.settings import DEMO_PACK
from copilot.workspace import Workspace
from retrieval.diff import diff_versions, word_diff
from retrieval.embed import LocalEmbedder
from retrieval.synthetic import synthetic_pack, write_pack
from tests.retrieval.test_packs import write_pack as write_clauses

MANIFEST = (
    '[pack]\nname = "{name}"\nversion = "{version}"\ntitle = "T"\njurisdictions = {j}\neffective_from = "{start}"\n'
)


def make_pack(
    root: Path, name: str, version: str, clauses: dict[str, str], jurisdictions: str = "[]", start: str = "2025-01-01"
) -> Path:
    return write_clauses(
        root / f"{name}-{version}", clauses, MANIFEST.format(name=name, version=version, j=jurisdictions, start=start)
    )


def cached_home(tmp_path: Path, demo_home: Path) -> Path:
    """An empty data folder whose embedding cache already holds the demo pack's texts, so loading it is quick."""
    home = tmp_path / "cached-home"
    home.mkdir(parents=True)
    shutil.copy(demo_home / "embeddings.sqlite3", home / "embeddings.sqlite3")
    return home


@pytest.fixture
def fresh(tmp_path: Path, embedder: LocalEmbedder) -> Workspace:
    workspace = Workspace(tmp_path / "home", embedder)
    yield workspace  # type: ignore[misc]
    workspace.close()


def search(workspace: Workspace, text: str, jurisdiction: str = "", started: date | None = None) -> list[str]:
    from datetime import datetime

    when = datetime(started.year, started.month, started.day, tzinfo=UTC) if started else None
    conversation = Conversation("c", jurisdiction=jurisdiction, started_at=when)
    keys = [v.key for v in workspace.applicable(conversation)]
    return [h.citation for h in workspace.searcher.search(text, (), keys, jurisdiction, k=5).hits]


def test_versions_activate_roll_back_and_resolve_every_citation(fresh: Workspace, tmp_path: Path) -> None:
    v1 = make_pack(tmp_path, "acme", "1.0", {"r.md": "## Window {#refunds.window}\nRefunds within 30 days.\n"})
    v2 = make_pack(
        tmp_path,
        "acme",
        "1.10",
        {
            "r.md": "## Window {#refunds.window}\nRefunds within 45 days.\n"
            "## Method {#refunds.method}\nTo the original card.\n"
        },
    )
    v3 = make_pack(tmp_path, "acme", "1.9", {"r.md": "## Window {#refunds.window}\nRefunds within 40 days.\n"})
    fresh.load_pack(v1)
    fresh.load_pack(v2)
    fresh.load_pack(v3, activate=False)
    catalog = fresh.catalog
    assert [(v.version, v.status()) for v in catalog.versions()] == [
        ("1.0", "inactive"),
        ("1.9", "inactive"),
        ("1.10", "active"),
    ]  # PEP 440 order, not text order
    assert search(fresh, "how many days do I have to get a refund")[0] == "acme@1.10#refunds.window"
    assert catalog.rollback("acme") == "1.0"
    assert search(fresh, "how many days do I have to get a refund")[0] == "acme@1.0#refunds.window"
    with pytest.raises(PackError, match="active and cannot be removed"):
        fresh.remove_pack("acme", "1.0")
    fresh.remove_pack("acme", "1.10")
    assert [v.version for v in catalog.versions()] == ["1.0", "1.9"]
    removed = catalog.clause("acme@1.10#refunds.window")
    assert removed is not None and "45 days" in removed.text  # a citation once shown still resolves
    changes = diff_versions(catalog, "acme", "1.0", "1.9")
    assert [(c.kind, c.clause_id) for c in changes] == [("changed", "refunds.window")]
    assert changes[0].words == "Window: Refunds within [-30-] {+40+} days."


def test_word_diff_marks_insertions_and_deletions() -> None:
    assert (
        word_diff("refund to the card", "refund to the original card today")
        == "refund to the {+original+} card {+today+}"
    )


def test_unchanged_clauses_are_never_embedded_again(fresh: Workspace, tmp_path: Path) -> None:
    base = synthetic_pack(200, seed=3, name="bulk", version="1")
    first = fresh.load_pack(write_pack(base, tmp_path / "v1"))
    assert first.embedded == 200
    assert fresh.load_pack(write_pack(base, tmp_path / "again")).embedded == 0
    changed = tuple(
        c if i % 40 else type(c)(c.id, c.title, c.text + " Updated.", c.file, c.line)
        for i, c in enumerate(base.clauses)
    )
    second = fresh.load_pack(
        write_pack(type(base)(base.name, "2", base.title, (), base.effective_from, None, changed), tmp_path / "v2")
    )
    assert second.embedded == 5 and not second.already_loaded


def test_a_changed_pack_under_an_old_version_is_refused(fresh: Workspace, tmp_path: Path) -> None:
    fresh.load_pack(make_pack(tmp_path, "acme", "1", {"a.md": "## A {#a.one}\nOne.\n"}))
    with pytest.raises(PackError, match="already loaded with different clauses"):
        fresh.load_pack(make_pack(tmp_path / "edited", "acme", "1", {"a.md": "## A {#a.one}\nTwo.\n"}))


def test_jurisdiction_and_effective_dates_pick_the_packs(fresh: Workspace, tmp_path: Path) -> None:
    clauses = {"a.md": "## Delivery times {#shipping.times}\nStandard delivery takes 3 to 5 business days.\n"}
    fresh.load_pack(make_pack(tmp_path, "us-policy", "1", clauses, '["US"]'))
    fresh.load_pack(make_pack(tmp_path, "eu-2027", "1", clauses, '["EU"]', start="2027-01-01"))
    assert [v.status(date(2026, 11, 25)) for v in fresh.catalog.versions()] == ["active", "scheduled"]
    question = "how long does standard delivery take"
    assert search(fresh, question, "US-CA") == ["us-policy@1#shipping.times"]
    assert search(fresh, question, "EU-DE", date(2026, 6, 1)) == []
    assert search(fresh, question, "EU-DE", date(2027, 2, 1)) == ["eu-2027@1#shipping.times"]
    assert search(fresh, question, "UK") == []


def test_higher_priority_pack_wins_a_clause_conflict(fresh: Workspace, tmp_path: Path) -> None:
    fresh.load_pack(
        make_pack(
            tmp_path,
            "company",
            "1",
            {"a.md": "## Return window {#returns.window}\nItems may be returned within 30 days.\n"},
        )
    )
    fresh.load_pack(
        make_pack(
            tmp_path,
            "eu-supplement",
            "1",
            {"a.md": "## Return window {#returns.window}\nItems may be returned within 14 days.\n"},
            '["EU"]',
        )
    )
    question = "within how many days can items be returned"
    fresh.catalog.set_priority(["eu-supplement", "company"])
    assert search(fresh, question, "EU-FR") == ["eu-supplement@1#returns.window"]
    assert search(fresh, question, "US-NY") == ["company@1#returns.window"]
    fresh.catalog.set_priority(["company"])
    assert search(fresh, question, "EU-FR") == ["company@1#returns.window"]


def test_an_interrupted_load_leaves_no_version_and_the_active_one_unchanged(tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = {**os.environ, "COPILOT_HOME": str(home)}
    run = [sys.executable, "-m", "cli.main", "packs"]
    subprocess.run([*run, "list"], env=env, check=True, capture_output=True, timeout=300)
    big = write_pack(synthetic_pack(1500, seed=11, name="big", version="2", sentences=(4, 8)), tmp_path / "big")
    loader = subprocess.Popen(
        [*run, "load", str(big), "--activate"], env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL
    )
    assert loader.stderr is not None
    seen = b""
    while b"] 256/" not in seen:  # the progress bar has passed a mark: vectors are being written
        chunk = loader.stderr.read1(256)  # type: ignore[attr-defined]
        assert chunk, f"loader ended early: {seen[-300:]!r}"
        seen += chunk
    loader.send_signal(signal.SIGKILL)
    loader.wait(timeout=30)
    loader.stderr.close()
    listed = subprocess.run([*run, "list"], env=env, check=True, capture_output=True, text=True, timeout=300).stdout
    assert "big" not in listed
    assert "northwind-retail         2025.6       active" in listed
    shown = subprocess.run(
        [*run, "show", "big@2#refund.rule-00000"], env=env, capture_output=True, text=True, timeout=300
    )
    assert shown.returncode == 2 and "no such citation" in shown.stderr


def test_changing_the_model_embeds_every_version_into_its_own_collection(fresh: Workspace, tmp_path: Path) -> None:
    import shutil

    from retrieval.embed import resolve_model
    from retrieval.store import VectorStore

    fresh.load_pack(
        make_pack(
            tmp_path,
            "acme",
            "1",
            {
                "a.md": "## Window {#refunds.window}\nRefunds within 30 days.\n"
                "## Method {#refunds.method}\nTo the card.\n"
            },
        )
    )
    copy = shutil.copytree(resolve_model(), tmp_path / "other-model")
    other = LocalEmbedder(str(copy))
    steps: list[tuple[int, int]] = []
    fresh.reembed(other, progress=lambda done, total: steps.append((done, total)))
    assert steps[-1] == (2, 2)
    assert VectorStore(fresh.home / "chroma", other.model_id).count() == 2
    assert VectorStore(fresh.home / "chroma", fresh.embedder.model_id).count() == 2  # the old model's stay apart
    switched = Workspace(fresh.home, other)
    assert search(switched, "how many days do I have to get a refund")[0] == "acme@1#refunds.window"
    switched.close()


@pytest.fixture
def demo_mode(tmp_path: Path, demo_home: Path, embedder: LocalEmbedder) -> Iterator[Workspace]:
    """A data folder opened for the first time, as the app and every command open it: the demo pack comes with it."""
    workspace = Workspace(cached_home(tmp_path, demo_home), embedder)
    workspace.ensure_demo_pack()
    yield workspace
    workspace.close()


def older_demo(tmp_path: Path) -> Path:
    """The bundled demo pack, as an earlier release shipped it (same clauses, older version)."""
    folder = Path(shutil.copytree(DEMO_PACK, tmp_path / "northwind-2024"))
    manifest = folder / "pack.toml"
    manifest.write_text(manifest.read_text().replace('version = "2025.6"', 'version = "2024.1"'))
    return folder


def reopened(workspace: Workspace, embedder: LocalEmbedder) -> list[tuple[str, str]]:
    """(key, status) of every version after the data folder is opened again, demo check included."""
    workspace.close()
    again = Workspace(workspace.home, embedder)
    again.ensure_demo_pack()
    versions = [(v.key, v.status()) for v in again.catalog.versions()]
    again.close()
    return versions


def test_a_fresh_data_folder_gets_the_demo_pack_once(demo_mode: Workspace, embedder: LocalEmbedder) -> None:
    assert [(v.key, v.status()) for v in demo_mode.catalog.versions()] == [("northwind-retail@2025.6", "active")]
    assert reopened(demo_mode, embedder) == [("northwind-retail@2025.6", "active")]


def test_an_admin_who_deactivates_the_demo_pack_keeps_it_off(demo_mode: Workspace, embedder: LocalEmbedder) -> None:
    assert demo_mode.catalog.deactivate("northwind-retail") == "2025.6"
    assert reopened(demo_mode, embedder) == [("northwind-retail@2025.6", "inactive")]


def test_an_admin_who_removes_the_demo_pack_never_gets_it_back(demo_mode: Workspace, embedder: LocalEmbedder) -> None:
    demo_mode.catalog.deactivate("northwind-retail")
    demo_mode.remove_pack("northwind-retail", "2025.6")
    assert reopened(demo_mode, embedder) == []


def test_the_demo_pack_is_updated_only_while_nobody_chose_another_pack(
    tmp_path: Path, demo_home: Path, embedder: LocalEmbedder
) -> None:
    demo = Workspace(cached_home(tmp_path / "demo", demo_home), embedder)
    demo.load_pack(older_demo(tmp_path))
    assert reopened(demo, embedder) == [
        ("northwind-retail@2024.1", "inactive"),
        ("northwind-retail@2025.6", "active"),
    ]
    admin = Workspace(cached_home(tmp_path / "admin", demo_home), embedder)
    admin.load_pack(older_demo(tmp_path / "admin"))
    admin.load_pack(make_pack(tmp_path, "acme", "1", {"a.md": "## Window {#refunds.window}\nWithin 30 days.\n"}))
    assert reopened(admin, embedder) == [("northwind-retail@2024.1", "active"), ("acme@1", "active")]
