"""A real loopback HTTP server speaking the OpenAI chat-completions protocol, with faults on demand.

It stands in for a remote LLM we cannot run in tests. Like a model that follows its prompt, it echoes
the placeholders it was sent ("[EMAIL_1]") in its reply, split across stream chunks, so restoration
is proven end to end; and it records every request body, so a test can assert what left the machine.
"""

from __future__ import annotations

import asyncio
import json
import re
import threading
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

MODES = ("ok", "error", "timeout", "slow", "drop", "refuse_json_schema", "refuse_structured", "bad_json")
"""ok: answers; error: HTTP 500; timeout: no answer at all; slow: streams a little, then only SSE
keep-alive comments (bytes keep coming, so a socket read timeout never fires, but no text does);
drop: streams a little, then cuts the connection;
refuse_json_schema: HTTP 400 for json_schema (like llama.cpp); refuse_structured: HTTP 400 for any
response_format; bad_json: answers JSON requests with prose."""

_PLACEHOLDER = re.compile(r"\[[A-Z]+_\d+\]")


class FakeOpenAI(LoopbackServer):
    """The server, in a thread with its own event loop; `start` and `stop` it from the test."""

    handler_cancellation = True  # a client that hangs up cancels its handler, which is how we see it go

    def __init__(
        self,
        reply: str = "Thanks for waiting. I have checked your order and sent the details",
        json_reply: dict[str, Any] | None = None,
        model: str = "fake-model",
        chunk_chars: int = 4,
        stall_s: float = 30.0,
    ) -> None:
        super().__init__("fake-openai")
        self.mode = "ok"
        self.reply = reply
        """Reply text; the placeholders of the request are appended to it."""
        self.json_reply = json_reply if json_reply is not None else {"category": "refund", "note": "ok"}
        """The object answered to JSON requests."""
        self.model = model
        self.chunk_chars = chunk_chars
        self.stall_s = stall_s
        """How long "timeout" and "slow" stall: longer than any client timeout in the tests."""
        self.requests: list[dict[str, Any]] = []
        """Every chat-completion request body received, in order."""
        self.api_keys: list[str] = []
        """The bearer token of each chat-completion request."""
        self.sent: list[str] = []
        """Every content piece streamed, in order."""
        self._disconnects = 0
        self._disconnected = threading.Condition()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def disconnects(self) -> int:
        """Requests whose client went away before the answer was complete."""
        with self._disconnected:
            return self._disconnects

    def wait_for_disconnect(self, timeout: float) -> bool:
        with self._disconnected:
            return self._disconnected.wait_for(lambda: self._disconnects > 0, timeout)

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/chat/completions", self._completions)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"object": "list", "data": [{"id": self.model, "object": "model", "owned_by": "fake"}]}
        )

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append(body)
        self.api_keys.append(request.headers.get("Authorization", "").removeprefix("Bearer "))
        try:
            return await self._answer(request, body)
        except (asyncio.CancelledError, ConnectionResetError):
            with self._disconnected:
                self._disconnects += 1
                self._disconnected.notify_all()
            raise

    async def _answer(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        response_format = (body.get("response_format") or {}).get("type")
        if self.mode == "error":
            return _error(500, "model crashed: out of memory", "server_error")
        if self.mode == "refuse_json_schema" and response_format == "json_schema":
            return _error(400, "response_format type json_schema is not supported", "invalid_request_error")
        if self.mode == "refuse_structured" and response_format:
            return _error(400, f"unknown response_format type {response_format}", "invalid_request_error")
        if self.mode == "timeout" or (self.mode == "slow" and not body.get("stream")):
            await asyncio.sleep(self.stall_s)
        if body.get("stream"):
            return await self._stream(request, self._text(body))
        return web.json_response(self._completion(self._content(body, response_format)))

    def _text(self, body: dict[str, Any]) -> str:
        sent = " ".join(str(m.get("content", "")) for m in body["messages"])
        echoed = list(dict.fromkeys(_PLACEHOLDER.findall(sent)))
        return f"{self.reply} ({', '.join(echoed)})." if echoed else f"{self.reply}."

    def _content(self, body: dict[str, Any], response_format: str | None) -> str:
        asks_json = response_format or "JSON" in json.dumps(body["messages"])
        if not asks_json:
            return self._text(body)
        if self.mode == "bad_json":
            return "Sure! Here is the JSON you asked for: {category: refund"
        answer = json.dumps(self.json_reply)
        # Without a response_format, models like to fence their JSON.
        return answer if response_format else f"```json\n{answer}\n```"

    async def _stream(self, request: web.Request, text: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        for index, start in enumerate(range(0, len(text), self.chunk_chars)):
            if self.mode == "slow" and index == 2:
                await _keep_alive(response, self.stall_s)
            if self.mode == "drop" and index == 2 and request.transport is not None:
                request.transport.abort()
                return response
            piece = text[start : start + self.chunk_chars]
            self.sent.append(piece)
            await _event(response, self._chunk({"content": piece}, None))
        await _event(response, self._chunk({}, "stop"))
        await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    def _chunk(self, delta: dict[str, str], finish: str | None) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion.chunk",
            "created": 0,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }

    def _completion(self, content: str) -> dict[str, Any]:
        return {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 0,
            "model": self.model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }


def _error(status: int, message: str, kind: str) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "code": None}}, status=status)


async def _keep_alive(response: web.StreamResponse, seconds: float) -> None:
    """SSE comments, which proxies send to keep a quiet stream open, until the time is up."""
    deadline = asyncio.get_running_loop().time() + seconds
    while asyncio.get_running_loop().time() < deadline:
        await response.write(b": keep-alive\n\n")
        await asyncio.sleep(0.1)


async def _event(response: web.StreamResponse, data: dict[str, Any]) -> None:
    await response.write(f"data: {json.dumps(data)}\n\n".encode())
