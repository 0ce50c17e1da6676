"""A loopback Chatwoot: the application API routes the connector uses, as Chatwoot answers them, with
faults on demand.

What it speaks (read from Chatwoot's own controllers, finders and jbuilder views):
- auth: the ``api_access_token`` header; a wrong one is 401 ``{"error": "You need to sign in or sign up
  before continuing."}``, another account is 404 ``{"error": "Resource could not be found"}``;
- ``GET /api/v1/accounts/{account}/conversations?assignee_type=me&status=open&page=N``: 25 a page, newest
  activity first, ``{"data": {"meta": {"mine_count", ...}, "payload": [conversation, ...]}}``; a
  conversation has ``id`` (its display id), ``status``, ``meta.sender`` (the contact),
  ``meta.assignee``, ``agent_last_seen_at`` and ``messages`` (its last message) among others;
- ``GET .../conversations/{id}``: one conversation;
- ``GET .../conversations/{id}/messages``: ``{"meta": {...}, "payload": [message, ...]}``, the latest 20, or
  with ``after=ID`` up to 100 with a greater id oldest first, or with ``before=ID`` the 20 before it;
  ``message_type`` is the enum's integer (0 incoming, 1 outgoing, 2 activity, 3 template), ``created_at``
  epoch seconds;
- ``POST .../conversations/{id}/messages`` ``{"content", "message_type", "private"}``: the new message;
- webhooks: ``message_created`` (the message with ``message_type`` as text, ``created_at`` as ISO text,
  its ``conversation``, ``sender``, ``inbox``, ``account``) and ``conversation_status_changed`` (the
  conversation with ``changed_attributes``), built by ``webhook_*`` below.

Faults: ``fail(status, times, retry_after)`` answers the next requests with that status; ``drop(times)``
sends the head and part of a body, then closes the connection.
"""

from __future__ import annotations

import itertools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from tests.fakes.loopback import LoopbackServer

CONVERSATIONS_PAGE = 25
START = 1_780_000_000
"""Epoch seconds of the first message: times grow by one second per message."""
ME = {"id": 7, "name": "Rep Robin", "email": "robin@example.com", "type": "user"}


@dataclass
class FakeConversation:
    display_id: int
    customer: str
    assignee_id: int | None = ME["id"]
    status: str = "open"
    agent_last_seen_at: int = 0
    channel: str = "Channel::WebWidget"
    created_at: int = START


@dataclass
class Fault:
    status: int
    """HTTP status to answer, or 0 to drop the connection mid-body."""
    retry_after: str | None = None


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    token: str


