"""Deactivating a pack, and loading a document or pack under a name and version of the admin's choosing,
in the catalog and through the real `copilot packs` command."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from base.errors import PackError
from cli.main import main
from retrieval.catalog import Catalog
from retrieval.packs import Clause, Pack
from tests.copilot.test_workspace import cached_home, make_pack


def version(name: str, number: str, text: str = "Refunds within 30 days.") -> Pack:
    clause = Clause("refunds.window", "Window", text, "clauses/r.md", 1)
    return Pack(name, number, "T", (), date(2025, 1, 1), None, (clause,))


def test_a_deactivated_pack_keeps_its_versions_and_rollback_brings_the_last_one_back(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite3")
    for number in ("1", "2"):
        catalog.record(version("acme", number, f"Refunds within {number}0 days."))
    catalog.record(version("other", "1"))
    with pytest.raises(PackError, match="nothing to roll back to"):
        catalog.rollback("acme")  # never active: nothing to return to
    catalog.activate("acme", "1")
    catalog.activate("acme", "2")
    assert catalog.deactivate("acme") == "2"
    assert catalog.deactivate("acme") is None  # already inactive: nothing to do
    assert [v.key for v in catalog.versions()] == ["acme@1", "acme@2", "other@1"]
    assert catalog.active_versions() == []
    with pytest.raises(PackError) as unknown:
        catalog.deactivate("nope")
    assert str(unknown.value) == "nope: no such pack loaded. Fix: name one of the loaded packs: acme, other"
    catalog.close()
    reopened = Catalog(tmp_path / "catalog.sqlite3")  # the choice is on disk, history included
    assert reopened.active_versions() == [] and reopened.withdrawn("acme") and not reopened.withdrawn("other")
    assert reopened.rollback("acme") == "2"
    assert reopened.rollback("acme") == "1"
    assert reopened.ever_activated() == {"acme"}
    reopened.close()


@pytest.fixture
def home(tmp_path: Path, demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder no command has opened yet (its embedding cache warm), as COPILOT_HOME."""
    folder = cached_home(tmp_path, demo_home)
    monkeypatch.setenv("COPILOT_HOME", str(folder))
    return folder


def packs(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """Run `copilot packs ARGS` in this process; (exit code, stdout, stderr without progress bars)."""
    code = main(["packs", *args])
    out = capsys.readouterr()
    return code, out.out, "\n".join(line for line in out.err.splitlines() if "[" not in line)


def status(capsys: pytest.CaptureFixture[str]) -> dict[str, str]:
    """{name@version: status} as `copilot packs list` prints it."""
    _, listed, _ = packs(capsys, "list")
    return {f"{row.split()[0]}@{row.split()[1]}": row.split()[2] for row in listed.splitlines()[1:]}


def test_packs_deactivate_leaves_the_demo_pack_off_until_an_admin_brings_it_back(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert packs(capsys, "deactivate", "northwind-retail") == (
        0,
        "northwind-retail@2025.6 deactivated; no version of northwind-retail is active now "
        "(`copilot packs rollback northwind-retail` brings it back)\n",
        "",
    )
    assert status(capsys) == {"northwind-retail@2025.6": "inactive"}  # opening again did not re-activate it
    assert packs(capsys, "deactivate", "northwind-retail") == (
        0,
        "northwind-retail: no version is active, nothing to do\n",
        "",
    )
    code, _, error = packs(capsys, "deactivate", "acme")
    assert (code, error) == (
        2,
        "copilot: acme: no such pack loaded. Fix: name one of the loaded packs: northwind-retail",
    )
    assert packs(capsys, "rollback", "northwind-retail")[:2] == (0, "northwind-retail: rolled back to 2025.6\n")
    assert status(capsys) == {"northwind-retail@2025.6": "active"}


def test_two_documents_of_the_same_file_name_load_under_names_and_versions_of_their_own(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a" / "policy.md", tmp_path / "b" / "policy.md"
    for doc, text in ((first, "Refunds within 30 days."), (second, "Standard shipping is free.")):
        doc.parent.mkdir()
        doc.write_text(f"# Policy\n## Rules\n{text}\n")
    code, out, _ = packs(capsys, "load", str(first), "--activate")
    assert code == 0 and out == (
        "policy@1.0: 1 clauses, 1 texts embedded (the rest from cache); active\n"
        "also active: northwind-retail@2025.6 (`copilot packs deactivate NAME` leaves one out)\n"
    )
    code, _, error = packs(capsys, "load", str(second))
    assert code == 2 and "policy@1.0 is already loaded with different clauses" in error and "--name N" in error
    code, _, error = packs(capsys, "load", str(second), "--name", "Shop FAQ")
    assert (code, error) == (
        2,
        "copilot: --name: bad pack name 'Shop FAQ'. Fix: use lowercase letters, digits and hyphens, e.g. acme-retail",
    )
    code, _, error = packs(capsys, "load", str(second), "--name", "shop-faq", "--version", "soon")
    assert (code, error) == (
        2,
        "copilot: --version: bad version string 'soon'. Fix: use a PEP 440 version such as 2025.1 or 1.2.0",
    )
    code, out, _ = packs(capsys, "load", str(second), "--name", "shop-faq", "--version", "2025.1")
    assert (code, out) == (0, "shop-faq@2025.1: 1 clauses, 1 texts embedded (the rest from cache)\n")
    code, _, error = packs(capsys, "load", str(first), "--name", "shop-faq", "--version", "2025.1")
    assert code == 2 and "shop-faq@2025.1 is already loaded with different clauses" in error
    assert packs(capsys, "show", "shop-faq@2025.1#rules")[1].endswith("Standard shipping is free.\n")
    folder = make_pack(tmp_path, "acme", "1", {"a.md": "## Window {#refunds.window}\nWithin 30 days.\n"})
    code, out, _ = packs(capsys, "load", str(folder), "--name", "acme-eu", "--version", "2")
    assert (code, out) == (0, "acme-eu@2: 1 clauses, 1 texts embedded (the rest from cache)\n")
    assert status(capsys) == {
        "northwind-retail@2025.6": "active",
        "policy@1.0": "active",
        "shop-faq@2025.1": "inactive",
        "acme-eu@2": "inactive",
    }
