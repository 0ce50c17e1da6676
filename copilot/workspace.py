"""The opened app data folder: pack catalog, clause vectors and the embedder, with the demo pack on first use."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

from copilot.conversation import Conversation
from copilot.settings import DEMO_PACK
from retrieval.catalog import Catalog, PackVersion
from retrieval.documents import import_markdown
from retrieval.embed import Embedder
from retrieval.ingest import Progress, ingest
from retrieval.packs import Pack, load_pack
from retrieval.search import Searcher
from retrieval.store import VectorStore

log = logging.getLogger("copilot")


class Workspace:
    """Everything retrieval needs, opened from one home folder. Opening imports chromadb: do it off the GUI thread."""

    def __init__(self, home: Path, embedder: Embedder) -> None:
        self.home = home
        self.embedder = embedder
        self.catalog = Catalog(home / "catalog.sqlite3")
        self.store = VectorStore(home / "chroma", embedder.model_id)
        self.searcher = Searcher(embedder, self.store, self.catalog)

    def close(self) -> None:
        self.catalog.close()

    def load_pack(self, path: Path, *, activate: bool = True, progress: Progress | None = None) -> Pack:
        """Validate and ingest a pack; the active version changes only after a complete ingest."""
        pack = import_markdown(path) if path.suffix.lower() in (".md", ".markdown") else load_pack(path)
        ingest(pack, self.catalog, self.store, self.embedder, progress)
        if activate:
            self.catalog.activate(pack.name, pack.version)
        log.info("loaded pack %s@%s (%d clauses)", pack.name, pack.version, len(pack.clauses))
        return pack

    def ensure_demo_pack(self, progress: Progress | None = None) -> None:
        """First use of an empty home: load and activate the bundled demo pack."""
        if not self.catalog.versions():
            self.load_pack(DEMO_PACK, progress=progress)

    def applicable(self, conversation: Conversation) -> list[PackVersion]:
        """Active versions that govern this conversation's jurisdiction and start date."""
        day: date | None = conversation.started_at.date() if conversation.started_at else None
        return [v for v in self.catalog.active_versions() if v.applies_to(conversation.jurisdiction, day)]
