"""The demo store behind a real loopback HTTP server (the plain REST protocol of connectors/http.py),
with faults on demand: each write call takes the next fault from a queue.

It can honour idempotency keys (like the MCP demo store) or ignore them, like many real systems,
in which case every delivered call makes a new side effect and only reading the state tells whether a
lost call was applied.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from aiohttp import web

from base.errors import BusinessRefusal
from connectors.demo_store.store import DemoStore
from tests.fakes.loopback import LoopbackServer

FAULTS = ("ok", "timeout", "error_before", "error_after", "drop_after", "slow", "malformed")
"""timeout: applies, then answers only after the client gave up; error_before: HTTP 503 without applying;
error_after: applies, then HTTP 500; drop_after: applies, then cuts the connection without a reply;
slow: answers correctly but late (within the client's timeout); malformed: applies, answers with HTML."""


class FaultyStore(LoopbackServer):
    """The server, in a thread with its own event loop; ``start`` and ``stop`` it from the test."""

    def __init__(self, db: Path, honour_keys: bool = True, stall_s: float = 3.0, slow_s: float = 0.4) -> None:
        super().__init__("faulty-store")
        self.store = DemoStore(db)
        self.honour_keys = honour_keys
        self.stall_s = stall_s
        self.slow_s = slow_s
        self.faults: list[str] = []
        """Faults for the next write calls, in order; ``ok`` once empty."""
        self.writes = 0
        """Write calls received (delivered), whatever happened next."""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        super().stop()
        self.store.close()

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/tools", self._tools)
        app.router.add_post("/tools/{name}", self._call)

    async def _tools(self, request: web.Request) -> web.Response:
        listed = []
        for spec in self.store.tools():
            schema = dict(spec.input_schema)
            if not self.honour_keys:  # a system without idempotency keys does not advertise one
                properties = {k: v for k, v in schema.get("properties", {}).items() if k != "idempotency_key"}
                schema = {
                    **schema,
                    "properties": properties,
                    "required": [r for r in schema.get("required", []) if r != "idempotency_key"],
                }
            listed.append(
                {
                    "name": spec.name,
                    "description": spec.description,
                    "input_schema": schema,
                    "read_only": spec.read_only,
                }
            )
        return web.json_response({"tools": listed})

    async def _call(self, request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        arguments: dict[str, Any] = await request.json()
        spec = next((s for s in self.store.tools() if s.name == name), None)
        if spec is None:
            return web.json_response({"error": f"no tool {name}"}, status=404)
        if spec.read_only:
            return await self._apply(name, arguments)
        self.writes += 1
        fault = self.faults.pop(0) if self.faults else "ok"
        key = request.headers.get("Idempotency-Key") if self.honour_keys else None
        arguments["idempotency_key"] = key or f"server-{uuid.uuid4()}"
        if fault == "error_before":
            return web.json_response({"error": "service unavailable"}, status=503)
        if fault == "slow":
            await asyncio.sleep(self.slow_s)
        answer = await self._apply(name, arguments)
        if fault == "timeout":
            await asyncio.sleep(self.stall_s)
        elif fault == "error_after":
            return web.json_response({"error": "internal error after commit"}, status=500)
        elif fault == "drop_after":
            assert request.transport is not None
            request.transport.close()
        elif fault == "malformed":
            return web.Response(text="<html><body>Gateway says hello</body></html>", content_type="text/html")
        return answer

    async def _apply(self, name: str, arguments: dict[str, Any]) -> web.Response:
        try:
            result = await asyncio.to_thread(self.store.call, name, arguments)
        except BusinessRefusal as exc:
            return web.json_response({"error": str(exc)}, status=409)
        except ValueError as exc:
            return web.json_response({"error": f"Invalid arguments: {exc}"}, status=400)
        return web.json_response(result)
