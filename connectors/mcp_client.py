"""An MCP system (stdio or streamable HTTP) through the official SDK.

The SDK's client lives in anyio task groups that must be entered and left by the same task, so one
worker task owns the connection and serves calls from a queue. A connection that fails is closed and
opened again on the next call; a call in flight when it failed is reported as ``ReplyLost``.

Each request has the system's ``timeout_s``, and so has connecting over HTTP; connecting to a stdio
system has at least ``START_S``, because it starts a program, whose imports alone can take seconds
on a busy machine (a program that exits is noticed at once).

Closing a stdio system closes the program's stdin and gives it ``EXIT_GRACE_S`` to exit before the SDK
terminates it (SIGTERM, then SIGKILL), as the MCP lifecycle describes; the SDK's own grace of 2 s would
hold a closing app whose server was still importing when the rep closed the window.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx2
import mcp.client.stdio
from mcp import Client
from mcp.client.stdio import StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client
from mcp_types import CallToolResult, TextContent

from base.errors import ConnectorError, ReplyLost, SystemUnavailable, ToolRefused
from connectors.config import SystemConfig
from connectors.contract import ToolInfo

log = logging.getLogger("copilot.connectors")
START_S = 30.0
"""Least time a stdio system has to start and answer the protocol handshake."""
EXIT_GRACE_S = 0.25
"""How long a stdio program has to exit once its stdin is closed (a server that reads its input exits at once)."""
mcp.client.stdio.PROCESS_TERMINATION_TIMEOUT = EXIT_GRACE_S
CLOSE_S = 10.0
"""Longest a closing connection is waited for (the SDK's own shutdown takes EXIT_GRACE_S plus a kill)."""
_T = TypeVar("_T")
_Op = Callable[[Client], Awaitable[Any]]
_Queue = asyncio.Queue[tuple[_Op, asyncio.Future[Any]] | None]


class McpSystem:
    """An MCP system over stdio or streamable HTTP; one worker task owns its connection."""

    def __init__(self, config: SystemConfig, token: str = "") -> None:
        self.config = config
        self._token = token
        self._queue: _Queue | None = None
        self._worker: asyncio.Task[None] | None = None
        self._closed = False

    async def tools(self) -> tuple[ToolInfo, ...]:
        async def listed(client: Client) -> tuple[ToolInfo, ...]:
            # The SDK takes a timeout per call_tool but not per list_tools; the session has none (see _client).
            async with asyncio.timeout(self.config.timeout_s):
                result = await client.list_tools()
            return tuple(
                ToolInfo(
                    t.name,
                    t.description or "",
                    dict(t.input_schema or {}),
                    bool(t.annotations and t.annotations.read_only_hint),
                )
                for t in result.tools
            )

        return await self._submit(listed, "list tools")

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        async def called(client: Client) -> dict[str, Any]:
            return self._result(
                tool, await client.call_tool(tool, arguments, read_timeout_seconds=self.config.timeout_s)
            )

        return await self._submit(called, tool)

    async def aclose(self) -> None:
        """Close the connection; later calls are refused rather than opening a new one."""
        self._closed = True
        worker, self._worker, self._queue = self._worker, None, None
        if worker is not None and not worker.done():
            # Cancelled, not asked to finish: a request in flight belongs to a caller that is gone, and an app
            # closing must not wait for it. The worker's own ``finally`` closes the connection in its task.
            worker.cancel()
            # Our own cancellation still propagates; the worker's does not. Bounded: a connection whose
            # cleanup waits on a timer that never fires (an anyio timeout run outside the loop) must not hold
            # a closing app; the program is then left to the app's exit.
            _, pending = await asyncio.wait([worker], timeout=CLOSE_S)
            if pending:
                log.warning("%s: the connection did not close within %.0f s; leaving it", self.config.name, CLOSE_S)

    def _result(self, tool: str, result: CallToolResult) -> dict[str, Any]:
        text = "\n".join(c.text for c in result.content if isinstance(c, TextContent))
        if result.is_error:
            raise ToolRefused(f"{self.config.name}: {text.strip() or f'{tool} failed without saying why'}")
        if isinstance(result.structured_content, dict):
            return dict(result.structured_content)
        return _as_record(text)

    async def _submit(self, op: Callable[[Client], Awaitable[_T]], what: str) -> _T:
        if self._closed:
            raise SystemUnavailable(f"{self.config.name}: the connection was closed; {what} was not sent")
        if self._worker is None or self._worker.done() or self._queue is None:
            self._queue = asyncio.Queue()  # bound to this loop, like the worker that serves it
            self._worker = asyncio.get_running_loop().create_task(self._serve(self._queue))
        future: asyncio.Future[_T] = asyncio.get_running_loop().create_future()
        await self._queue.put((op, future))
        # The worker enforces the connect and call timeouts; this outer bound only guards against a stuck worker.
        try:
            return await asyncio.wait_for(future, self._connect_s + self.config.timeout_s * 2 + 10)
        except TimeoutError:
            raise ReplyLost(f"{self.config.name}: {what} got no reply in time; the outcome is unknown") from None

    @property
    def _connect_s(self) -> float:
        return max(self.config.timeout_s, START_S) if self.config.transport == "stdio" else self.config.timeout_s

    def _client(self) -> Client:
        if self.config.transport == "stdio":
            command, *args = self.config.command
            # No session-wide read timeout: it would also bound the handshake, which waits for the
            # program to start; _connect bounds that, and each request has its own timeout.
            return Client(StdioServerParameters(command=command, args=args), cache=None)
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else None
        http = create_mcp_http_client(headers=headers, timeout=httpx2.Timeout(self.config.timeout_s))
        return Client(streamable_http_client(self.config.url, http_client=http), cache=None)

    async def _serve(self, queue: _Queue) -> None:
        stack: contextlib.AsyncExitStack | None = None
        client: Client | None = None
        try:
            while (item := await queue.get()) is not None:
                op, future = item
                if future.done():  # the caller gave up waiting
                    continue
                try:
                    if client is None:
                        stack = contextlib.AsyncExitStack()
                        client = await self._connect(stack)
                    outcome = await op(client)
                except asyncio.CancelledError:  # the connection is being closed under this request
                    if not future.done():
                        future.set_exception(ReplyLost(f"{self.config.name}: closed mid-call; the outcome is unknown"))
                    raise
                except ToolRefused as exc:
                    future.set_exception(exc)
                    continue
                except SystemUnavailable as exc:
                    await self._drop(stack)
                    stack = client = None
                    future.set_exception(exc)
                    continue
                except Exception as exc:  # noqa: BLE001 - any failure mid-call means the request may have been applied
                    await self._drop(stack)
                    stack = client = None
                    error = (
                        exc
                        if isinstance(exc, ConnectorError)
                        else ReplyLost(
                            f"{self.config.name}: no usable reply ({_describe(exc)}); the outcome is unknown"
                        )
                    )
                    if not future.done():
                        future.set_exception(error)
                    continue
                if not future.done():
                    future.set_result(outcome)
        finally:
            await self._drop(stack)

    async def _connect(self, stack: contextlib.AsyncExitStack) -> Client:
        try:
            # asyncio.timeout, not wait_for: wait_for would enter the client in another task, and the
            # SDK's task groups must be left by the task that entered them.
            async with asyncio.timeout(self._connect_s):
                return await stack.enter_async_context(self._client())
        except Exception as exc:  # noqa: BLE001 - whatever stops a connection, the request was never sent
            await self._drop(stack)
            where = " ".join(self.config.command) if self.config.transport == "stdio" else self.config.url
            raise SystemUnavailable(
                f"{self.config.name}: cannot connect to {where} ({_describe(exc)}); check that "
                "the system is running and connectors.toml points at it"
            ) from None

    @staticmethod
    async def _drop(stack: contextlib.AsyncExitStack | None) -> None:
        if stack is not None:
            try:
                await stack.aclose()
            except Exception as exc:  # noqa: BLE001 - closing a broken connection often fails again; nothing to save
                log.debug("closing an MCP connection failed: %s", _describe(exc))


def _as_record(text: str) -> dict[str, Any]:
    """A tool's text answer as a record: a JSON object as it is, other JSON under ``value``, and plain text
    (a bare id, a sentence) under ``text``; tools answer in any of these shapes."""
    try:
        value = json.loads(text)
    except ValueError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


def _describe(exc: BaseException) -> str:
    """One line about an error, unwrapping anyio's exception groups."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
