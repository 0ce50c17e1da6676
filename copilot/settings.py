"""Where the app keeps its data, and the bundled resources it starts from."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import platformdirs

from copilot.errors import CopilotError
from retrieval.embed import DEFAULT_MODEL

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_PACK = RESOURCES / "packs" / "northwind-retail"
DEMO_CONVERSATIONS = RESOURCES / "conversations"
SETTINGS_FILE = "settings.json"


@dataclass
class Settings:
    """What a user or admin chose, kept in ``settings.json`` in the data folder."""

    embedding_model: str = DEFAULT_MODEL
    """The packaged default, or the folder of any local sentence-transformers model."""

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
