"""Which systems this copilot is connected to: ``connectors.toml`` in the data folder, or, when there is
none, the bundled demo store (demo mode), started on first use with its database in the data folder."""

from __future__ import annotations

import sys
from pathlib import Path

from connectors.config import CONNECTORS_FILE, SystemConfig, load_connectors
from connectors.demo_store.store import SPECS
from connectors.secrets import lookup
from connectors.systems import Systems, open_system

DEMO_STORE_FILE = "demo-store.sqlite3"
DEMO_LOOKUPS = tuple(spec.name for spec in SPECS if spec.read_only)
"""The demo store's read-only tools, pre-approved as an admin would in connectors.toml."""


def demo_store(folder: Path, timeout_s: float = 10.0) -> SystemConfig:
    """The bundled demo store as an MCP system over stdio, its lookups pre-approved."""
    command = (sys.executable, "-m", "connectors.demo_store.server", "--db", str(folder / DEMO_STORE_FILE))
    return SystemConfig(
        name="demo-store", transport="stdio", command=command, timeout_s=timeout_s, pre_approved=DEMO_LOOKUPS
    )


def configured(folder: Path) -> tuple[SystemConfig, ...]:
    """The systems of ``connectors.toml``, or the demo store when the file does not exist."""
    path = folder / CONNECTORS_FILE
    return load_connectors(path) if path.exists() else (demo_store(folder),)


def connect(configs: tuple[SystemConfig, ...]) -> Systems:
    """Clients for ``configs``; HTTP systems get their token from the environment or the OS keyring
    (a stdio system is a local process and takes none)."""
    return Systems(
        [open_system(c, "" if c.transport == "stdio" else lookup(c.token_env, "copilot", c.name).key) for c in configs]
    )
