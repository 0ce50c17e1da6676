"""The connected systems in a live conversation: customer lookups, action proposals, approvals and runs.

Lookups use only tools an admin pre-approved and run in the background; their results join the
conversation as system results (and the message is analysed again with them). Proposals follow each
analysis; approvals and runs happen only when a person asks, through the Desk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Protocol

from base.errors import ApprovalError, ConnectorError, CopilotError
from copilot.actions.approvals import Action, Desk
from copilot.actions.customer import CustomerView, Lookup, lookups, view
from copilot.actions.proposals import offered_for
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight
from copilot.reasoning.guidance import Guidance

log = logging.getLogger("copilot")
AddResult = Callable[[str, dict[str, Any], dict[str, Any]], None]


class OperationsListener(Protocol):
    def customer_changed(self, customer: CustomerView) -> None: ...

    def actions_changed(self, actions: list[Action]) -> None: ...

    def operation_failed(self, message: str) -> None: ...


class Operations:
    def __init__(self, desk: Desk, listener: OperationsListener, add_result: AddResult) -> None:
        self.desk = desk
        self._listener = listener
        self._add_result = add_result
        self._done: set[str] = set()
        self._failed: dict[str, str] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.conversation_id = ""
        self.customer = CustomerView()

    def _spawn(self, coroutine: Any) -> asyncio.Task[Any]:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def start(self, conversation: Conversation) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._done.clear()
        self._failed.clear()
        self.conversation_id = conversation.id
        self.customer = CustomerView()
        self._listener.customer_changed(self.customer)
        self._listener.actions_changed(self.desk.actions(conversation.id))

    def follow(self, conversation: Conversation) -> None:
        """Look up what the conversation newly names (in the background)."""
        wanted = [w for w in lookups(conversation) if w.key not in self._done and w.key not in self._failed]
        if wanted:
            for lookup in wanted:
                self._done.add(lookup.key)
            self._spawn(self._lookup(conversation, wanted))

    def retry(self, conversation: Conversation) -> None:
        """The rep asked to try failed lookups again."""
        for key in list(self._failed):
            self._done.discard(key)
        self._failed.clear()
        self.follow(conversation)

    async def _lookup(self, conversation: Conversation, wanted: list[Lookup]) -> None:
        systems = self.desk.systems
        for lookup in wanted:
            try:
                await systems.tools()
                if not systems.pre_approved(lookup.tool):
                    continue
                result = await systems.call(lookup.tool, lookup.arguments)
            except ConnectorError as exc:
                self._failed[lookup.key] = str(exc)
                self._done.discard(lookup.key)
                self.customer = view(conversation, True, f"{exc} Showing what was known before.")
                self._listener.customer_changed(self.customer)
                continue
            self._add_result(lookup.tool, lookup.arguments, result)

    def shown(self, conversation: Conversation) -> None:
        """Refresh the Customer section from the conversation's newest system results."""
        stale = bool(self._failed)
        message = next(iter(self._failed.values()), "") if stale else ""
        self.customer = view(conversation, stale, message)
        self._listener.customer_changed(self.customer)

    async def advise(
        self, conversation: Conversation, insight: Insight, guidance: Guidance, extra: tuple[tuple[str, str], ...] = ()
    ) -> list[Action]:
        """Offer the actions this analysis calls for; each is recorded (and audited) once."""
        try:
            tools = await self.desk.systems.tools()
        except ConnectorError:
            tools = {}
        self.desk.offer(offered_for(conversation, insight.advice, guidance, tools, self.desk.role, extra))
        actions = self.desk.actions(conversation.id)
        self._listener.actions_changed(actions)
        return actions

    async def preview(self, action_id: str, conversation: Conversation) -> Action | None:
        """The system's dry run of a waiting action, shown on its card."""
        return await self._guarded(conversation, self.desk.preview(action_id))

    def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def approve(self, action_id: str, conversation: Conversation, name: str, role: str) -> Action | None:
        """One person's approval; once complete, the action runs straight away."""

        async def approved() -> Action:
            action = self.desk.approve(action_id, name, role)
            return await self.desk.execute(action_id, conversation, self._add_result) if action.runnable else action

        return await self._guarded(conversation, approved())

    async def run(self, action_id: str, conversation: Conversation) -> Action | None:
        """Run an approved action again after it was not delivered (the system was down)."""
        return await self._guarded(conversation, self.desk.execute(action_id, conversation, self._add_result))

    async def reconcile(self, action_id: str, conversation: Conversation) -> Action | None:
        return await self._guarded(conversation, self.desk.reconcile(action_id, self._add_result))

    def reject(self, action_id: str, conversation: Conversation, name: str, why: str = "") -> None:
        try:
            self.desk.reject(action_id, name, why)
        except ApprovalError as exc:
            self._listener.operation_failed(str(exc))
        self._listener.actions_changed(self.desk.actions(conversation.id))

    async def _guarded(self, conversation: Conversation, work: Any) -> Action | None:
        """Run ``work``; a refusal or system error is reported in plain words and the panel stays usable."""
        try:
            action: Action | None = await work
        except CopilotError as exc:
            self._listener.operation_failed(str(exc))
            action = None
        self._listener.actions_changed(self.desk.actions(conversation.id))
        return action
