"""A live conversation's session: the analysis, the reply desk and operations, built and closed together; and
the live sources that feed it (the push endpoint, the Chatwoot helpdesk)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from base.errors import ConfigError, CopilotError, EventError, SystemUnavailable, ToolRefused
from connectors.chatwoot import PREFIX as CHATWOOT_PREFIX
from connectors.chatwoot import ChatwootConnector, State, open_chatwoot, webhook_secret
from copilot.pipeline import Pipeline
from copilot.records.store import Records
from copilot.session.analysis import Analysis, AnalysisListener
from copilot.session.follow import Follow, FollowListener
from copilot.session.inbox import Inbox
from copilot.session.memory import ConversationMemory
from copilot.session.operations import Operations, OperationsListener
from copilot.session.push import HOST, PushEndpoint, push_token, rotate_token
from copilot.session.reply import ReplyDesk, ReplyListener
from copilot.session.tasks import Tasks, in_daemon_thread
from copilot.settings import Settings

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


class LiveListener(FollowListener, Protocol):
    """What the live sources tell the panel besides which conversation it follows (the bridge implements it)."""

    def live_status(self, text: str) -> None:
        """One line on what the live sources are doing (``push on 127.0.0.1:8787 · Chatwoot: following``)."""

    def live_failed(self, message: str) -> None:
        """A live source cannot run (a port in use, a bad setting, Chatwoot refusing): said in the panel,
        which keeps working with the other sources."""


def source_of(conversation_id: str) -> str:
    """Where a live conversation comes from, as the header names it."""
    return "Chatwoot" if conversation_id.startswith(CHATWOOT_PREFIX) else "push"


class LiveSources:
    """The panel's live sources: the push endpoint and the Chatwoot helpdesk, into one inbox, routed by
    ``Follow`` into the session's analysis; and the rep's inserted reply, sent back through the helpdesk once.

    A source that cannot start is reported to the listener and left off; the others run, and so does the
    panel. Settings change a source by starting it again (``listen``, ``connect_helpdesk``).
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, analysis: Analysis, folder: Path, listener: LiveListener
    ) -> None:
        self.folder = folder
        self._listener = listener
        self.follow = Follow(analysis, listener)
        self.inbox = Inbox(loop, self.follow.apply)
        self.endpoint: PushEndpoint | None = None
        self.helpdesk: ChatwootConnector | None = None
        self._polling: asyncio.Task[None] | None = None
        self._tasks = Tasks(loop)
        self._reply: tuple[str, str] | None = None
        self._status = {"push": "", "chatwoot": ""}

    async def start(self) -> None:
        """Start both sources, each as its settings say."""
        await self.listen()
        await self.connect_helpdesk()

    async def listen(self) -> None:
        """(Re)start the push endpoint on ``listen_port`` of settings.json, with the install's token."""
        if self.endpoint is not None:
            await self.endpoint.aclose()
            self.endpoint = None
        try:
            port = Settings.load(self.folder).push_port()
            endpoint = PushEndpoint(self.inbox, push_token(self.folder), port, self._webhook_secret())
            try:
                await endpoint.start()
            except asyncio.CancelledError:  # the app closes while it starts: its server task must end too
                await endpoint.aclose()
                raise
        except CopilotError as exc:
            self._status["push"] = "push off"
            self._listener.live_failed(f"Live events are off: {exc}")
        else:
            self.endpoint = endpoint
            self._status["push"] = f"push on {HOST}:{endpoint.port}"
        self._tell()

    def rotate_token(self) -> str:
        """A new push token, in force at once: senders with the old one get 401 from now on."""
        token = rotate_token(self.folder)
        if self.endpoint is not None:
            self.endpoint.rotate(token)
        return token

    async def connect_helpdesk(self) -> None:
        """(Re)connect the ``[chatwoot]`` helpdesk of connectors.toml and poll it in the background; none
        without that table."""
        await self._disconnect()
        try:  # the token may come from a desktop keyring, which can block on D-Bus: off the GUI thread
            helpdesk = await in_daemon_thread(open_chatwoot, self.folder, self._deliver, self._helpdesk_state)
        except ConfigError as exc:
            self._status["chatwoot"] = "Chatwoot off"
            self._listener.live_failed(f"Chatwoot is off: {exc}")
        else:
            self.helpdesk = helpdesk
            if helpdesk is not None:
                self._status["chatwoot"] = "Chatwoot: connecting…"
                self._polling = self._tasks.spawn(helpdesk.run())
            else:
                self._status["chatwoot"] = ""
        self._tell()

    def inserted(self, text: str) -> bool:
        """The rep inserted ``text`` as the reply to the followed conversation: it may be sent once. Whether a
        helpdesk can send it (the followed conversation is one of the helpdesk's)."""
        conversation = self.follow.current
        sendable = self.helpdesk is not None and source_of(conversation) == "Chatwoot" and bool(text.strip())
        self._reply = (conversation, text) if sendable else None
        return sendable

    def drop_reply(self) -> None:
        """The inserted reply is no longer to be sent (the panel follows another conversation)."""
        self._reply = None

    @property
    def pending(self) -> str:
        """The conversation an inserted reply waits to be sent to ('' when none waits)."""
        return self._reply[0] if self._reply is not None else ""

    async def send(self) -> str:
        """Post the inserted reply through the helpdesk, once; the conversation it went to. ConnectorError
        when it failed: a reply surely not delivered (SystemUnavailable) may be sent again, any other not
        (it may have been posted: the rep looks in the helpdesk first)."""
        reply, self._reply = self._reply, None
        if reply is None or self.helpdesk is None:
            raise ToolRefused("Nothing to send: insert a reply to a Chatwoot conversation first.")
        try:
            await self.helpdesk.send(*reply)
        except SystemUnavailable:
            self._reply = reply
            raise
        return reply[0]

    async def aclose(self) -> None:
        """Stop polling and listening; events received and held are applied first."""
        await self._disconnect()
        if self.endpoint is not None:
            await self.endpoint.aclose()
        await self._tasks.aclose()

    async def _disconnect(self) -> None:
        if self._polling is not None:
            self._polling.cancel()
            await asyncio.wait([self._polling])
            self._polling = None
        if self.helpdesk is not None:
            await self.helpdesk.aclose()
            self.helpdesk = None
            self._reply = None

    def _webhook_secret(self) -> str:
        try:
            return webhook_secret(self.folder)
        except ConfigError:
            return ""  # connectors.toml is broken: the helpdesk says so; pushed events still need the token

    def _deliver(self, records: list[dict[str, Any]]) -> None:
        try:
            self.inbox.submit_records(records, "chatwoot", ordered=True)
        except EventError as exc:  # a payload Chatwoot changed: said, and the next poll goes on
            self._listener.live_failed(f"Chatwoot sent an event the copilot cannot read: {exc}")

    def _helpdesk_state(self, state: State, error: str) -> None:
        self._status["chatwoot"] = f"Chatwoot: {state.value}"
        if state is State.FAILING:
            self._listener.live_failed(f"Chatwoot is not answering; trying again: {error}")
        self._tell()

    def _tell(self) -> None:
        self._listener.live_status(" · ".join(part for part in self._status.values() if part))
