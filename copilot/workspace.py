"""The opened app data folder: pack catalog, clause vectors and the embedder, with the demo pack on first use.

On one desk the catalog and the clause vectors are files of the data folder; in team mode (settings ``storage``)
they are the team's PostgreSQL database and Chroma server, and only the embedding cache stays on the desk.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from packaging.version import Version

from connectors.config import CONNECTORS_FILE
from copilot.action_policy import pack_policy
from copilot.conversation.state import Conversation
from copilot.qa.policy import qa_policy
from copilot.reasoning.guidance import Guidance, check_pack, merge
from copilot.settings import DEMO_PACK, Settings
from retrieval.cache import CachedEmbedder, EmbeddingCache
from retrieval.catalog import Catalog, Known, PackVersion
from retrieval.documents import DOCUMENT_SUFFIXES, import_document
from retrieval.embed import DEFAULT_MODEL, Embedder, LocalEmbedder
from retrieval.ingest import Progress, ingest, restore, write_vectors
from retrieval.packs import Pack, load_pack, renamed
from retrieval.search import Searcher
from retrieval.store import VectorStore
from retrieval.verify import Verification, verify

log = logging.getLogger("copilot")


@dataclass(frozen=True)
class LoadResult:
    """What a pack load did."""

    pack: Pack
    embedded: int
    """Texts sent to the model; the rest came from the embedding cache."""
    known: Known
    """What the catalog held of this version before: nothing, the version itself (the load did nothing), or
    the tombstone of its removal (the same text, loaded again)."""

    @property
    def already_loaded(self) -> bool:
        return self.known == "loaded"

    def summary(self) -> str:
        """What the load did, in a few words for the admin."""
        if self.known == "loaded":
            return "already loaded with this very content, nothing to do"
        again = " (removed before; the same text is back)" if self.known == "removed" else ""
        return f"{len(self.pack.clauses)} clauses, {self.embedded} texts embedded (the rest from cache){again}"


class Workspace:
    """Everything retrieval needs, opened from one home folder. Opening imports chromadb: do it off the GUI thread."""

    def __init__(self, home: Path, embedder: Embedder) -> None:
        self.home = home
        self.embedder = embedder
        team = Settings.load(home).team()
        if team is None:
            self.catalog = Catalog(home / "catalog.sqlite3")
            self.vectors_at: Path | str = home / "chroma"
        else:
            self.catalog = Catalog.team(team.database_url, poll_s=team.poll_s)
            self.vectors_at = team.chroma_url
        self.store = VectorStore(self.vectors_at, embedder.model_id)
        self.cache = EmbeddingCache(home / "embeddings.sqlite3")
        restore(self.catalog, self.store, CachedEmbedder(embedder, self.cache))  # a folder from an older release
        self.searcher = Searcher(embedder, self.store, self.catalog)
        self._guidance: tuple[tuple[int, tuple[str, ...]], Guidance] | None = None

    def close(self) -> None:
        self.catalog.close()
        self.cache.close()

    def load_pack(
        self,
        path: Path,
        *,
        activate: bool = True,
        progress: Progress | None = None,
        name: str | None = None,
        version: str | None = None,
    ) -> LoadResult:
        """Validate and ingest a pack within the admin's limits; the active version changes only after a
        complete ingest.

        ``name`` and ``version``, when given, replace the pack's own (a document's file name and 1.0).
        Loading a version that is already loaded with the same clauses does nothing; with other
        clauses it is refused, also after that version was removed, because a citation must always mean
        one text. The check and the ingest happen under the writer lock, so two loads at once, in one
        process or two, run one after the other.
        """
        limits = Settings.load(self.home).pack_limits()
        pack = renamed(
            import_document(path, limits=limits)
            if path.suffix.lower() in DOCUMENT_SUFFIXES
            else load_pack(path, limits),
            name,
            version,
        )
        check_pack(pack, str(path))
        pack_policy(pack, str(path))  # systems.toml and actions.toml: their errors, too, before anything is ingested
        qa_policy(pack, str(path))  # and qa.toml's
        embedder = CachedEmbedder(self.embedder, self.cache)
        with self.catalog.writing():
            known = self.catalog.known(pack, str(path))
            if known != "loaded":
                ingest(pack, self.catalog, self.store, embedder, progress)
            if activate:
                self.catalog.activate(pack.name, pack.version)
        log.info(
            "loaded pack %s@%s (%d clauses, %d texts embedded)",
            pack.name,
            pack.version,
            len(pack.clauses),
            embedder.embedded,
        )
        return LoadResult(pack, embedder.embedded, known)

    def reembed(self, embedder: Embedder, progress: Progress | None = None) -> None:
        """Embed every loaded version with another model into that model's own collection.

        Vectors of two models never mix: each model has its own collection, and the caller switches
        the setting only after this returns, so an interruption leaves the old model in force.
        """
        store = VectorStore(self.vectors_at, embedder.model_id)
        cached = CachedEmbedder(embedder, self.cache)
        with self.catalog.writing():
            versions = self.catalog.versions()
            total = sum(v.clause_count for v in versions)
            done = 0
            for version in versions:
                pack = self.catalog.pack(version.name, version.version)

                def step(part: int, _: int, offset: int = done) -> None:
                    if progress:
                        progress(min(offset + part, total), total)

                write_vectors(pack, store, cached, step if progress else None)
                done += len(pack.clauses)

    def remove_pack(self, name: str, version: str) -> None:
        """Remove an inactive version from search; its clause texts and content hash stay, for citation
        lookups and so that the version can come back only with the same text."""
        with self.catalog.writing():
            self.catalog.remove(name, version)
            self.store.drop(f"{name}@{version}")

    def verify(self, *, repair: bool) -> Verification:
        """Check catalog, vectors and clause texts against each other; with ``repair``, embed from the catalog
        again what is missing or wrong, and drop vectors no loaded version owns (retrieval/verify.py)."""
        return verify(self.catalog, self.store, self.embedder, self.cache, repair=repair)

    def ensure_demo_pack(self, progress: Progress | None = None) -> None:
        """Demo mode (a folder without connectors.toml): a fresh data folder gets the bundled demo pack, loaded
        and active, so the demo works on first run; a folder still on an older version of it gets the bundled
        one (the old stays, for rollback).

        The demo pack belongs to demo mode, not to every data folder: once an admin has activated a pack of
        their own, deactivated the demo pack or removed a version of it, the folder is theirs and the demo
        pack is never loaded or activated again. The catalog's append-only history of activations and
        withdrawals is the durable record of that choice (nothing else to keep in step), and a folder whose
        admin activated a pack of their own before this rule existed counts too.
        """
        if (self.home / CONNECTORS_FILE).exists():
            return  # the folder's own systems are connected: not demo mode
        catalog = self.catalog
        bundled = load_pack(DEMO_PACK)
        if catalog.ever_activated() - {bundled.name} or catalog.withdrawn(bundled.name):
            return
        versions = catalog.versions()
        active = next((v for v in versions if v.name == bundled.name and v.active), None)
        if not versions or (
            active is not None
            and not catalog.has(bundled.name, bundled.version)
            and Version(active.version) < Version(bundled.version)
        ):
            self.load_pack(DEMO_PACK, progress=progress)

    def applicable(self, conversation: Conversation) -> list[PackVersion]:
        """Active versions that govern this conversation's jurisdiction and start date."""
        day: date | None = conversation.started_at.date() if conversation.started_at else None
        return [v for v in self.catalog.active_versions() if v.applies_to(conversation.jurisdiction, day)]

    def guidance(self, keys: tuple[str, ...]) -> Guidance:
        """The merged guidance of these pack versions (highest priority first), parsed once per catalog change."""
        stamp = (self.catalog.generation, keys)
        if self._guidance is None or self._guidance[0] != stamp:
            ids: dict[str, set[str]] = {key: set() for key in keys}
            for clause in self.catalog.clauses_of(list(keys)):
                ids[f"{clause.name}@{clause.version}"].add(clause.clause_id)
            self._guidance = (stamp, merge([(key, self.catalog.guidance_of(key), ids[key]) for key in keys]))
        return self._guidance[1]


def switch_model(workspace: Workspace, model: str, progress: Progress | None = None) -> str:
    """Re-embed every loaded version with ``model`` (a folder, or ``default``), then make it the setting.

    Returns the model as stored. Until this returns, the old model stays in force.
    """
    chosen = DEFAULT_MODEL if model == "default" else str(Path(model).expanduser().resolve())
    embedder = LocalEmbedder(chosen)
    embedder.load()
    workspace.reembed(embedder, progress=progress)
    settings = Settings.load(workspace.home)
    settings.embedding_model = chosen
    settings.save(workspace.home)
    return chosen
