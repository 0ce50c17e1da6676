"""What every connected system offers the copilot, whatever protocol it speaks: its tools, and calls.

A call returns the system's JSON object or raises one of the ConnectorError kinds, which say what is
known about a write (never delivered, maybe applied, refused) so the caller can decide to retry,
reconcile or report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from base.errors import MalformedReply, ToolRefused
from connectors.config import SystemConfig


@dataclass(frozen=True)
class ToolInfo:
    name: str
    description: str = ""
    schema: dict[str, Any] = field(default_factory=dict)
    read_only: bool = False

    @property
    def takes_idempotency_key(self) -> bool:
        return "idempotency_key" in self.schema.get("properties", {})

    @property
    def dry_run(self) -> bool:
        return "dry_run" in self.schema.get("properties", {})


class System(Protocol):
    config: SystemConfig

    async def tools(self) -> tuple[ToolInfo, ...]: ...

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]: ...

    async def aclose(self) -> None: ...


def json_object(text: str, system: str, tool: str) -> dict[str, Any]:
    """A reply body as a JSON object, or MalformedReply naming the system and tool."""
    try:
        value = json.loads(text)
    except ValueError:
        raise MalformedReply(
            f"{system}: {tool} answered with something that is not JSON "
            f"({text[:60]!r}); ask the system's owner to check it"
        ) from None
    if not isinstance(value, dict):
        raise MalformedReply(
            f"{system}: {tool} answered with a JSON {type(value).__name__}, not an object; "
            "ask the system's owner to check it"
        )
    return value


def open_system(config: SystemConfig, token: str = "") -> System:
    """A client for ``config``; nothing connects until the first call."""
    if config.transport == "rest":
        from connectors.http import RestSystem

        return RestSystem(config, token)
    from connectors.mcp_client import McpSystem

    return McpSystem(config, token)


class Systems:
    """Every connected system, and which one answers each tool (the first system listing it)."""

    def __init__(self, systems: list[System]) -> None:
        self.systems = systems
        self._tools: dict[str, tuple[System, ToolInfo]] | None = None

    async def tools(self) -> dict[str, tuple[System, ToolInfo]]:
        """Tool name → (system, info); a system that cannot list its tools is skipped until the next call."""
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
