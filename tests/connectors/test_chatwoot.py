"""The Chatwoot connector against a loopback Chatwoot (tests/fakes/chatwoot.py): what it follows, how it
maps messages, notes and status changes, how it rides out Chatwoot's errors, and the reply it posts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from base.errors import ConfigError, ReplyLost, SystemUnavailable, ToolRefused
from connectors.chatwoot import ChatwootClient, ChatwootConnector, State, webhook_records
from connectors.config import ChatwootConfig, load_chatwoot, load_connectors
from copilot.conversation.events import ConversationStarted, Message, OtherEvent, parse_event
from tests.fakes.chatwoot import FakeChatwoot

Record = dict[str, Any]


@pytest.fixture
def chatwoot() -> Iterator[FakeChatwoot]:
    server = FakeChatwoot()
    server.start()
    yield server
    server.stop()


def connector(
    server: FakeChatwoot, sink: list[Record], token: str | None = None, account: int | None = None, **settings: Any
) -> ChatwootConnector:
    config = ChatwootConfig(
        url=server.url, account_id=account or server.account_id, poll_s=0.2, timeout_s=2, **settings
    )
    client = ChatwootClient(config, token or server.token, backoff_s=0.01)
    return ChatwootConnector(client, sink.extend)


def poll(server: FakeChatwoot, **options: Any) -> list[Record]:
    """One poll's records, the connector closed after it."""
    sink: list[Record] = []

    async def run() -> None:
        follower = connector(server, sink, **options)
        try:
            await follower.poll_once()
        finally:
            await follower.aclose()

    asyncio.run(run())
    return sink


def scripted(server: FakeChatwoot) -> None:
    """Two conversations assigned to the rep, one to someone else."""
    server.open_conversation(12, "Ana Ruiz")
    server.open_conversation(13, "Not Mine", assignee_id=8)
    server.open_conversation(14, "Bo Chen", channel="Channel::Email")
    server.say(12, "My blender stopped working after 40 days")
    server.say(13, "Someone else's customer")
    server.say(12, "Sorry to hear that! Could you share the order number?", message_type=1)
    server.say(12, "Customer sounds upset; check the warranty first", message_type=1, private=True)
    server.say(12, "Conversation was assigned to Rep Robin", message_type=2)
    server.say(14, "Where is my parcel?")
    server.view(12)


