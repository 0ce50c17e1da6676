"""Chatwoot, the open-source helpdesk: the rep's assigned conversations as conversation events, and the
rep's reply posted back.

Two ways in, both giving the JSON event records of docs/conversation-events.md (this layer does not
parse them: the engine does, with the rest of the push endpoint's input):

- polling (``ChatwootConnector.run``): every ``poll_s`` the conversations assigned to the rep
  (``GET /api/v1/accounts/{account}/conversations?assignee_type=me``, 25 a page), and for each one with a
  message newer than the last seen, its messages after that one (``.../messages?after=ID``, oldest first,
  100 a page). The conversation the rep viewed last (largest ``agent_last_seen_at``, which the Chatwoot
  dashboard updates when a conversation is opened) becomes a ``focus`` event: the panel follows it.
- webhooks (``webhook_records``): ``message_created`` and ``conversation_status_changed`` payloads
  as Chatwoot posts them to the push endpoint's ``/chatwoot`` route.

Mapping: a conversation is ``chatwoot:{display_id}``; a message's ``seq`` is its Chatwoot id (ids grow
within a conversation; the gaps between them are other conversations'); ``incoming`` is the customer,
``outgoing`` the rep, a private note (``private: true``) and ``activity``/``template`` messages are
``system`` turns with ``private_note`` / ``activity`` set, so rep rules never judge a note as if the
customer had read it. A status change is a ``status`` event.

Requests carry the rep's token in Chatwoot's ``api_access_token`` header. A 429 waits for its
``Retry-After``; a 5xx or a dropped connection is retried with exponential backoff (reads only: a reply
whose answer was lost is never sent again, it raises ReplyLost).
"""

from __future__ import annotations

import asyncio
import contextlib
import email.utils
import enum
import hashlib
import hmac
import json
import logging
import os
import re
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import keyring
from pydantic import ValidationError

from base.errors import ConfigError, ConnectorError, MalformedReply, ReplyLost, SystemUnavailable, ToolRefused
from connectors.config import CONNECTORS_FILE, ChatwootConfig, load_chatwoot
from connectors.secrets import KEYRING_FAILURES, KeySource, lookup

log = logging.getLogger("copilot.connectors")

PREFIX = "chatwoot:"
"""Conversation ids of Chatwoot conversations: ``chatwoot:{display_id}``."""
MESSAGE_PAGE = 100
"""Messages Chatwoot returns for ``after=ID`` (its MessageFinder's limit): a full page means more follow."""
RETRIES = 4
"""Tries of one request after the first, on a 429, a 5xx or a dropped connection."""
MAX_WAIT_S = 60.0
"""Longest wait for one retry, whatever a Retry-After asks (a rep's panel should not go quiet longer)."""
KEYRING_ENTRY = ("copilot", "chatwoot")
"""The OS keyring entry (service, name) of the rep's access token, tried after ``token_env``."""
_MESSAGE_TYPES = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}
_TABLE = re.compile(r"^\s*\[")
Record = dict[str, Any]


class State(enum.Enum):
    """Where the connector is, for the panel's status line."""

    IDLE = "idle"
    FOLLOWING = "following"
    FAILING = "failing"
    """The last poll failed; it is tried again with backoff (``ChatwootConnector.last_error`` says why)."""
    CLOSED = "closed"


def conversation_id(display_id: int) -> str:
    return f"{PREFIX}{display_id}"


def display_id(conversation: str) -> int:
    """The Chatwoot display id of a ``chatwoot:N`` conversation id; ToolRefused for any other."""
    number = conversation.removeprefix(PREFIX)
    if not conversation.startswith(PREFIX) or not number.isdigit():
        raise ToolRefused(f"chatwoot: '{conversation[:40]}' is not a Chatwoot conversation (chatwoot:N)")
    return int(number)


