"""`packs verify` and immutable versions on a real data folder: what a check finds, what a repair writes back
(only ever from the catalog's clause texts), and a version that never changes its text, also after removal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import chromadb
import numpy as np
import pytest
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings

from base.errors import PackError
from base.sqlite import open_db
from copilot.workspace import Workspace
from retrieval.chunks import chunk_spans
from retrieval.embed import LocalEmbedder
from retrieval.ingest import embedded_text, vector_id, write_vectors
from retrieval.packs import Pack
from retrieval.synthetic import synthetic_pack, write_pack

LONG = "Refunds reach the original card within five business days. " * 60
"""One clause of several chunks (600 words)."""


@pytest.fixture
def home(tmp_path: Path, embedder: LocalEmbedder) -> Iterator[Workspace]:
    workspace = Workspace(tmp_path / "home", embedder)
    yield workspace
    workspace.close()


def acme(version: str = "1", extra: str = "") -> Pack:
    """Three short clauses and one long one; ``extra`` changes the long one's text."""
    base = synthetic_pack(3, seed=5, name="acme", version=version)
    long = type(base.clauses[0])("refunds.long", "Refund timing", LONG + extra, "clauses/refunds.md", 1)
    return type(base)(base.name, version, base.title, (), base.effective_from, None, (*base.clauses, long))


def load(workspace: Workspace, pack: Pack, folder: Path) -> None:
    workspace.load_pack(write_pack(pack, folder))


def collection(workspace: Workspace, key: str) -> Collection:
    """The chromadb collection holding ``key``'s vectors, found as any chromadb client would."""
    client = chromadb.PersistentClient(
        path=str(workspace.home / "chroma"), settings=Settings(anonymized_telemetry=False)
    )
    (found,) = [c for c in client.list_collections() if (c.metadata or {}).get("key") == key]
    return found


def test_a_consistent_folder_verifies_clean_and_the_ids_name_each_chunk_span(home: Workspace, tmp_path: Path) -> None:
    load(home, acme(), tmp_path / "p")
    long = home.catalog.clause("acme@1#refunds.long")
    assert long is not None
    spans = list(chunk_spans(long.text))
    assert len(spans) == 4 and spans[0][0] == 0 and spans[-1][1] == len(long.text)
    assert {vector_id(long.citation, s) for s in spans} <= home.store.ids("acme@1")
    found = home.verify(repair=False)
    assert (found.problems, found.versions, found.vectors) == ([], 1, 3 + 4)


def test_missing_and_foreign_vectors_are_found_and_written_again_from_the_catalog(
    home: Workspace, tmp_path: Path
) -> None:
    load(home, acme(), tmp_path / "p")
    before = home.searcher.search("how long until my refund reaches the card", (), ["acme@1"], k=1).hits
    vectors = collection(home, "acme@1")
    ids = sorted(home.store.ids("acme@1"))
    vectors.delete(ids=ids[:2])
    # What the old race did: another text's vector under this version's citations.
    vectors.upsert(ids=[ids[2], "acme@1#refunds.long::0-9"], embeddings=home.embedder.encode(["bananas", "x"]))
    found = home.verify(repair=False)
    assert found.problems == [
        "acme@1: 2 vectors missing, 1 not of its clause texts, 1 not the embedding of their text; "
        "`copilot packs verify` without --check embeds them again"
    ]
    assert found.unresolved == 1 and found.repaired == []
    repaired = home.verify(repair=True)
    assert repaired.unresolved == 0 and repaired.repaired == [
        "acme@1: its vectors written again from the catalog's clause texts"
    ]
    assert home.verify(repair=False).problems == []
    assert home.store.ids("acme@1") == set(ids)
    clause = home.catalog.clause(ids[2].split("::")[0])
    assert clause is not None
    start, end = (int(n) for n in ids[2].split("::")[1].split("-"))
    stored = home.store.vectors("acme@1", [ids[2]])[ids[2]]
    right = home.embedder.encode([embedded_text(clause.title, clause.text, (start, end))])[0]
    assert np.allclose(stored, right, atol=1e-5), "the right vector is back"
    after = home.searcher.search("how long until my refund reaches the card", (), ["acme@1"], k=1).hits
    assert [h.citation for h in after] == [h.citation for h in before]


def test_vectors_of_no_catalogued_version_are_dropped_and_changed_texts_are_reported_not_guessed(
    home: Workspace, tmp_path: Path
) -> None:
    load(home, acme(), tmp_path / "p")
    write_vectors(acme("2"), home.store, home.embedder)  # a load killed before its catalog row
    db = open_db(home.home / "catalog.sqlite3", "")
    db.execute("UPDATE clauses SET text = 'Refunds take a year.' WHERE citation = 'acme@1#refunds.long'")
    db.close()
    found = home.verify(repair=True)
    assert found.problems == [
        "acme@1: its clause texts in the catalog are not those it was loaded with (changed outside the app); "
        "not repaired: restore catalog.sqlite3 from a backup, or remove the version and load its pack again",
        "acme@2: vectors of a version the catalog does not hold (an interrupted load or a removed version)",
    ]
    assert found.repaired == ["acme@2: its vectors dropped"] and found.unresolved == 1
    assert home.store.keys() == {"acme@1"}
    assert len(home.store.ids("acme@1")) == 7, "the vectors of a version with doubtful texts are left as they were"


def test_loading_the_same_content_again_is_a_no_op_and_other_content_is_refused_also_after_removal(
    home: Workspace, tmp_path: Path
) -> None:
    first = home.load_pack(write_pack(acme(), tmp_path / "one"), activate=False)
    assert first.known == "new" and first.embedded == 7
    again = home.load_pack(write_pack(acme(), tmp_path / "again"), activate=False)
    assert again.known == "loaded" and again.embedded == 0
    assert again.summary() == "already loaded with this very content, nothing to do"
    with pytest.raises(PackError, match=r"acme@1 is already loaded with different clauses"):
        home.load_pack(write_pack(acme(extra="Except on Sundays."), tmp_path / "other"))
    home.remove_pack("acme", "1")
    with pytest.raises(PackError) as refused:
        home.load_pack(write_pack(acme(extra="Except on Sundays."), tmp_path / "after"))
    assert "acme@1 was loaded before (and removed since) with different clauses" in str(refused.value)
    assert "--version V" in str(refused.value)
    shown = home.catalog.clause("acme@1#refunds.long")
    assert shown is not None and shown.text == LONG.strip(), "an old citation still shows the text it showed"
    back = home.load_pack(write_pack(acme(), tmp_path / "back"), activate=False)
    assert back.known == "removed" and back.embedded == 0 and "removed before" in back.summary()
    assert home.verify(repair=False).problems == [] and len(home.store.ids("acme@1")) == 7


def test_versions_loaded_before_hashes_were_kept_are_immutable_too(tmp_path: Path, embedder: LocalEmbedder) -> None:
    workspace = Workspace(tmp_path / "home", embedder)
    workspace.load_pack(write_pack(acme(), tmp_path / "one"), activate=False)
    workspace.remove_pack("acme", "1")
    workspace.close()
    db = open_db(tmp_path / "home" / "catalog.sqlite3", "")
    db.execute("DELETE FROM contents")  # a data folder from before the contents table
    db.close()
    reopened = Workspace(tmp_path / "home", embedder)
    try:
        with pytest.raises(PackError, match="removed since"):
            reopened.load_pack(write_pack(acme(extra="Except on Sundays."), tmp_path / "other"))
        assert reopened.load_pack(write_pack(acme(), tmp_path / "same"), activate=False).known == "removed"
    finally:
        reopened.close()
