"""A plain HTTP system: ``GET {url}/tools`` lists tools, ``POST {url}/tools/{name}`` with a JSON body calls one.

A 4xx answer with ``{"error": ...}`` is a refusal; 5xx, timeouts and dropped connections leave the
outcome unknown. Systems that take an idempotency key get it in the ``Idempotency-Key`` header.
"""

from __future__ import annotations

from typing import Any

import httpx

from base.errors import MalformedReply, ReplyLost, SystemUnavailable, ToolRefused
from connectors.config import SystemConfig
from connectors.contract import ToolInfo, json_object


class RestSystem:
    """A plain HTTP system (``transport = "rest"``), through one ``httpx.AsyncClient``."""

    def __init__(self, config: SystemConfig, token: str = "") -> None:
        self.config = config
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._http = httpx.AsyncClient(
            base_url=config.url.rstrip("/"), headers=headers, timeout=httpx.Timeout(config.timeout_s)
        )

    async def tools(self) -> tuple[ToolInfo, ...]:
        listed = await self._request("GET", "/tools", "list tools")
        tools = listed.get("tools")
        if not isinstance(tools, list):
            raise MalformedReply(f"{self.config.name}: /tools did not list tools")
        return tuple(
            ToolInfo(
                str(t.get("name")),
                str(t.get("description", "")),
                dict(t.get("input_schema") or {}),
                bool(t.get("read_only")),
            )
            for t in tools
            if isinstance(t, dict)
        )

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        body = dict(arguments)
        key = body.pop("idempotency_key", None)
        headers = {"Idempotency-Key": str(key)} if key and self.config.idempotency else {}
        return await self._request("POST", f"/tools/{tool}", tool, body, headers)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _request(
        self,
        method: str,
        path: str,
        what: str,
        body: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        name = self.config.name
        try:
            response = await self._http.request(method, path, json=body, headers=headers)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise SystemUnavailable(
                f"{name}: cannot connect to {self.config.url} ({type(exc).__name__}); check that "
                "the system is running and connectors.toml points at it"
            ) from None
        except httpx.HTTPError as exc:
            raise ReplyLost(f"{name}: {what} got no reply ({type(exc).__name__}); the outcome is unknown") from None
        if response.status_code >= 500:
            raise ReplyLost(
                f"{name}: {what} failed on the system's side (HTTP {response.status_code}); the outcome is unknown"
            )
        if response.status_code >= 400:
            try:
                message = str(response.json().get("error") or response.text)
            except ValueError:
                message = response.text
            raise ToolRefused(f"{name}: {message.strip() or f'HTTP {response.status_code}'}")
        return json_object(response.text, name, what)