def _time(value: object) -> str | None:
    """A Chatwoot time (epoch seconds from the API, ISO text in webhooks) as ISO 8601, or None."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0:
        return datetime.fromtimestamp(value, UTC).isoformat()
    if isinstance(value, str):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value.replace("Z", "+00:00")).isoformat()
    return None


def _channel(conversation: Record) -> str:
    kind = str(conversation.get("channel") or (conversation.get("meta") or {}).get("channel") or "")
    return "email" if kind == "Channel::Email" else "voice" if kind == "Channel::Voice" else "chat"


def header_record(conversation: Record) -> Record:
    """The ``conversation`` event of a Chatwoot conversation (list item or webhook payload)."""
    sender = (conversation.get("meta") or {}).get("sender") or {}
    record: Record = {
        "type": "conversation",
        "id": conversation_id(int(conversation["id"])),
        "channel": _channel(conversation),
        "customer": {"name": str(sender.get("name") or "")},
        "title": f"Chatwoot #{conversation['id']}",
    }
    if (started := _time(conversation.get("created_at"))) is not None:
        record["started_at"] = started
    return record


def message_record(message: Record, conversation: str) -> Record:
    """The ``message`` event of one Chatwoot message (API or webhook shape)."""
    raw_type = message.get("message_type")
    kind = _MESSAGE_TYPES.get(raw_type, "") if isinstance(raw_type, int) else str(raw_type or "")
    private = bool(message.get("private"))
    record: Record = {"type": "message", "conversation_id": conversation, "seq": int(message["id"])}
    if private:
        record.update(role="system", private_note=True)
    elif kind == "incoming":
        record["role"] = "customer"
    elif kind == "outgoing":
        record["role"] = "rep"
    else:
        record.update(role="system", activity=kind or "unknown")
    record["text"] = str(message.get("content") or "")
    if (ts := _time(message.get("created_at"))) is not None:
        record["ts"] = ts
    if attachments := message.get("attachments"):
        record["attachments"] = len(attachments) if isinstance(attachments, list) else 1
    return record


def status_record(conversation: str, status: str, previous: str = "") -> Record:
    """A ``status`` event: the conversation's Chatwoot status changed (``open``, ``resolved``, ...)."""
    record: Record = {"type": "status", "conversation_id": conversation, "status": status}
    if previous:
        record["previous_status"] = previous
    return record


def focus_record(conversation: str) -> Record:
    """A ``focus`` event: the rep has ``conversation`` open in the helpdesk."""
    return {"type": "focus", "conversation_id": conversation}


def webhook_records(payload: object) -> list[Record]:
    """The events of one Chatwoot webhook payload; other webhook events give none (and are answered 200,
    so Chatwoot does not retry them). MalformedReply when a payload it handles lacks its ids."""
    if not isinstance(payload, dict):
        raise MalformedReply("chatwoot webhook: the body is not a JSON object")
    event = payload.get("event")
    try:
        if event == "message_created":
            conversation = payload["conversation"]
            header = header_record(conversation)
            return [header, message_record(payload, header["id"])]
        if event == "conversation_status_changed":
            previous = ""
            for change in payload.get("changed_attributes") or []:
                if isinstance(change, dict) and isinstance(change.get("status"), dict):
                    previous = str(change["status"].get("previous_value") or "")
            return [status_record(conversation_id(int(payload["id"])), str(payload.get("status", "")), previous)]
    except (KeyError, TypeError, ValueError) as exc:
        raise MalformedReply(f"chatwoot webhook {event}: {type(exc).__name__} {exc} (an id is missing)") from None
    return []


