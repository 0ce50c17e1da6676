"""A live conversation's session: the analysis, the reply desk and operations, built and closed together."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from copilot.pipeline import Pipeline
from copilot.records.store import Records
from copilot.session.analysis import Analysis, AnalysisListener
from copilot.session.memory import ConversationMemory
from copilot.session.operations import Operations, OperationsListener
from copilot.session.reply import ReplyDesk, ReplyListener

if TYPE_CHECKING:
    from copilot.actions.approvals import Desk
    from copilot.llm.client import LlmConfig


class SessionListener(AnalysisListener, ReplyListener, OperationsListener, Protocol):
    """Everything a session tells the outside world (the UI bridge implements it)."""


@dataclass(frozen=True)
class Session:
    """The analysis owns the conversation and its insights; the reply desk and operations follow it.

    Callers use the part they need (``session.reply.review(text)``); the session itself only builds the
    parts, waits for them and closes them.
    """

    analysis: Analysis
    reply: ReplyDesk
    operations: Operations | None
    """Customer lookups and actions through the connected systems; None when no system is connected."""

    @classmethod
    def open(
        cls,
        pipeline: asyncio.Future[Pipeline],
        listener: SessionListener,
        records: Records | None = None,
        llm_config: Callable[[], LlmConfig] | None = None,
        desk: Desk | None = None,
        memory: ConversationMemory | None = None,
    ) -> Session:
        """The parts wired together; the pipeline arrives later through ``pipeline``. ``memory`` keeps each
        conversation's state (in memory only when None)."""
        loop = pipeline.get_loop()
        analysis = Analysis(pipeline, listener, memory)
        reply = ReplyDesk(loop, listener, records, llm_config)
        analysis.follow(reply)
        operations = None
        if desk is not None:
            operations = Operations(loop, desk, listener, analysis.add_system_result)
            analysis.follow(operations)
        return cls(analysis, reply, operations)

    async def settle(self) -> None:
        """Wait until the newest message has been analysed and its actions offered (screenshots, tests)."""
        await self.analysis.settle()

    async def aclose(self) -> None:
        """Cancel every task of every part and wait until all have ended."""
        await self.analysis.aclose()
        await self.reply.aclose()
        if self.operations is not None:
            await self.operations.aclose()
