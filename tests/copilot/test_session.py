"""The live session: every message analysed off the loop, stale results never shown, start-up never cancelled."""

from __future__ import annotations

import asyncio

from copilot.conversation.events import ConversationStarted, Message
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline
from copilot.session.analysis import Analysis
from copilot.workspace import Workspace


class Recorder:
    """An AnalysisListener that keeps what it was told."""

    def __init__(self) -> None:
        self.conversations: list[Conversation] = []
        self.insights: list[Insight] = []
        self.failures: list[tuple[int, str]] = []

    def conversation_changed(self, conversation: Conversation) -> None:
        self.conversations.append(conversation)

    def insight_ready(self, insight: Insight) -> None:
        self.insights.append(insight)

    def analysis_failed(self, seq: int, message: str) -> None:
        self.failures.append((seq, message))


def test_a_newer_message_drops_the_older_result_and_start_up_survives(workspace: Workspace) -> None:
    async def run() -> tuple[Recorder, asyncio.Future[Pipeline]]:
        ready: asyncio.Future[Pipeline] = asyncio.get_running_loop().create_future()
        recorder = Recorder()
        session = Analysis(ready, recorder)
        session.submit(ConversationStarted(id="c1", jurisdiction="US-CA"))
        # Both messages arrive while the pipeline is still starting: the first analysis is cancelled.
        session.submit(Message("c1", 1, "customer", "I was charged twice for one order"))
        session.submit(Message("c1", 2, "customer", "Actually, I also want to cancel my Northwind Plus membership"))
        await asyncio.sleep(0)
        ready.set_result(Pipeline(workspace))
        await session.settle()
        return recorder, ready

    recorder, ready = asyncio.run(run())
    assert not ready.cancelled()
    assert [i.seq for i in recorder.insights] == [2]
    assert any(c.clause_id.startswith("cancellations.plus") for c in recorder.insights[0].clauses)
    assert [len(c.turns) for c in recorder.conversations] == [0, 1, 2]


def test_a_failed_start_up_is_reported_per_message_not_raised(workspace: Workspace) -> None:
    async def run() -> Recorder:
        ready: asyncio.Future[Pipeline] = asyncio.get_running_loop().create_future()
        recorder = Recorder()
        session = Analysis(ready, recorder)
        session.submit(Message("c9", 1, "customer", "Where is my parcel?"))
        ready.set_exception(RuntimeError("the clause store is not writable"))
        await session.settle()
        return recorder

    recorder = asyncio.run(run())
    assert recorder.failures == [(1, "the clause store is not writable")]
    assert recorder.insights == []


def test_closing_ends_the_analysis_in_flight_and_starts_none_after(workspace: Workspace) -> None:
    async def run() -> tuple[Recorder, list[asyncio.Task[object]]]:
        ready: asyncio.Future[Pipeline] = asyncio.get_running_loop().create_future()
        recorder = Recorder()
        analysis = Analysis(ready, recorder)
        analysis.submit(Message("c1", 1, "customer", "Where is my parcel?"))  # waits for the pipeline
        await analysis.aclose()
        left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        ready.set_result(Pipeline(workspace))
        analysis.submit(Message("c1", 2, "customer", "Hello?"))
        await analysis.settle()
        return recorder, left

    recorder, left = asyncio.run(run())
    assert left == [], "a task outlived the analysis that owned it"
    assert recorder.insights == [] and recorder.failures == []
    assert [len(c.turns) for c in recorder.conversations] == [0, 1, 2]
