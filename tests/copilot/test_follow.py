"""Many live conversations at once: the followed one goes to the analysis, the others keep their own
state (in memory and in the data folder), and the panel switches with the helpdesk unless pinned."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from copilot.conversation.events import Event
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline
from copilot.session.analysis import Analysis
from copilot.session.follow import Follow
from copilot.session.inbox import Inbox, parse_batch
from copilot.session.memory import ConversationMemory


class Panel:
    """What the UI hears: the analysis's conversation changes, and the follow's own news."""

    def __init__(self) -> None:
        self.shown: list[Conversation] = []
        self.follows: list[tuple[str, bool]] = []
        self.waiting: dict[str, tuple[str, int]] = {}

    def conversation_changed(self, conversation: Conversation) -> None:
        self.shown.append(conversation)

    def insight_ready(self, insight: Insight) -> None: ...

    def analysis_failed(self, seq: int, message: str) -> None: ...

    def followed(self, conversation_id: str, pinned: bool) -> None:
        self.follows.append((conversation_id, pinned))

    def waiting_changed(self, conversation_id: str, status: str, unseen: int) -> None:
        self.waiting[conversation_id] = (status, unseen)


class FollowNews:
    def __init__(self, panel: Panel) -> None:
        self.followed = panel.followed
        self.waiting = panel.waiting_changed


def events(*records: dict[str, Any]) -> list[Event]:
    return parse_batch(list(records), "test")


def header(conversation: str, name: str) -> dict[str, Any]:
    return {"type": "conversation", "id": conversation, "customer": {"name": name}, "jurisdiction": "US-CA"}


def said(conversation: str, seq: int, text: str, role: str = "customer") -> dict[str, Any]:
    return {"type": "message", "conversation_id": conversation, "seq": seq, "role": role, "text": text}


def focus(conversation: str) -> dict[str, Any]:
    return {"type": "focus", "conversation_id": conversation}


def with_follow(folder: Path | None, script: Callable[[Follow, Inbox, Panel], None]) -> tuple[Follow, Panel]:
    """Run ``script`` against a follow whose analysis never gets a pipeline (routing only)."""
    panel = Panel()

    async def run() -> Follow:
        loop = asyncio.get_running_loop()
        never: asyncio.Future[Pipeline] = loop.create_future()
        analysis = Analysis(never, panel, ConversationMemory(folder))
        follow = Follow(analysis, FollowNews(panel))
        try:
            script(follow, Inbox(loop, follow.apply), panel)
        finally:
            await analysis.aclose()
        return follow

    return asyncio.run(run()), panel


def texts(conversation: Conversation | None) -> list[str]:
    assert conversation is not None
    return [t.text for t in conversation.turns]


def test_the_first_conversation_is_followed_and_the_others_keep_their_state(tmp_path: Path) -> None:
    def script(follow: Follow, inbox: Inbox, panel: Panel) -> None:
        inbox.submit(events(header("a", "Ana"), said("a", 1, "A one"), header("b", "Bo"), said("b", 1, "B one")))
        inbox.submit(events(said("b", 2, "B two"), said("a", 2, "A two"), said("b", 2, "B two")))
        assert follow.current == "a"
        assert texts(follow.analysis.conversation) == ["A one", "A two"]
        assert panel.waiting["b"] == ("", 2)
        inbox.submit(events(focus("b")))
        assert follow.current == "b"
        assert texts(follow.analysis.conversation) == ["B one", "B two"]
        assert follow.analysis.conversation is not None and follow.analysis.conversation.customer_name == "Bo"
        inbox.submit(events(said("a", 3, "A three while B is open")))
        inbox.submit(events(focus("a")))
        assert texts(follow.analysis.conversation) == ["A one", "A two", "A three while B is open"]
        assert follow.analysis.newest == 3

    _, panel = with_follow(tmp_path, script)
    assert panel.follows == [("a", False), ("b", False), ("a", False)]
    saved = ConversationMemory(tmp_path).recall("b")  # what a restart finds
    assert saved is not None and texts(saved.conversation) == ["B one", "B two"]
    assert saved.conversation.customer_name == "Bo"


def test_a_pinned_conversation_stays_until_unpinned() -> None:
    def script(follow: Follow, inbox: Inbox, panel: Panel) -> None:
        inbox.submit(events(said("a", 1, "A"), said("b", 1, "B")))
        follow.pin(True)
        inbox.submit(events(focus("b")))
        assert follow.current == "a"
        follow.pin(False)
        assert follow.current == "b"

    _, panel = with_follow(None, script)
    assert panel.follows == [("a", False), ("a", True), ("b", False)]


def test_a_repeated_header_does_not_restart_the_followed_conversation() -> None:
    def script(follow: Follow, inbox: Inbox, panel: Panel) -> None:
        inbox.submit(events(header("a", "Ana"), said("a", 1, "A")))
        shown = len(panel.shown)
        inbox.submit(events(header("a", "Ana")))
        assert len(panel.shown) == shown
        inbox.submit(events(header("a", "Ana Ruiz")))
        assert follow.analysis.conversation is not None
        assert follow.analysis.conversation.customer_name == "Ana Ruiz"
        assert texts(follow.analysis.conversation) == ["A"]

    with_follow(None, script)


def test_more_conversations_than_memory_keeps_are_all_complete() -> None:
    def script(follow: Follow, inbox: Inbox, panel: Panel) -> None:
        for seq in range(1, 4):
            inbox.submit(events(*(said(f"c{n}", seq, f"c{n} says {seq}") for n in range(50))))
        inbox.submit(events(focus("c49")))
        assert texts(follow.analysis.conversation) == ["c49 says 1", "c49 says 2", "c49 says 3"]
        inbox.submit(events(focus("c1")))
        assert texts(follow.analysis.conversation) == ["c1 says 1", "c1 says 2", "c1 says 3"]

    follow, _ = with_follow(None, script)
    assert len(follow.conversations()) == 50


def test_a_status_change_is_told_for_a_conversation_not_followed() -> None:
    def script(follow: Follow, inbox: Inbox, panel: Panel) -> None:
        inbox.submit(events(said("a", 1, "A"), said("b", 1, "B")))
        inbox.submit(events({"type": "status", "conversation_id": "b", "status": "resolved"}))
        assert panel.waiting["b"] == ("resolved", 1)
        assert follow.statuses == {"b": "resolved"}

    with_follow(None, script)
