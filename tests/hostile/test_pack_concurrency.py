"""Issue 15, items 1 and 2: one writer for the packs, and a version that never changes its text.

The adversarial review ran two `copilot packs load` at once: different packs lost 80–96 vectors (a later
replay crashed in chromadb), and two loads of one `name@version` with different texts ended in an
IntegrityError with the second text indexed under the first one's citations. `packs remove` then `packs
load` with other text made an old citation show text it never showed. Here real processes meet at the
writer lock: the test holds it until both loaders wait on it, so they are certain to contend, then the
store is checked vector by vector with `packs verify`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from filelock import FileLock

from copilot.workspace import Workspace
from retrieval.embed import LocalEmbedder
from retrieval.synthetic import synthetic_pack, write_pack

WAITING = b"waiting for another process to finish changing the packs"


@pytest.fixture
def home(tmp_path: Path, demo_home: Path) -> Path:
    """A data folder with the demo pack loaded, so each command goes straight to its work."""
    copy = tmp_path / "home"
    shutil.copytree(demo_home, copy)
    return copy


def copilot(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COPILOT_HOME": str(home)},
        timeout=300,
        check=False,
    )


def loads_at_once(home: Path, *packs: Path) -> list[tuple[int, str]]:
    """(exit code, stderr) of one `copilot packs load --activate` per pack, all started while the writer lock
    is held here and let go only once every one of them waits for it."""
    env = {**os.environ, "COPILOT_HOME": str(home)}
    with FileLock(home / "catalog.lock"):
        loaders = [
            subprocess.Popen(
                [sys.executable, "-m", "cli.main", "packs", "load", str(pack), "--activate"],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            for pack in packs
        ]
        said = [b"" for _ in loaders]
        for n, loader in enumerate(loaders):
            assert loader.stderr is not None
            while WAITING not in said[n]:
                chunk = loader.stderr.read1(4096)  # type: ignore[attr-defined]
                assert chunk, f"loader {n} ended before waiting: {said[n][-500:]!r}"
                said[n] += chunk
    results = []
    for n, loader in enumerate(loaders):
        _, rest = loader.communicate(timeout=300)
        results.append((loader.returncode, (said[n] + rest).decode()))
    return results


def agrees(workspace: Workspace) -> int:
    """Vectors checked by a full verify that found nothing wrong: every chunk of every loaded version has
    its vector, each vector is the embedding of its own text, and no stray ones are left."""
    found = workspace.verify(repair=False)
    assert found.problems == []
    return found.vectors


def test_two_loads_of_different_packs_at_once_keep_every_vector(
    home: Path, tmp_path: Path, embedder: LocalEmbedder
) -> None:
    packs = [synthetic_pack(40, seed=n, name=name, sentences=(1, 2)) for n, name in ((1, "alpha"), (2, "beta"))]
    results = loads_at_once(home, *(write_pack(pack, tmp_path / pack.name) for pack in packs))
    for code, said in results:
        assert code == 0 and "Traceback" not in said, said
    workspace = Workspace(home, embedder)
    try:
        assert {v.key for v in workspace.catalog.active_versions()} >= {"alpha@1.0", "beta@1.0"}
        assert agrees(workspace) == workspace.store.count()
        for pack in packs:
            assert len(workspace.store.ids(pack.key)) == 40
            clause = workspace.catalog.clause(pack.citation(pack.clauses[0]))
            assert clause is not None and clause.text == pack.clauses[0].text
            hits = workspace.searcher.search(pack.clauses[7].text, (), [pack.key], k=1, floor=0.0).hits
            assert [h.citation for h in hits] == [pack.citation(pack.clauses[7])]
    finally:
        workspace.close()


def test_two_loads_of_one_version_with_different_texts_load_one_and_refuse_the_other(
    home: Path, tmp_path: Path, embedder: LocalEmbedder
) -> None:
    first = synthetic_pack(30, seed=3, name="acme", version="7", sentences=(1, 2))
    second = synthetic_pack(30, seed=4, name="acme", version="7", sentences=(1, 2))
    results = loads_at_once(home, write_pack(first, tmp_path / "first"), write_pack(second, tmp_path / "second"))
    assert sorted(code for code, _ in results) == [0, 2], results
    refused = next(said for code, said in results if code == 2)
    assert "Traceback" not in refused and "IntegrityError" not in refused
    assert "acme@7 is already loaded with different clauses; a version never changes its text" in refused
    assert "--version V" in refused
    winner = first if results[0][0] == 0 else second
    workspace = Workspace(home, embedder)
    try:
        agrees(workspace)
        assert len(workspace.store.ids("acme@7")) == 30, "only the winner's vectors, none of the other text's"
        for clause in winner.clauses:
            stored = workspace.catalog.clause(winner.citation(clause))
            assert stored is not None and stored.text == clause.text
    finally:
        workspace.close()


def test_remove_then_load_other_text_under_the_same_version_is_refused_and_the_old_citation_keeps_its_text(
    home: Path, tmp_path: Path, embedder: LocalEmbedder
) -> None:
    original = synthetic_pack(5, seed=8, name="acme", version="1", sentences=(1, 1))
    edited = synthetic_pack(5, seed=9, name="acme", version="1", sentences=(1, 1))
    workspace = Workspace(home, embedder)
    try:
        workspace.load_pack(write_pack(original, tmp_path / "one"), activate=False)
    finally:
        workspace.close()
    assert copilot(home, "packs", "remove", "acme", "1").returncode == 0
    done = copilot(home, "packs", "load", str(write_pack(edited, tmp_path / "edited")))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith(
        f"copilot: {tmp_path / 'edited'}: acme@1 was loaded before (and removed since) with different clauses; "
        "a version never changes its text. Fix: load it as a new version"
    )
    workspace = Workspace(home, embedder)
    try:
        for clause in original.clauses:  # every citation shown before still shows the text it showed
            stored = workspace.catalog.clause(original.citation(clause))
            assert stored is not None and stored.text == clause.text
        assert workspace.load_pack(write_pack(original, tmp_path / "again"), activate=False).known == "removed"
        agrees(workspace)
    finally:
        workspace.close()