def test_it_follows_the_reps_conversations_as_documented_events(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    records = poll(chatwoot)
    events = [parse_event(r, "chatwoot", n) for n, r in enumerate(records, start=1)]
    headers = [e for e in events if isinstance(e, ConversationStarted)]
    assert {(h.id, h.customer_name, h.channel) for h in headers} == {
        ("chatwoot:12", "Ana Ruiz", "chat"),
        ("chatwoot:14", "Bo Chen", "email"),
    }
    messages = [e for e in events if isinstance(e, Message)]
    twelve = [(m.role, m.text[:20], m.extra) for m in messages if m.conversation_id == "chatwoot:12"]
    assert twelve == [
        ("customer", "My blender stopped w", {}),
        ("rep", "Sorry to hear that! ", {}),
        ("system", "Customer sounds upse", {"private_note": True}),
        ("system", "Conversation was ass", {"activity": "activity"}),
    ]
    seqs = [m.seq for m in messages if m.conversation_id == "chatwoot:12"]
    assert seqs == sorted(seqs)
    assert all(m.ts is not None for m in messages)
    assert not any("Someone else" in m.text for m in messages)
    focus = [e for e in events if isinstance(e, OtherEvent)]
    assert [(f.type, f.data["conversation_id"]) for f in focus] == [("focus", "chatwoot:12")]
    assert {s.token for s in chatwoot.seen} == {chatwoot.token}


def test_a_second_poll_reads_only_what_is_new(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    sink: list[Record] = []

    async def run() -> tuple[int, int, int]:
        follower = connector(chatwoot, sink)
        try:
            await follower.poll_once()
            before = len(chatwoot.seen)
            quiet = await follower.poll_once()
            quiet_requests = len(chatwoot.seen) - before
            chatwoot.say(14, "Hello? Anyone?")
            chatwoot.view(14)
            fresh = await follower.poll_once()
            return quiet, quiet_requests, fresh
        finally:
            await follower.aclose()

    quiet, quiet_requests, fresh = asyncio.run(run())
    assert (quiet, quiet_requests) == (0, 1)  # the list shows each last message id: nothing to fetch
    assert fresh == 2
    assert sink[-2]["text"] == "Hello? Anyone?"
    assert sink[-1] == {"type": "focus", "conversation_id": "chatwoot:14"}


def test_it_reads_every_page_of_conversations_and_messages(chatwoot: FakeChatwoot) -> None:
    for number in range(1, 31):
        chatwoot.open_conversation(number, f"Customer {number}")
        chatwoot.say(number, f"Hello from {number}")
    for turn in range(230):
        chatwoot.say(5, f"line {turn}")
    records = poll(chatwoot)
    assert len([r for r in records if r["type"] == "conversation"]) == 30
    five = [r for r in records if r["type"] == "message" and r["conversation_id"] == "chatwoot:5"]
    assert len(five) == 231
    assert len({r["seq"] for r in five}) == 231
    pages = [s for s in chatwoot.seen if s.path.endswith("/conversations")]
    assert [s.query["page"] for s in pages] == ["1", "2"]
    assert len([s for s in chatwoot.seen if s.path.endswith("/5/messages")]) == 3


def test_a_resolved_conversation_becomes_a_status_event(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    sink: list[Record] = []

    async def run() -> None:
        follower = connector(chatwoot, sink)
        try:
            await follower.poll_once()
            chatwoot.resolve(14)
            await follower.poll_once()
        finally:
            await follower.aclose()

    asyncio.run(run())
    assert sink[-1] == {"type": "status", "conversation_id": "chatwoot:14", "status": "resolved"}


def test_wrong_token_and_wrong_account_are_clear_refusals(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    with pytest.raises(ToolRefused, match=r"HTTP 401.*CHATWOOT_API_TOKEN"):
        poll(chatwoot, token="stale")
    with pytest.raises(ToolRefused, match=r"HTTP 404.*account_id \(99\)"):
        poll(chatwoot, account=99)


def test_a_429_waits_for_its_retry_after(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    chatwoot.fail(429, retry_after="1")
    started = time.monotonic()
    records = poll(chatwoot)
    assert time.monotonic() - started >= 1.0
    assert len([r for r in records if r["type"] == "message"]) == 5


def test_server_errors_are_retried_then_reported(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    chatwoot.fail(500, times=2)
    assert len(poll(chatwoot)) == 8
    chatwoot.fail(500, times=5)
    with pytest.raises(SystemUnavailable, match="HTTP 500 5 times"):
        poll(chatwoot)


def test_a_connection_dropped_mid_poll_loses_nothing(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    expected = poll(chatwoot)
    chatwoot.drop()
    assert poll(chatwoot) == expected
    assert len(chatwoot.seen) > 2 * 3  # the dropped request was sent again


def test_polling_backs_off_while_chatwoot_fails_and_recovers(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    chatwoot.fail(503, times=5)
    sink: list[Record] = []
    states: list[tuple[State, str]] = []

    async def run() -> None:
        following = asyncio.Event()

        def changed(state: State, error: str) -> None:
            states.append((state, error))
            if state is State.FOLLOWING:
                following.set()

        config = ChatwootConfig(url=chatwoot.url, account_id=chatwoot.account_id, poll_s=0.2, timeout_s=2)
        follower = ChatwootConnector(ChatwootClient(config, chatwoot.token, backoff_s=0.01), sink.extend, changed)
        task = asyncio.create_task(follower.run())
        try:
            await asyncio.wait_for(following.wait(), 10)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            await follower.aclose()

    asyncio.run(run())
    assert [s for s, _ in states] == [State.FAILING, State.FOLLOWING, State.CLOSED]
    assert "HTTP 503" in states[0][1]
    assert len([r for r in sink if r["type"] == "message"]) == 5


def send(server: FakeChatwoot, text: str, **settings: Any) -> Record:
    async def run() -> Record:
        follower = connector(server, [], **settings)
        try:
            return await follower.send("chatwoot:12", text)
        finally:
            await follower.aclose()

    return asyncio.run(run())


def test_the_reps_reply_is_posted_back_as_a_message_or_a_private_note(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    answer = send(chatwoot, "Your refund is on its way.")
    send(chatwoot, "Refund issued under the 30-day policy.", reply_as="private_note")
    posted = chatwoot.posted()
    assert [(m["content"], m["message_type"], m["private"]) for m in posted] == [
        ("Your refund is on its way.", 1, False),
        ("Refund issued under the 30-day policy.", 1, True),
    ]
    assert answer["id"] == posted[0]["id"]
    records = poll(chatwoot)
    assert [r["role"] for r in records if r["type"] == "message" and r["seq"] >= answer["id"]] == ["rep", "system"]


def test_a_reply_whose_answer_is_lost_is_not_sent_twice(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    chatwoot.fail(500)
    with pytest.raises(ReplyLost, match="look in Chatwoot before sending it again"):
        send(chatwoot, "Once only")
    assert len([s for s in chatwoot.seen if s.method == "POST"]) == 1
    chatwoot.fail(429, retry_after="0")  # refused before it was read: safe to send again
    send(chatwoot, "Once only")
    assert [m["content"] for m in chatwoot.posted()] == ["Once only"]
    with pytest.raises(ToolRefused, match="not a Chatwoot conversation"):
        asyncio.run(connector(chatwoot, []).send("c1", "x"))


def test_webhook_payloads_become_the_same_events(chatwoot: FakeChatwoot) -> None:
    scripted(chatwoot)
    note = chatwoot.say(12, "Private: VIP customer", message_type=1, private=True)
    header, message = webhook_records(chatwoot.webhook_message_created(note))
    assert parse_event(header).id == "chatwoot:12"  # type: ignore[union-attr]
    parsed = parse_event(message)
    assert isinstance(parsed, Message)
    assert (parsed.seq, parsed.role, parsed.extra) == (note["id"], "system", {"private_note": True})
    assert parsed.ts is not None and parsed.ts.timestamp() == note["created_at"]
    chatwoot.resolve(12)
    assert webhook_records(chatwoot.webhook_status_changed(12, "open")) == [
        {"type": "status", "conversation_id": "chatwoot:12", "status": "resolved", "previous_status": "open"}
    ]
    assert webhook_records({"event": "contact_updated", "id": 99}) == []


def test_the_chatwoot_table_of_connectors_toml(tmp_path: Path) -> None:
    path = tmp_path / "connectors.toml"
    assert load_chatwoot(path) is None
    path.write_text(
        '[[system]]\nname = "shop"\ntransport = "rest"\nurl = "http://127.0.0.1:9"\n\n'
        '[chatwoot]\nurl = "https://chat.example.com"\naccount_id = 3\nreply_as = "private_note"\n',
        encoding="utf-8",
    )
    config = load_chatwoot(path)
    assert config is not None and (config.account_id, config.reply_as, config.token_env) == (
        3,
        "private_note",
        "CHATWOOT_API_TOKEN",
    )
    assert [s.name for s in load_connectors(path)] == ["shop"]
    path.write_text('[chatwoot]\nurl = "chat.example.com"\naccount_id = 3\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[chatwoot\]\.url: String should match pattern"):
        load_chatwoot(path)