class FakeChatwoot(LoopbackServer):
    """The server, in a thread with its own loop; ``start`` and ``stop`` it from the test."""

    def __init__(self, token: str = "cw-token", account_id: int = 3) -> None:
        super().__init__("fake-chatwoot")
        self.token = token
        self.account_id = account_id
        self.conversations: dict[int, FakeConversation] = {}
        self.messages: list[dict[str, Any]] = []
        self.seen: list[Seen] = []
        """Every request received, faults included."""
        self.faults: list[Fault] = []
        self._ids = itertools.count(1001)
        self._clock = itertools.count(START)
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    # The scripted side: what customers, reps and the dashboard do.

    def open_conversation(self, display_id: int, customer: str, **fields: Any) -> FakeConversation:
        with self._lock:
            conversation = FakeConversation(display_id, customer, **fields)
            self.conversations[display_id] = conversation
            return conversation

    def say(self, display_id: int, text: str, message_type: int = 0, private: bool = False) -> dict[str, Any]:
        """A message joins the conversation (0: the customer, 1: an agent, 2: activity), as Chatwoot stores it."""
        with self._lock:
            message = {
                "id": next(self._ids),
                "content": text,
                "inbox_id": 1,
                "conversation_id": display_id,
                "message_type": message_type,
                "content_type": "text",
                "created_at": next(self._clock),
                "private": private,
                "source_id": None,
                "sender": {**ME, "type": "user"}
                if message_type == 1
                else {"id": 99, "name": "contact", "type": "contact"},
            }
            self.messages.append(message)
            return message

    def view(self, display_id: int) -> None:
        """The rep opens the conversation in the dashboard (Chatwoot updates agent_last_seen_at)."""
        with self._lock:
            self.conversations[display_id].agent_last_seen_at = next(self._clock)

    def resolve(self, display_id: int) -> None:
        with self._lock:
            self.conversations[display_id].status = "resolved"

    def fail(self, status: int, times: int = 1, retry_after: str | None = None) -> None:
        self.faults.extend(Fault(status, retry_after) for _ in range(times))

    def drop(self, times: int = 1) -> None:
        self.faults.extend(Fault(0) for _ in range(times))

    def posted(self) -> list[dict[str, Any]]:
        """Messages created through the API (the rep's replies the connector posted)."""
        return [m for m in self.messages if m.get("posted")]

    # Payloads as Chatwoot shapes them.

    def conversation_json(self, conversation: FakeConversation) -> dict[str, Any]:
        own = [m for m in self.messages if m["conversation_id"] == conversation.display_id]
        return {
            "meta": {
                "sender": {"id": 99, "name": conversation.customer, "type": "contact"},
                "channel": conversation.channel,
                "assignee": ME if conversation.assignee_id == ME["id"] else None,
                "hmac_verified": False,
            },
            "id": conversation.display_id,
            "messages": [self._push_data(own[-1])] if own else [],
            "account_id": self.account_id,
            "inbox_id": 1,
            "status": conversation.status,
            "agent_last_seen_at": conversation.agent_last_seen_at,
            "created_at": conversation.created_at,
            "timestamp": own[-1]["created_at"] if own else conversation.created_at,
            "last_activity_at": own[-1]["created_at"] if own else conversation.created_at,
            "unread_count": 0,
            "labels": [],
        }

    def webhook_message_created(self, message: dict[str, Any]) -> dict[str, Any]:
        conversation = self.conversations[message["conversation_id"]]
        kinds = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}
        return {
            "event": "message_created",
            "id": message["id"],
            "content": message["content"],
            "created_at": datetime.fromtimestamp(message["created_at"], UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
            "message_type": kinds[message["message_type"]],
            "content_type": "text",
            "content_attributes": {},
            "private": message["private"],
            "source_id": None,
            "sender": message["sender"],
            "inbox": {"id": 1, "name": "Website"},
            "account": {"id": self.account_id, "name": "Northwind"},
            "conversation": {**self.conversation_json(conversation), "channel": conversation.channel},
        }

    def webhook_status_changed(self, display_id: int, previous: str) -> dict[str, Any]:
        conversation = self.conversations[display_id]
        return {
            **self.conversation_json(conversation),
            "event": "conversation_status_changed",
            "changed_attributes": [{"status": {"previous_value": previous, "current_value": conversation.status}}],
        }

    def _push_data(self, message: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in message.items() if k != "posted"}

    # The HTTP side.

    def routes(self, app: web.Application) -> None:
        base = "/api/v1/accounts/{account}/conversations"
        app.router.add_get(base, self._list)
        app.router.add_get(base + "/{number}", self._one)
        app.router.add_get(base + "/{number}/messages", self._messages)
        app.router.add_post(base + "/{number}/messages", self._create)

    async def _guard(self, request: web.Request) -> web.StreamResponse | None:
        """The auth check, the account check and any fault due, as Chatwoot would answer them."""
        self.seen.append(
            Seen(request.method, request.path, dict(request.query), request.headers.get("api_access_token", ""))
        )
        if self.faults:
            fault = self.faults.pop(0)
            if fault.status == 0:
                response = web.StreamResponse(headers={"Content-Type": "application/json", "Content-Length": "4096"})
                await response.prepare(request)
                await response.write(b'{"data": {"meta": {"mine_c')
                assert request.transport is not None
                request.transport.close()
                return response
            headers = {"Retry-After": fault.retry_after} if fault.retry_after is not None else {}
            return web.json_response({"error": "Retry later"}, status=fault.status, headers=headers)
        if request.headers.get("api_access_token") != self.token:
            return web.json_response({"error": "You need to sign in or sign up before continuing."}, status=401)
        if request.match_info["account"] != str(self.account_id):
            return web.json_response({"error": "Resource could not be found"}, status=404)
        number = request.match_info.get("number")
        if number is not None and int(number) not in self.conversations:
            return web.json_response({"error": "Resource could not be found"}, status=404)
        return None

    async def _list(self, request: web.Request) -> web.StreamResponse:
        if (refused := await self._guard(request)) is not None:
            return refused
        status = request.query.get("status", "open")
        with self._lock:
            chosen = [
                c
                for c in self.conversations.values()
                if (status == "all" or c.status == status)
                and (request.query.get("assignee_type") != "me" or c.assignee_id == ME["id"])
            ]
            listed = sorted((self.conversation_json(c) for c in chosen), key=lambda c: -c["last_activity_at"])
            mine = sum(1 for c in self.conversations.values() if c.assignee_id == ME["id"] and c.status == status)
        page = int(request.query.get("page", "1"))
        payload = listed[(page - 1) * CONVERSATIONS_PAGE : page * CONVERSATIONS_PAGE]
        meta = {"mine_count": mine, "assigned_count": mine, "unassigned_count": 0, "all_count": len(listed)}
        return web.json_response({"data": {"meta": meta, "payload": payload}})

    async def _one(self, request: web.Request) -> web.StreamResponse:
        if (refused := await self._guard(request)) is not None:
            return refused
        with self._lock:
            return web.json_response(self.conversation_json(self.conversations[int(request.match_info["number"])]))

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        if (refused := await self._guard(request)) is not None:
            return refused
        number = int(request.match_info["number"])
        with self._lock:
            own = [self._push_data(m) for m in self.messages if m["conversation_id"] == number]
        if "after" in request.query:
            after = int(request.query["after"])
            payload = [m for m in own if m["id"] > after][:100]
        elif "before" in request.query:
            before = int(request.query["before"])
            payload = [m for m in own if m["id"] < before][-20:]
        else:
            payload = own[-20:]
        return web.json_response({"meta": {"labels": [], "contact_id": 99}, "payload": payload})

    async def _create(self, request: web.Request) -> web.StreamResponse:
        if (refused := await self._guard(request)) is not None:
            return refused
        body = await request.json()
        kinds = {"incoming": 0, "outgoing": 1}
        message = self.say(
            int(request.match_info["number"]),
            str(body.get("content", "")),
            kinds.get(str(body.get("message_type", "outgoing")), 1),
            bool(body.get("private", False)),
        )
        message["posted"] = True
        return web.json_response(self._push_data(message))