def verify_signature(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """Whether ``signature`` is Chatwoot's ``sha256=HMAC(secret, "{timestamp}.{body}")`` of this request."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(f"sha256={digest}", signature)


def _retry_after(response: httpx.Response, fallback: float) -> float:
    """Seconds a 429 asks to wait: ``Retry-After`` in seconds or as an HTTP date, else ``fallback``."""
    value = response.headers.get("Retry-After", "").strip()
    if value.isdigit():
        return min(float(value), MAX_WAIT_S)
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return min(max(0.0, when.timestamp() - time.time()), MAX_WAIT_S)
    return fallback


class ChatwootClient:
    """Chatwoot's application API for one account, through one ``httpx.AsyncClient``."""

    def __init__(
        self, config: ChatwootConfig, token: str, http: httpx.AsyncClient | None = None, backoff_s: float = 0.5
    ) -> None:
        self.config = config
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(config.timeout_s))
        self._headers = {"api_access_token": token}
        self._base = f"{config.url.rstrip('/')}/api/v1/accounts/{config.account_id}"
        self.backoff_s = backoff_s
        self.requests = 0
        """Requests sent, retries included (for tests and the status line)."""

    async def __aenter__(self) -> ChatwootClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def assigned_conversations(self) -> list[Record]:
        """Every open conversation assigned to the token's agent, all pages."""
        found: list[Record] = []
        page = 1
        while True:
            query: dict[str, Any] = {"assignee_type": "me", "page": page}
            if self.config.inbox_id:
                query["inbox_id"] = self.config.inbox_id
            body = await self._request("GET", "/conversations", "list conversations", query)
            data = body.get("data")
            items = data.get("payload") if isinstance(data, dict) else None
            if not isinstance(items, list):
                raise MalformedReply("chatwoot: the conversation list has no data.payload")
            found.extend(i for i in items if isinstance(i, dict) and isinstance(i.get("id"), int))
            mine = (data.get("meta") or {}).get("mine_count") if isinstance(data, dict) else None
            if not items or (isinstance(mine, int) and len(found) >= mine):
                return found
            page += 1

    async def conversation(self, number: int) -> Record:
        return await self._request("GET", f"/conversations/{number}", f"read conversation {number}")

    async def messages_after(self, number: int, after: int) -> list[Record]:
        """Every message of conversation ``number`` with an id above ``after``, oldest first, all pages."""
        found: list[Record] = []
        while True:
            body = await self._request(
                "GET", f"/conversations/{number}/messages", f"read conversation {number}", {"after": after}
            )
            items = body.get("payload")
            if not isinstance(items, list):
                raise MalformedReply(f"chatwoot: the messages of conversation {number} have no payload")
            page = sorted(
                (i for i in items if isinstance(i, dict) and isinstance(i.get("id"), int)), key=lambda m: m["id"]
            )
            page = [m for m in page if m["id"] > after]
            found.extend(page)
            if len(items) < MESSAGE_PAGE or not page:
                return found
            after = page[-1]["id"]

    async def post_reply(self, number: int, text: str, private: bool) -> Record:
        """Post ``text`` to conversation ``number`` as the rep's message (or a private note)."""
        body = {"content": text, "message_type": "outgoing", "private": private, "content_type": "text"}
        return await self._request("POST", f"/conversations/{number}/messages", f"post a reply to {number}", json=body)

    async def _request(
        self, method: str, path: str, what: str, params: dict[str, Any] | None = None, json: Record | None = None
    ) -> Record:
        """One API call with retries: a 429 waits its Retry-After; a 5xx or a dropped connection backs off
        (a POST only when it was surely not delivered)."""
        url = f"{self._base}{path}"
        for attempt in range(RETRIES + 1):
            wait = min(self.backoff_s * 2**attempt, MAX_WAIT_S)
            last = attempt == RETRIES
            self.requests += 1
            try:
                response = await self._http.request(method, url, params=params, json=json, headers=self._headers)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                if last:
                    raise SystemUnavailable(
                        f"chatwoot: cannot connect to {self.config.url} to {what} ({type(exc).__name__}); "
                        "check [chatwoot].url in connectors.toml and that Chatwoot is running"
                    ) from None
            except httpx.HTTPError as exc:
                if method != "GET":
                    raise ReplyLost(
                        f"chatwoot: {what} got no answer ({type(exc).__name__}); it may have been posted: "
                        "look in Chatwoot before sending it again"
                    ) from None
                if last:
                    raise SystemUnavailable(
                        f"chatwoot: {what} failed {RETRIES + 1} times ({type(exc).__name__})"
                    ) from None
            else:
                if response.status_code == 429:
                    wait = _retry_after(response, wait)
                elif response.status_code >= 500:
                    if method != "GET":
                        raise ReplyLost(
                            f"chatwoot: {what} failed on Chatwoot's side (HTTP {response.status_code}); it may "
                            "have been posted: look in Chatwoot before sending it again"
                        )
                else:
                    return self._answer(response, what)
                if last:
                    raise SystemUnavailable(
                        f"chatwoot: {what} answered HTTP {response.status_code} {RETRIES + 1} times; try again later"
                    )
            log.info("chatwoot: %s: retrying in %.1f s", what, wait)
            await asyncio.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _answer(self, response: httpx.Response, what: str) -> Record:
        status = response.status_code
        if status == 401:
            raise ToolRefused(
                f"chatwoot: the access token was refused (HTTP 401) to {what}; set {self.config.token_env} to the "
                "token of the rep's Chatwoot profile"
            )
        if status == 404:
            raise ToolRefused(
                f"chatwoot: not found (HTTP 404) to {what}; check [chatwoot].account_id "
                f"({self.config.account_id}) and that the conversation still exists"
            )
        if status >= 400:
            try:
                message = str(response.json().get("error") or response.text)
            except (ValueError, AttributeError):
                message = response.text
            raise ToolRefused(f"chatwoot: {what}: {message.strip()[:200] or f'HTTP {status}'}")
        try:
            body = response.json()
        except ValueError:
            raise MalformedReply(f"chatwoot: {what}: the answer is not JSON") from None
        if not isinstance(body, dict):
            raise MalformedReply(f"chatwoot: {what}: the answer is not a JSON object")
        return body


