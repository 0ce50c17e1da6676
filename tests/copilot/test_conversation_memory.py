"""Each conversation keeps its own state: switching back shows it as it was left, a restart rebuilds it."""

from __future__ import annotations

import asyncio
from pathlib import Path

from copilot.conversation.events import ConversationStarted, Message, ToolCall, ToolResult
from copilot.pipeline import Pipeline
from copilot.session.analysis import Analysis
from copilot.session.memory import ConversationMemory
from copilot.session.playback import DemoPlayer
from copilot.workspace import Workspace
from tests.conftest import demo_conversation
from tests.copilot.test_session import Recorder


def _analysis(pipeline: Pipeline, folder: Path) -> tuple[Analysis, Recorder]:
    ready: asyncio.Future[Pipeline] = asyncio.get_running_loop().create_future()
    ready.set_result(pipeline)
    recorder = Recorder()
    return Analysis(ready, recorder, ConversationMemory(folder)), recorder


def test_switching_back_shows_the_conversation_as_it_was_left(workspace: Workspace, tmp_path: Path) -> None:
    async def run() -> Recorder:
        analysis, recorder = _analysis(Pipeline(workspace), tmp_path)
        analysis.submit(ConversationStarted(id="helen", customer_name="Helen Carter", jurisdiction="UK"))
        analysis.submit(Message("helen", 1, "customer", "My mother passed away and her membership still charges"))
        await analysis.settle()
        analysis.submit(ConversationStarted(id="marcus", customer_name="Marcus Bell", jurisdiction="US-NY"))
        analysis.submit(Message("marcus", 1, "customer", "I need to cancel my order NW-11730"))
        await analysis.settle()
        recorder.conversations.clear()
        recorder.insights.clear()
        analysis.submit(ConversationStarted(id="helen", customer_name="Helen Carter", jurisdiction="UK"))
        await analysis.settle()
        return recorder

    recorder = asyncio.run(run())
    # Helen's conversation comes back whole, and no state of Marcus's is shown with it.
    assert {c.customer_name for c in recorder.conversations} == {"Helen Carter"}
    assert [len(c.turns) for c in recorder.conversations] == [1]
    assert {i.conversation_id for i in recorder.insights} == {"helen"}
    assert recorder.insights[0].advice.intent.id == "bereavement"


def test_a_restart_rebuilds_the_open_conversation_and_plays_on_from_there(workspace: Workspace, tmp_path: Path) -> None:
    file = demo_conversation("cancellation")

    async def first_run() -> int:
        analysis, _ = _analysis(Pipeline(workspace), tmp_path)
        player = DemoPlayer(analysis)
        player.open(file)
        player.step()
        player.step()
        analysis.add_system_result("get_order", {"order_id": "NW-11730"}, {"order_id": "NW-11730", "status": "pending"})
        await analysis.settle()
        return player.messages_played

    async def second_run() -> tuple[Recorder, int, int, list[str]]:
        memory = ConversationMemory(tmp_path)
        opened = memory.opened()
        assert opened is not None and Path(opened.source) == file.resolve()
        analysis, recorder = _analysis(Pipeline(workspace), tmp_path)
        player = DemoPlayer(analysis)
        player.open(Path(opened.source))
        await analysis.settle()
        before = player.messages_played
        player.step()
        await analysis.settle()
        assert analysis.conversation is not None
        return recorder, before, player.messages_played, [t.name for t in analysis.conversation.tools]

    played = asyncio.run(first_run())
    recorder, resumed_at, after_step, tools = asyncio.run(second_run())
    assert (played, resumed_at, after_step) == (2, 2, 3)
    assert "get_order" in tools  # the lookup made before the restart is part of the rebuilt conversation
    assert [i.seq for i in recorder.insights][:1] == [max(t.seq for t in recorder.conversations[0].turns)]


def test_a_message_delivered_twice_is_one_turn_and_start_over_plays_from_the_top(
    workspace: Workspace, tmp_path: Path
) -> None:
    async def run() -> tuple[int, int]:
        analysis, _ = _analysis(Pipeline(workspace), tmp_path)
        analysis.submit(ConversationStarted(id="c"))
        for _ in range(2):
            analysis.submit(Message("c", 1, "customer", "Where is my parcel?"))
            analysis.submit(ToolCall("c", 1, "get_order", {"order_id": "NW-1"}))
            analysis.submit(ToolResult("c", 1, "get_order", "{}"))
        await analysis.settle()
        assert analysis.conversation is not None
        player = DemoPlayer(analysis)
        player.open(demo_conversation("cancellation"))
        player.step()
        player.start_over()
        return len(analysis.conversation.turns), player.messages_played

    turns, played = asyncio.run(run())
    assert (turns, played) == (0, 0)
