"""What every connected system offers the copilot, whatever protocol it speaks: its tools, and calls.

A call returns the system's JSON object or raises one of the ConnectorError kinds, which say what is
known about a write (never delivered, maybe applied, refused) so the caller can decide to retry,
reconcile or report. The protocol clients (``http.py``, ``mcp_client.py``) implement ``System``;
``systems.py`` opens them and routes tools to them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Protocol

from base.errors import MalformedReply
from connectors.config import SystemConfig


@dataclass(frozen=True)
class ToolInfo:
    """One tool a system lists: its name, what it does, its argument schema and whether it only reads."""

    name: str
    description: str = ""
    schema: dict[str, Any] = field(default_factory=dict)
    """The tool's JSON schema for its arguments."""
    read_only: bool = False
    """True for lookups that change nothing (only these may be pre-approved)."""

    @property
    def takes_idempotency_key(self) -> bool:
        return "idempotency_key" in self.schema.get("properties", {})

    @property
    def dry_run(self) -> bool:
        return "dry_run" in self.schema.get("properties", {})


class System(Protocol):
    """A client of one connected system; nothing connects until the first call."""

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
