"""Where the app keeps its data, and the bundled resources it starts from."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
DEMO_PACK = RESOURCES / "packs" / "northwind-retail"
DEMO_CONVERSATIONS = RESOURCES / "conversations"


def home() -> Path:
    """The app data folder: ``COPILOT_HOME`` if set, else the platform's user data dir."""
    override = os.environ.get("COPILOT_HOME")
    path = Path(override).expanduser() if override else Path(platformdirs.user_data_dir("copilot", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path