class ChatwootConnector:
    """Follows the rep's assigned conversations by polling, and posts the rep's replies back."""

    def __init__(
        self,
        client: ChatwootClient,
        deliver: Callable[[list[Record]], object],
        on_state: Callable[[State, str], None] = lambda *_: None,
    ) -> None:
        self.client = client
        self._deliver = deliver
        """Takes each poll's records, every conversation's in order (the inbox, ``ordered=True``)."""
        self._on_state = on_state
        """Told when the state changes, with the error that made it fail (the panel's status line)."""
        self.state = State.IDLE
        self.last_error = ""
        self._last_id: dict[int, int] = {}
        """Each followed conversation's newest message id delivered."""
        self._focus = 0

    async def poll_once(self) -> int:
        """One poll: new conversations (header and history), new messages, status changes, the rep's
        open conversation. Returns the records delivered; ConnectorError when Chatwoot cannot answer."""
        records: list[Record] = []
        assigned = await self.client.assigned_conversations()
        present = set()
        for item in assigned:
            number = int(item["id"])
            present.add(number)
            listed = [
                m["id"] for m in item.get("messages") or [] if isinstance(m, dict) and isinstance(m.get("id"), int)
            ]
            fresh = number not in self._last_id
            if fresh:
                records.append(header_record(item))
                self._last_id[number] = 0
            if fresh or max(listed, default=0) > self._last_id[number]:
                messages = await self.client.messages_after(number, self._last_id[number])
                records.extend(message_record(m, conversation_id(number)) for m in messages)
                self._last_id[number] = max([self._last_id[number], *(m["id"] for m in messages)])
        for number in sorted(set(self._last_id) - present):  # resolved, snoozed or given to someone else
            try:
                status = str((await self.client.conversation(number)).get("status") or "closed")
            except ToolRefused:
                status = "deleted"
            records.append(status_record(conversation_id(number), status if status != "open" else "reassigned"))
            del self._last_id[number]
        seen = [(int(i.get("agent_last_seen_at") or 0), int(i["id"])) for i in assigned]
        focus = max(seen, default=(0, 0))
        if focus[0] > 0 and focus[1] != self._focus:
            self._focus = focus[1]
            records.append(focus_record(conversation_id(focus[1])))
        if records:
            self._deliver(records)
        return len(records)

    async def run(self) -> None:
        """Poll every ``poll_s`` until cancelled; a failed poll backs off (up to a minute) and tries again."""
        failures = 0
        while True:
            try:
                await self.poll_once()
            except ConnectorError as exc:
                failures += 1
                log.warning("%s", exc)
                self._set(State.FAILING, str(exc))
            else:
                failures = 0
                self._set(State.FOLLOWING, "")
            await asyncio.sleep(min(self.client.config.poll_s * 2**failures, MAX_WAIT_S))

    def _set(self, state: State, error: str) -> None:
        changed = (state, error) != (self.state, self.last_error)
        self.state, self.last_error = state, error
        if changed:
            self._on_state(state, error)

    async def send(self, conversation: str, text: str) -> Record:
        """Post the rep's reply to ``conversation``: a message, or a private note (``reply_as``)."""
        return await self.client.post_reply(
            display_id(conversation), text, private=self.client.config.reply_as == "private_note"
        )

    async def aclose(self) -> None:
        self._set(State.CLOSED, "")
        await self.client.aclose()


