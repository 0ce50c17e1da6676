"""Pack validation: the demo pack is well formed, and every kind of bad pack gets a precise message."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from base.errors import PackError
from copilot.settings import DEMO_PACK
from retrieval.documents import import_document
from retrieval.packs import load_pack

MANIFEST = (
    '[pack]\nname = "mini"\nversion = "1.0"\ntitle = "Mini"\njurisdictions = ["US"]\neffective_from = "2025-01-01"\n'
)


def write_pack(root: Path, clauses: dict[str, str], manifest: str = MANIFEST) -> Path:
    (root / "clauses").mkdir(parents=True)
    (root / "pack.toml").write_text(manifest)
    for name, text in clauses.items():
        (root / "clauses" / name).write_text(text)
    return root


def test_demo_pack_is_valid_and_rich() -> None:
    pack = load_pack(DEMO_PACK)
    assert pack.name == "northwind-retail" and str(pack.effective_from) == "2025-01-01"
    assert set(pack.jurisdictions) >= {"US", "UK", "EU"}
    assert len(pack.clauses) >= 60
    assert len({c.id for c in pack.clauses}) == len(pack.clauses)
    assert pack.citation(pack.clauses[0]).startswith("northwind-retail@2025.6#")


def test_clauses_are_split_at_headings_with_ids(tmp_path: Path) -> None:
    pack = load_pack(
        write_pack(
            tmp_path / "p",
            {
                "a.md": "# Refunds\nIntro.\n\n## Window {#refunds.window}\n"
                "Thirty days.\n\n## Method {#refunds.method}\nOriginal card.\n"
            },
        )
    )
    assert [(c.id, c.title, c.text, c.line) for c in pack.clauses] == [
        ("refunds.window", "Window", "Thirty days.", 4),
        ("refunds.method", "Method", "Original card.", 7),
    ]


@pytest.mark.parametrize(
    ("clauses", "manifest", "where", "problem"),
    [
        ({"a.md": "# R\n## Window\nThirty days.\n"}, MANIFEST, "clauses/a.md:2", "has no id"),
        (
            {"a.md": "## A {#x.a}\none\n", "b.md": "## B {#x.a}\ntwo\n"},
            MANIFEST,
            "clauses/b.md:1",
            "duplicate clause id 'x.a' (first at",
        ),
        ({"a.md": "## A {#x.a}\n\n## B {#x.b}\ntwo\n"}, MANIFEST, "clauses/a.md:1", "empty clause 'x.a'"),
        ({"a.md": "## A {#X A}\none\n"}, MANIFEST, "clauses/a.md:1", "bad clause id"),
        ({"a.md": "## A {#x.a}\none\n"}, MANIFEST.replace('"1.0"', '"one"'), "pack.toml:3", "bad version string 'one'"),
        (
            {"a.md": "## A {#x.a}\none\n"},
            MANIFEST.replace('title = "Mini"\n', ""),
            "pack.toml",
            "missing manifest field 'title'",
        ),
        ({"a.md": "## A {#x.a}\none\n"}, "[pack\n", "pack.toml:1", "invalid TOML"),
    ],
)
def test_bad_packs_name_file_line_and_fix(
    tmp_path: Path, clauses: dict[str, str], manifest: str, where: str, problem: str
) -> None:
    with pytest.raises(PackError) as caught:
        load_pack(write_pack(tmp_path / "p", clauses, manifest))
    message = str(caught.value)
    assert where in message and problem in message and "Fix:" in message


def test_zipped_pack_loads_and_a_broken_zip_is_reported(tmp_path: Path) -> None:
    folder = write_pack(tmp_path / "mini", {"a.md": "## A {#x.a}\none\n"})
    archive = tmp_path / "mini.zip"
    with zipfile.ZipFile(archive, "w") as out:
        for path in folder.rglob("*"):
            out.write(path, path.relative_to(tmp_path).as_posix())
    assert [c.id for c in load_pack(archive).clauses] == ["x.a"]
    broken = tmp_path / "broken.zip"
    broken.write_bytes(b"PK\x03\x04 not really")
    with pytest.raises(PackError, match="unreadable zip"):
        load_pack(broken)


def test_markdown_document_ids_come_from_the_heading_path(tmp_path: Path) -> None:
    doc = tmp_path / "policy.md"
    doc.write_text(
        "# Policy\nPreamble text.\n## Cancel flight\nRules.\n### Refund\nTo card.\n## Baggage\n### Refund\nFee back.\n"
    )
    ids = [c.id for c in import_document(doc).clauses]
    assert ids == ["overview", "cancel-flight", "cancel-flight.refund", "baggage.refund"]
    doc.write_text("# Policy\nPreamble text.\n## New section\nMore.\n## Cancel flight\nRules.\n### Refund\nTo card.\n")
    assert "cancel-flight.refund" in [c.id for c in import_document(doc).clauses]


def test_plain_text_and_html_documents_get_stable_ids(tmp_path: Path) -> None:
    text = tmp_path / "faq.txt"
    text.write_text("Refund window\nRefunds are due within 30 days.\n\nShipping costs\nStandard shipping is free.\n")
    assert [(c.id, c.text) for c in import_document(text).clauses] == [
        ("refund-window", "Refunds are due within 30 days."),
        ("shipping-costs", "Standard shipping is free."),
    ]
    text.write_text("Intro added later\nWelcome to the FAQ.\n\nShipping costs\nStandard shipping is free.\n")
    assert "shipping-costs" in [c.id for c in import_document(text).clauses]
    page = tmp_path / "policy.html"
    page.write_text(
        "<html><head><style>p{}</style></head><body><h1>Policy</h1><h2>Returns</h2>"
        "<p>Within <b>30</b> days.</p><h3>Exceptions</h3><ul><li>Final sale items.</li></ul></body></html>"
    )
    pack = import_document(page)
    assert [(c.id, c.text) for c in pack.clauses] == [
        ("returns", "Within 30 days."),
        ("returns.exceptions", "- Final sale items."),
    ]
    assert pack.title == "Policy"
