"""The push endpoint: conversation events over HTTP on 127.0.0.1, into the inbox (docs/conversation-events.md, "Push").

``POST /events`` takes one event (a JSON object) or a batch (a JSON array) in the documented format;
``POST /chatwoot`` takes Chatwoot's webhooks (connectors/chatwoot.py maps them); ``GET /status`` says what
the inbox has applied. Every request needs the per-install token (``Authorization: Bearer TOKEN``; the
webhook route also takes ``?token=`` or a valid Chatwoot signature, since Chatwoot cannot add headers).

A batch is parsed whole before any of it is applied: one bad event and the answer is 422 naming it and
its field, and nothing was applied. The server is uvicorn on the caller's running asyncio loop (the
panel's qasync loop, or ``copilot listen``'s), bound to the loopback interface only.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hmac
import json
import logging
import os
import secrets
import socket
from collections.abc import Generator
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from base.errors import ConnectorError, CopilotError, EventError
from connectors.chatwoot import verify_signature, webhook_records
from copilot.session.inbox import Inbox
from copilot.session.tasks import Tasks

log = logging.getLogger("copilot")

HOST = "127.0.0.1"
TOKEN_FILE = "push-token"
"""In the data folder, readable by its owner only (0600)."""
MAX_BODY_BYTES = 8_000_000
"""Largest request body: a batch of a few long messages (one event line may be 1,000,000 bytes)."""


def push_token(folder: Path) -> str:
    """The install's push token, made on first use (``secrets.token_urlsafe``) and kept in ``folder``."""
    path = folder / TOKEN_FILE
    try:
        token = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return rotate_token(folder)
    except OSError as exc:
        raise CopilotError(f"{path}: cannot be read ({exc.strerror}); fix its permissions or delete it") from None
    return token or rotate_token(folder)


def rotate_token(folder: Path) -> str:
    """A new push token replaces the old one at once (senders with the old one get 401 from now on)."""
    token = secrets.token_urlsafe(32)
    path = folder / TOKEN_FILE
    partial = path.with_name(f"{TOKEN_FILE}.partial")
    partial.unlink(missing_ok=True)
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(token + "\n")
    partial.replace(path)
    return token


def _error(status: int, message: str, **more: Any) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": message, **more}, status_code=status, headers=headers)


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the app owns SIGINT and SIGTERM (ui/lifetime.py) and stops the
    server itself, so uvicorn must neither take them over nor raise them again when it stops.

    Nor its ticks: uvicorn wakes ten times a second to see whether to stop (and to refresh its Date
    header); this one waits for ``stop``, so a panel idle beside the helpdesk stays idle, and no timer of
    the server is due while a test runs Qt's events outside the loop. It sends no Date header.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self._stopping = asyncio.Event()

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield

    async def main_loop(self) -> None:
        await self._stopping.wait()

    def stop(self) -> None:
        self.should_exit = True
        self._stopping.set()


class PushEndpoint:
    """The listener; ``start`` binds it (port 0: any free port), ``aclose`` stops it."""

    def __init__(self, inbox: Inbox, token: str, port: int, chatwoot_secret: str = "") -> None:
        self.inbox = inbox
        self._token = token
        self._chatwoot_secret = chatwoot_secret
        self.port = port
        self._server: _Server | None = None
        self._serving: asyncio.Task[None] | None = None
        self._tasks = Tasks(asyncio.get_running_loop())
        self.app = Starlette(
            routes=[
                Route("/events", self._events, methods=["POST"]),
                Route("/chatwoot", self._chatwoot, methods=["POST"]),
                Route("/status", self._status, methods=["GET"]),
            ],
            max_body_size=MAX_BODY_BYTES,
        )

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def rotate(self, token: str) -> None:
        """Accept ``token`` from now on, and no longer the previous one."""
        self._token = token

    async def start(self) -> int:
        """Bind 127.0.0.1:``port`` and serve on the running loop; the port it listens on."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, self.port))
        except OSError as exc:
            sock.close()
            why = "is in use (another copilot, or another program)" if exc.errno == errno.EADDRINUSE else exc.strerror
            raise CopilotError(
                f"push endpoint: port {self.port} on {HOST} {why}; choose another port (Settings, or --port)"
            ) from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_config=None, log_level="warning", access_log=False, lifespan="off", ws="none",
            timeout_graceful_shutdown=1, date_header=False,
        )  # fmt: skip
        self._server = _Server(config)
        task = self._serving = self._tasks.spawn(self._server.serve(sockets=[sock]))
        while not self._server.started and task is not None and not task.done():  # noqa: ASYNC110
            await asyncio.sleep(0.01)  # uvicorn's only sign that it listens is its ``started`` flag
        if task is None or task.done():
            raise CopilotError(f"push endpoint: could not start on {HOST}:{self.port}")
        log.info("push endpoint listening on %s", self.url)
        return self.port

    async def aclose(self) -> None:
        """Stop accepting, let requests in progress finish (about a second at most), apply what is held."""
        if self._server is not None and self._serving is not None:
            self._server.stop()
            await asyncio.wait([self._serving], timeout=2)
        await self._tasks.aclose()
        self.inbox.flush()

    def _authorised(self, request: Request, query: bool = False) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer":
            token = request.query_params.get("token", "") if query else ""
        return bool(token) and hmac.compare_digest(token.strip().encode(), self._token.encode())

    async def _body(self, request: Request) -> object:
        """The request's JSON value; ValueError says why it is not one."""
        raw = await request.body()
        try:
            return json.loads(raw)
        except RecursionError:
            raise ValueError("the JSON is nested too deeply; flatten it") from None
        except ValueError as exc:  # not UTF-8, not JSON, a number too long to convert
            raise ValueError(f"the body is not JSON ({exc}); send one event object or an array of them") from None

    async def _events(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return _error(401, "missing or wrong token: send 'Authorization: Bearer TOKEN' (Settings shows it)")
        try:
            body = await self._body(request)
        except ValueError as exc:
            return _error(400, str(exc))
        records = body if isinstance(body, list) else [body]
        if not records:
            return _error(400, "the batch is empty; send at least one event")
        try:
            receipt = self.inbox.submit_records(records, "push" if isinstance(body, list) else "push event")
        except EventError as exc:
            return _error(422, f"nothing applied: {exc}", field=exc.field, event=exc.line)
        return JSONResponse(receipt.as_dict())

    async def _chatwoot(self, request: Request) -> JSONResponse:
        signed = False
        if self._chatwoot_secret:
            raw = await request.body()
            signed = verify_signature(
                self._chatwoot_secret,
                request.headers.get("x-chatwoot-timestamp", ""),
                raw,
                request.headers.get("x-chatwoot-signature", ""),
            )
        if not signed and not self._authorised(request, query=True):
            return _error(401, "missing or wrong token: add ?token=TOKEN to the webhook URL, or sign the webhook")
        try:
            records = webhook_records(await self._body(request))
            receipt = self.inbox.submit_records(records, "chatwoot webhook")
        except ValueError as exc:
            return _error(400, str(exc))
        except (ConnectorError, EventError) as exc:
            return _error(422, f"nothing applied: {exc}")
        return JSONResponse(receipt.as_dict())

    async def _status(self, request: Request) -> JSONResponse:
        if not self._authorised(request):
            return _error(401, "missing or wrong token: send 'Authorization: Bearer TOKEN'")
        return JSONResponse(self.inbox.status())
