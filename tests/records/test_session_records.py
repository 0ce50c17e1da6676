"""A live session records every card of every analysed message, what the rep then sent, and what was ignored.

The pipeline is the real one over the demo pack; the records are SQLite here (the wiring does not depend on
the backend, which the other record tests cover on both).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from copilot.conversation.events import read_events
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline
from copilot.reasoner import Review
from copilot.records.database import sqlite_url
from copilot.records.models import Kind, Outcome, Reason
from copilot.records.shown import DRAFT_KEY
from copilot.records.store import CardFilter, Records
from copilot.session.analysis import Analysis
from copilot.session.reply import ReplyDesk
from copilot.settings import DEMO_CONVERSATIONS
from copilot.workspace import Workspace


class Listener:
    """Hears what the analysis and the reply desk tell the UI, and keeps the insights."""

    def __init__(self) -> None:
        self.insights: list[Insight] = []

    def conversation_changed(self, conversation: Conversation) -> None: ...

    def insight_ready(self, insight: Insight) -> None:
        self.insights.append(insight)

    def analysis_failed(self, seq: int, message: str) -> None:
        raise AssertionError(f"analysis of {seq} failed: {message}")

    def draft_reviewed(self, text: str, review: Review) -> None: ...

    def draft_streamed(self, seq: int, text: str, done: bool) -> None: ...

    def draft_failed(self, seq: int, message: str) -> None: ...


def test_playing_a_conversation_fills_the_records(workspace: Workspace, tmp_path: Path) -> None:
    records = Records.open(sqlite_url(tmp_path / "journal.sqlite3"), rep="ana")
    events = read_events(DEMO_CONVERSATIONS / "accessibility.jsonl").events[:4]  # start; customer, rep, customer

    async def play() -> tuple[ReplyDesk, Listener]:
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[Pipeline] = loop.create_future()
        ready.set_result(Pipeline(workspace))
        listener = Listener()
        analysis = Analysis(ready, listener)
        reply = ReplyDesk(loop, listener, records)
        analysis.follow(reply)
        for event in events:
            analysis.submit(event)
            await analysis.settle()
        reply.card_shown(Kind.ACTION, "p-1", "Email accessible instructions", ("northwind-retail@2025.6#a11y",))
        reply.card_shown(Kind.ACTION, "p-1", "Email accessible instructions")  # shown again: one record
        await reply.records_written()  # card records are written off the loop, in order
        newest = listener.insights[-1]
        [path, *_] = newest.advice.suggestions
        reply.decide(path.intent, path.title, "dismissed", Reason.NOT_RELEVANT)
        [target, *_] = [c for c in records.cards() if c.seq == newest.seq and c.kind is not Kind.ACTION]
        reply.card_decided(target.kind, target.key, Outcome.EXPANDED)
        reply.thumb(target.kind, target.key, False)
        await reply.records_written()
        await analysis.aclose()
        await reply.aclose()
        return reply, listener

    _, listener = asyncio.run(play())
    first = [c for c in records.cards(CardFilter(conversation_id="accessibility")) if c.seq == 1]
    assert {c.kind for c in first} >= {Kind.CLAUSE, Kind.DRAFT}, first
    packs = listener.insights[0].packs  # the demo pack's version in force, whichever it is
    assert packs and all(c.packs == packs and c.latency_ms and c.rep == "ana" for c in first)
    [draft] = [c for c in first if c.kind is Kind.DRAFT and c.key == DRAFT_KEY]
    assert draft.outcome is Outcome.EDITED  # the rep's own message #2 is what was sent
    assert draft.sent_text is not None and draft.sent_text.startswith("Hi [NAME_")
    assert "Siobhan" not in draft.sent_text and draft.diff and draft.decision_ms is not None
    assert all(c.outcome is Outcome.IGNORED for c in first if c.kind is not Kind.DRAFT)
    newest = listener.insights[-1]
    latest = records.cards(CardFilter(conversation_id="accessibility"))
    [action] = [c for c in latest if c.kind is Kind.ACTION]
    assert (action.seq, action.key, action.citations) == (newest.seq, "p-1", ("northwind-retail@2025.6#a11y",))
    path = newest.advice.suggestions[0].title
    [dismissed] = [c for c in latest if c.seq == newest.seq and c.kind is Kind.SUGGESTION and c.key == path]
    assert (dismissed.outcome, dismissed.reason) == (Outcome.REJECTED, Reason.NOT_RELEVANT)
    looked = [c for c in latest if c.seq == newest.seq and c.outcome is Outcome.EXPANDED]
    assert [c.thumb for c in looked] == [-1]
    assert {c.seq for c in latest} == {i.seq for i in listener.insights}
    records.close()