def access_token(token_env: str) -> KeySource:
    """The rep's access token: the variable ``token_env`` names, else the OS keyring entry ``copilot``/``chatwoot``."""
    return lookup(token_env, *KEYRING_ENTRY)


def store_token(token: str) -> None:
    """Keep the rep's access token in the OS keyring (ConfigError when there is none here)."""
    try:
        keyring.set_password(*KEYRING_ENTRY, token.strip())
    except KEYRING_FAILURES as exc:
        raise ConfigError(
            "chatwoot: no OS keyring is available here, so the token cannot be saved; set CHATWOOT_API_TOKEN "
            "(or the variable [chatwoot].token_env names) instead"
        ) from exc


def open_chatwoot(
    folder: Path,
    deliver: Callable[[list[Record]], object],
    on_state: Callable[[State, str], None] = lambda *_: None,
) -> ChatwootConnector | None:
    """The connector of the data folder's ``connectors.toml`` ``[chatwoot]``, delivering to ``deliver``; None
    when there is no such table. ConfigError names what is missing (the table's field, or the token)."""
    config = load_chatwoot(folder / CONNECTORS_FILE)
    if config is None:
        return None
    token = access_token(config.token_env)
    if not token.key:
        raise ConfigError(
            f"chatwoot: no access token; set {config.token_env} or save the token in Settings (OS keyring "
            f"entry {'/'.join(KEYRING_ENTRY)}). {token.note}".strip()
        )
    return ChatwootConnector(ChatwootClient(config, token.key), deliver, on_state)


def webhook_secret(folder: Path) -> str:
    """The secret signed webhooks are checked with (``webhook_secret_env``), '' when none is set."""
    config = load_chatwoot(folder / CONNECTORS_FILE)
    return os.environ.get(config.webhook_secret_env, "") if config is not None and config.webhook_secret_env else ""


def save_config(path: Path, values: dict[str, Any]) -> ChatwootConfig:
    """Set ``values`` in the ``[chatwoot]`` table of ``path`` (made when missing), the rest of the file as it
    was; the table as saved. ConfigError names the field of a value that is not valid, and nothing is written.

    The table is written whole (comments inside it are lost); every other line stays, so an admin's
    ``[[system]]`` entries and their comments survive a rep saving Chatwoot settings. The values are
    strings and numbers, written as JSON writes them, which TOML reads the same.
    """
    current = load_chatwoot(path)
    try:
        config = ChatwootConfig.model_validate({**(current.model_dump() if current else {}), **values})
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(str(part) for part in error["loc"])
        raise ConfigError(f"{path}: [chatwoot].{field}: {error['msg']}; nothing was saved") from None
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    start = next((n for n, line in enumerate(lines) if line.split("#")[0].strip() == "[chatwoot]"), len(lines))
    end = next((n for n in range(start + 1, len(lines)) if _TABLE.match(lines[n])), len(lines))
    table = ["[chatwoot]", *(f"{name} = {json.dumps(value)}" for name, value in config.model_dump().items())]
    kept = lines[:start] + lines[end:]
    text = "\n".join([*kept, *([""] if kept and kept[-1].strip() else []), *table]) + "\n"
    partial = path.with_name(f"{path.name}.partial")
    partial.write_text(text, encoding="utf-8")
    try:
        load_chatwoot(partial)  # the whole file still reads (ConfigError names the entry and field otherwise)
    except ConfigError:
        partial.unlink()
        raise
    partial.replace(path)
    return config
