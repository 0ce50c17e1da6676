"""Headless replay: the panel's pipeline over an event file, one record per message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from copilot.conversation import Conversation
from copilot.errors import EventError
from copilot.events import ConversationStarted, Message, read_events
from copilot.pipeline import Insight, Pipeline


def replay(path: Path, pipeline: Pipeline) -> tuple[Iterator[Insight], list[EventError]]:
    """Insights for every message of ``path`` in order, and the errors of lines that could not be read."""
    log = read_events(path)

    def run() -> Iterator[Insight]:
        conversation: Conversation | None = None
        for event in log.events:
            if isinstance(event, ConversationStarted):
                conversation = Conversation.start(event)
                continue
            if conversation is None:
                conversation = Conversation(id=getattr(event, "conversation_id", path.stem))
            conversation = conversation.apply(event)
            if isinstance(event, Message):
                yield pipeline.run(conversation, event.seq)

    return run(), log.errors


def insight_record(insight: Insight) -> dict[str, Any]:
    """The compact JSON shape of one insight, as ``copilot replay --json`` prints it."""
    return {
        "conversation_id": insight.conversation_id,
        "seq": insight.seq,
        "role": insight.role,
        "clauses": [{"citation": c.citation, "title": c.title, "score": c.score} for c in insight.clauses],
        "notices": list(insight.notices),
        "timings_ms": insight.timings_ms,
    }
