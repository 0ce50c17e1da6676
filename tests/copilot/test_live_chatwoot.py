"""The panel's side of a live helpdesk: a loopback Chatwoot scripted through a conversation, followed by
the connector into the same Analysis the panel uses, the rep's reply posted back, the panel switching
when the rep opens another conversation."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from connectors.chatwoot import ChatwootClient, ChatwootConnector
from connectors.config import ChatwootConfig
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline
from copilot.session.analysis import Analysis
from copilot.session.follow import Follow
from copilot.session.inbox import Inbox
from copilot.workspace import Workspace
from tests.fakes.chatwoot import FakeChatwoot


class Panel:
    def __init__(self) -> None:
        self.insights: list[Insight] = []
        self.shown: list[Conversation] = []

    def conversation_changed(self, conversation: Conversation) -> None:
        self.shown.append(conversation)

    def insight_ready(self, insight: Insight) -> None:
        self.insights.append(insight)

    def analysis_failed(self, seq: int, message: str) -> None:
        raise AssertionError(message)


@pytest.fixture
def chatwoot() -> Iterator[FakeChatwoot]:
    server = FakeChatwoot()
    server.start()
    yield server
    server.stop()


def test_the_panel_follows_a_chatwoot_conversation_and_the_reply_goes_back(
    chatwoot: FakeChatwoot, workspace: Workspace
) -> None:
    chatwoot.open_conversation(12, "Ana Ruiz")
    chatwoot.open_conversation(14, "Bo Chen")
    chatwoot.say(12, "Hi, I was charged twice for one order")
    chatwoot.say(14, "Where is my parcel?")
    chatwoot.view(12)
    panel = Panel()

    async def run() -> tuple[list[str], list[str]]:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Pipeline] = loop.create_future()
        ready.set_result(Pipeline(workspace))
        analysis = Analysis(ready, panel)
        follow = Follow(analysis)
        inbox = Inbox(loop, follow.apply)
        config = ChatwootConfig(url=chatwoot.url, account_id=chatwoot.account_id, reply_as="message")
        helpdesk = ChatwootConnector(
            ChatwootClient(config, chatwoot.token),
            lambda records: inbox.submit_records(records, "chatwoot", ordered=True),
        )
        try:
            await helpdesk.poll_once()
            await analysis.settle()
            assert follow.current == "chatwoot:12"
            chatwoot.say(12, "Actually I also want to cancel my Northwind Plus membership")
            await helpdesk.poll_once()
            await analysis.settle()
            sent = await helpdesk.send(
                follow.current, "I've refunded the second charge and cancelled your Plus membership."
            )
            await helpdesk.poll_once()
            await analysis.settle()
            turns = [t.role for t in analysis.conversation.turns] if analysis.conversation else []
            assert sent["id"] == analysis.newest
            chatwoot.view(14)
            await helpdesk.poll_once()
            await analysis.settle()
            assert follow.current == "chatwoot:14"
            other = [t.text for t in analysis.conversation.turns] if analysis.conversation else []
            return turns, other
        finally:
            await helpdesk.aclose()
            await analysis.aclose()

    turns, other = asyncio.run(run())
    assert turns == ["customer", "customer", "rep"]
    assert other == ["Where is my parcel?"]
    assert [p["content"] for p in chatwoot.posted()] == [
        "I've refunded the second charge and cancelled your Plus membership."
    ]
    twelve = [i for i in panel.insights if i.conversation_id == "chatwoot:12"]
    assert any(c.clause_id.startswith("cancellations.plus") for i in twelve for c in i.clauses)
    assert panel.insights[-1].conversation_id == "chatwoot:14"
