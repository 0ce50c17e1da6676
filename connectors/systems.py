"""Every connected system behind one object: which system answers each tool, and opening a client per system.

The shapes the clients share (``ToolInfo``, the ``System`` protocol, reply parsing) live in
``contract.py``, so the clients never import this module back.
"""

from __future__ import annotations

from typing import Any

from base.errors import ToolRefused
from connectors.config import SystemConfig
from connectors.contract import System, ToolInfo
from connectors.http import RestSystem

__all__ = ["System", "Systems", "ToolInfo", "open_system"]
"""``System`` and ``ToolInfo`` are re-exported: copilot/ and ui/ import them from here."""


def open_system(config: SystemConfig, token: str = "") -> System:
    """A client for ``config``; nothing connects until the first call."""
    if config.transport == "rest":
        return RestSystem(config, token)
    # Imported here, not at the top: the MCP SDK takes about a second to import, which importing
    # Systems (the panel's start-up, proposals) should not pay.
    from connectors.mcp_client import McpSystem

    return McpSystem(config, token)


class Systems:
    """Every connected system, and which one answers each tool (the first system listing it)."""

    def __init__(self, systems: list[System]) -> None:
        self.systems = systems
        self._tools: dict[str, tuple[System, ToolInfo]] | None = None

    async def tools(self) -> dict[str, tuple[System, ToolInfo]]:
        """Tool name → (system, info); if a system cannot list its tools this raises its error, and the
        next call asks every system again."""
        if self._tools is None:
            found: dict[str, tuple[System, ToolInfo]] = {}
            for system in self.systems:
                for info in await system.tools():
                    found.setdefault(info.name, (system, info))
            self._tools = found
        return self._tools

    async def info(self, tool: str) -> ToolInfo | None:
        entry = (await self.tools()).get(tool)
        return entry[1] if entry else None

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        entry = (await self.tools()).get(tool)
        if entry is None:
            raise ToolRefused(f"No connected system offers {tool!r}; check connectors.toml")
        return await entry[0].call(tool, arguments)

    def pre_approved(self, tool: str) -> bool:
        """Whether an admin lets ``tool`` run without a click (only read-only lookups qualify)."""
        if self._tools is None or tool not in self._tools:
            return False
        system, info = self._tools[tool]
        return info.read_only and tool in system.config.pre_approved

    async def aclose(self) -> None:
        for system in self.systems:
            await system.aclose()
