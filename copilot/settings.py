"""Where the app keeps its data, and the bundled resources it starts from."""

from __future__ import annotations

import getpass
import json
import os
import tomllib
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

import platformdirs

from base.errors import CopilotError
from retrieval.embed import DEFAULT_MODEL
from retrieval.limits import DEFAULT_LIMITS, PackLimits

if TYPE_CHECKING:
    from copilot.llm.client import LlmConfig

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_PACK = RESOURCES / tomllib.loads((RESOURCES / "demo.toml").read_text(encoding="utf-8"))["pack"]
"""The bundled demo pack, named in ``resources/demo.toml``."""
DEMO_CONVERSATIONS = RESOURCES / "conversations"
SETTINGS_FILE = "settings.json"


@dataclass(frozen=True)
class TeamServers:
    """The two servers a team shares (docs/deployment.md)."""

    database_url: str
    """PostgreSQL: the pack catalog, records, actions and the audit log."""
    chroma_url: str
    """The Chroma server: clause vectors."""
    poll_s: float
    """How often a desk looks for another desk's pack changes."""


@dataclass
class Settings:
    """What a user or admin chose, kept in ``settings.json`` in the data folder."""

    embedding_model: str = DEFAULT_MODEL
    """The packaged default, or the folder of any local sentence-transformers model."""
    llm_base_url: str = ""
    """An OpenAI-compatible endpoint (``http://127.0.0.1:8080/v1``); empty: drafts come from templates only."""
    llm_model: str = ""
    llm_key_env: str = "COPILOT_LLM_API_KEY"
    """The environment variable holding the API key; the OS keyring is tried next."""
    llm_timeout_s: float = 20.0
    allow_remote_llm: bool = False
    """Admin setting: may conversation text (redacted) be sent to an endpoint off this machine?"""
    always_on_top: bool = False
    user_name: str = ""
    """Who approves actions at this desk, as the audit log records it; the OS login when empty."""
    role: str = "rep"
    """``rep`` or ``lead``: decides which actions need a second approver (see copilot/actions/guardrails.py)."""
    records_url: str = ""
    """Admin setting: where the records of what reps did are kept, any SQLAlchemy URL (``postgresql://host/db``
    for a team; the password in PGPASSWORD or ~/.pgpass, not here); empty: ``journal.sqlite3`` here."""
    records_retention_days: int = 90
    """Admin setting: records older than this are deleted (when the app starts; `copilot records purge`)."""
    redact_records: bool = True
    """Admin setting: personal data is redacted from the texts records keep, as it is before an LLM sees them."""
    storage: str = "embedded"
    """Admin setting: ``embedded`` (this desk's own chromadb folder and SQLite files) or ``team`` (the Chroma server
    at ``chroma_url`` and the PostgreSQL database at ``database_url``, shared by every desk; docs/deployment.md)."""
    database_url: str = ""
    """Team mode: the PostgreSQL URL of the pack catalog, records, actions and audit log (the password in
    PGPASSWORD or ~/.pgpass, not here)."""
    chroma_url: str = ""
    """Team mode: the Chroma server holding the clause vectors (``http://chroma.example.internal:8000``)."""
    team_poll_s: float = 5.0
    """Team mode: how often a desk looks for packs another desk activated, in seconds."""
    listen_port: int = 8787
    """Port of the push endpoint on 127.0.0.1 (docs/conversation-events.md, "Push"); its token is the data
    folder's ``push-token`` file (copilot/session/push.py), rotated from Settings."""

    pack_max_bytes: int = DEFAULT_LIMITS.pack_max_bytes
    """Admin setting: the largest pack folder, .zip or document loaded, in bytes (retrieval/limits.py)."""
    pack_max_unpacked_bytes: int = DEFAULT_LIMITS.pack_max_unpacked_bytes
    """Admin setting: the most a .zip pack's files may decompress to together, in bytes."""
    pack_max_entries: int = DEFAULT_LIMITS.pack_max_entries
    """Admin setting: the most entries in a .zip pack (or files in a pack folder)."""
    pack_max_clauses: int = DEFAULT_LIMITS.pack_max_clauses
    """Admin setting: the most clauses in one pack version."""
    pack_max_clause_chars: int = DEFAULT_LIMITS.pack_max_clause_chars
    """Admin setting: the longest clause (title and text), in characters."""

    def pack_limits(self) -> PackLimits:
        """The pack limits these settings give; a value that is not a positive whole number is named."""
        try:
            return PackLimits(**{f.name: getattr(self, f.name) for f in fields(PackLimits)})
        except ValueError as exc:
            raise CopilotError(f"{SETTINGS_FILE}: {exc}; fix it in the data folder, or delete it") from None

    def team(self) -> TeamServers | None:
        """The shared servers in team mode (None: embedded); a mode or URL that cannot work is named."""
        if self.storage == "embedded":
            return None
        if self.storage != "team":
            raise CopilotError(f"{SETTINGS_FILE}: storage must be 'embedded' or 'team' (it is {self.storage!r})")
        missing = [name for name in ("database_url", "chroma_url") if not str(getattr(self, name)).strip()]
        if missing:
            raise CopilotError(
                f"{SETTINGS_FILE}: storage is 'team' but {' and '.join(missing)} is empty; name the team's "
                "PostgreSQL database and Chroma server (docs/deployment.md), or set storage to 'embedded'"
            )
        if isinstance(self.team_poll_s, bool) or not isinstance(self.team_poll_s, int | float) or self.team_poll_s <= 0:
            raise CopilotError(f"{SETTINGS_FILE}: team_poll_s must be a positive number of seconds")
        return TeamServers(self.database_url.strip(), self.chroma_url.strip(), float(self.team_poll_s))

    def push_port(self) -> int:
        """``listen_port`` checked: a whole number from 0 (any free port) to 65535, else CopilotError naming it."""
        port = self.listen_port
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
            raise CopilotError(
                f"{SETTINGS_FILE}: listen_port is {port!r}, not a port; set a whole number from 1024 to 65535 "
                "(Settings, Live events), or 0 for any free port"
            )
        return port

    def user(self) -> str:
        return self.user_name or getpass.getuser()

    def llm(self) -> LlmConfig:
        from copilot.llm.client import LlmConfig  # openai loads only when an LLM is used

        return LlmConfig(self.llm_base_url, self.llm_model, self.llm_key_env, self.llm_timeout_s, self.allow_remote_llm)

    @classmethod
    def load(cls, folder: Path) -> Settings:
        path = folder / SETTINGS_FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        except (OSError, ValueError) as exc:
            raise CopilotError(f"{path}: cannot be read ({exc}); fix or delete it to return to the defaults") from None
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})

    def save(self, folder: Path) -> None:
        path = folder / SETTINGS_FILE
        partial = path.with_suffix(".partial")
        partial.write_text(json.dumps(asdict(self), indent=2), encoding="utf-8")
        partial.replace(path)


def home() -> Path:
    """The app data folder: ``COPILOT_HOME`` if set, else the platform's user data dir."""
    override = os.environ.get("COPILOT_HOME")
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("copilot", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path
