"""The connected systems in a live conversation: customer lookups, action proposals, approvals and runs.

Lookups use only tools an admin pre-approved and run in the background; their results join the
conversation as system results (and the message is analysed again with them). Proposals follow each
analysis; approvals and runs happen only when a person asks, through the Desk.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Protocol

from base.errors import ConnectorError, CopilotError
from connectors.contract import ToolInfo
from copilot.action_policy import ActionPolicy, policy_in_force
from copilot.actions.approvals import Action, Desk, RecordResult
from copilot.actions.credentials import Approver
from copilot.actions.customer import CustomerView, Lookup, lookups, parties, view
from copilot.actions.desk import fresh_verdict, read_as_call
from copilot.actions.judge import Judge
from copilot.actions.plans import PlanRunner
from copilot.actions.proposals import ActionContext, Proposal, edited, propose, situation_of
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline
from copilot.reasoning.guidance import Guidance
from copilot.session.tasks import Tasks

log = logging.getLogger("copilot")


class OperationsListener(Protocol):
    """What operations tell the outside world (the UI bridge implements it)."""

    def customer_changed(self, customer: CustomerView) -> None: ...

    def actions_changed(self, actions: list[Action]) -> None: ...

    def operation_failed(self, message: str) -> None: ...


class Operations:
    """Follows the analysis (a Follower) to look customers up and propose actions; runs what the rep asks.

    Lookups and proposals belong to the conversation and are cancelled when another one starts; what
    the rep asked for (approvals, runs, reconciliation) runs on until done or until ``aclose``.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, desk: Desk, listener: OperationsListener, add_result: RecordResult
    ) -> None:
        self.desk = desk
        self._listener = listener
        self._add_result = add_result
        self._done: set[str] = set()
        self._failed: dict[str, str] = {}
        self._followups = Tasks(loop)
        self._requests = Tasks(loop)
        self._conversation: Conversation | None = None
        self._basis: tuple[Insight, Guidance] | None = None
        self._policy: ActionPolicy | None = None
        """The action policy of the packs of the last analysis: what to look up (None before the first)."""
        self.customer = CustomerView()
        self.party = ""
        """Whose account the Customer section shows when the case is about a party the customer names ("for
        Jane Doe's account (the customer's late mother)"); empty when it is the customer's own."""
        self.lead_ran: Callable[[Action, Approver], None] | None = None
        """Told of an action that ran with a lead's approval (the panel records it for the leads' review)."""
        self.plans = PlanRunner(desk, self._plan_changed)
        self._policy_known = asyncio.Event()
        """Set by the first analysis: a plan's steps are judged by the packs in force (after a restart, seconds)."""
        """The conversation's multi-step plans (pack ``[[plan]]``s), each step through the desk."""
        self.tools: dict[str, ToolInfo] = {}
        """The tools the connected systems offer, as of the last proposals (their schemas make the forms)."""

    @property
    def conversation_id(self) -> str:
        """The id of the conversation followed ('' before the first)."""
        return self._conversation.id if self._conversation is not None else ""

    def _plan_changed(self, conversation_id: str) -> None:
        """A plan's step ran or its state changed: the panel shows it if it is the conversation's on screen."""
        if conversation_id == self.conversation_id:
            self._listener.actions_changed(self.desk.actions(conversation_id))

    # What the analysis tells it

    def started(self, conversation: Conversation) -> None:
        self._followups.cancel()
        self._basis = None
        self._done.clear()
        self._failed.clear()
        self._conversation = conversation
        self.customer = CustomerView()
        self.party = ""
        self._listener.customer_changed(self.customer)
        self._listener.actions_changed(self.desk.actions(conversation.id))

    def updated(self, conversation: Conversation, newest: int) -> None:
        self._conversation = conversation
        self._follow(conversation)

    def analysed(self, insight: Insight, conversation: Conversation, pipeline: Pipeline) -> Coroutine[Any, Any, None]:
        """Refresh the Customer section now; offering the actions this analysis calls for is returned, for
        the analysis task to run (a newer analysis cancels it)."""
        self._policy = self.desk.policy = policy_in_force(pipeline.workspace.catalog, insight.packs)
        self._policy_known.set()
        self._shown(conversation)
        self._follow(conversation)  # what the packs' systems.toml says to look up, now that it is known
        guidance = pipeline.workspace.guidance(insight.packs)
        self._basis = (insight, guidance)
        return self._advise(conversation, insight, guidance)

    async def aclose(self) -> None:
        """Cancel lookups, proposals and runs in flight and wait for them to end."""
        await self._followups.aclose()
        await self._requests.aclose()
        self.plans.close()

    # Lookups

    def _follow(self, conversation: Conversation) -> None:
        """Look up what the conversation newly names (in the background)."""
        if self._policy is not None:
            self._look_up_new(conversation, lookups(conversation, self._policy))

    def _look_up_new(self, conversation: Conversation, wanted: list[Lookup]) -> None:
        """Run, in the background, the lookups not made (or failed) before in this conversation."""
        new = [w for w in {w.key: w for w in wanted}.values() if w.key not in self._done and w.key not in self._failed]
        for lookup in new:
            self._done.add(lookup.key)
        if new:
            self._followups.spawn(self._lookup(conversation, new))

    def retry(self) -> None:
        """The rep asked to try failed lookups again."""
        for key in list(self._failed):
            self._done.discard(key)
        self._failed.clear()
        if self._conversation is not None:
            self._follow(self._conversation)

    async def _lookup(self, conversation: Conversation, wanted: list[Lookup], asked: bool = False) -> None:
        """Run lookups; only pre-approved ones unless the rep ``asked`` for this one (a read-only tool)."""
        systems = self.desk.systems
        for lookup in wanted:
            try:
                await systems.tools()
                info = await systems.info(lookup.tool)
                if not (systems.pre_approved(lookup.tool) or (asked and info is not None and info.read_only)):
                    continue
                result = await systems.call(lookup.tool, lookup.arguments)
            except ConnectorError as exc:
                self._failed[lookup.key] = str(exc)
                self._done.discard(lookup.key)
                self.customer = view(conversation, self.desk.policy, True, f"{exc} Showing what was known before.")
                self._listener.customer_changed(self.customer)
                continue
            self._add_result(lookup.tool, lookup.arguments, result)

    def _shown(self, conversation: Conversation) -> None:
        """Refresh the Customer section from the conversation's newest system results."""
        stale = bool(self._failed)
        message = next(iter(self._failed.values()), "") if stale else ""
        self.customer = view(conversation, self.desk.policy, stale, message)
        who = parties(conversation, self.desk.policy)
        subject = who.subject
        self.party = who.whose(subject.id) if who.theirs and subject is not None else ""
        self._listener.customer_changed(self.customer)

    # Proposals

    async def _advise(
        self, conversation: Conversation, insight: Insight, guidance: Guidance, extra: tuple[tuple[str, str], ...] = ()
    ) -> None:
        """Offer the actions this analysis calls for; each is recorded (and audited) once."""
        try:
            self.tools = {name: info for name, (_, info) in (await self.desk.systems.tools()).items()}
        except ConnectorError:
            self.tools = {}
        tools = self.tools
        advice = insight.advice
        context = ActionContext(advice.suggestions, advice.escalations, tools, self.desk.role, extra)
        proposals = propose(conversation, context, self.desk.policy, guidance)
        try:
            self.desk.offer(proposals)
            intents = {s.intent for s in advice.suggestions}
            self.plans.offer(conversation, intents, {e.category for e in advice.escalations}, guidance.citations)
        except CopilotError as exc:  # the audit log refuses to record: nothing is offered, the rep is told
            self._listener.operation_failed(str(exc))
            return
        self._listener.actions_changed(self.desk.actions(conversation.id))
        self._supply(conversation, proposals)

    def _supply(self, conversation: Conversation, proposals: tuple[Proposal, ...]) -> None:
        """Read the records a proposal waits for with the lookups an admin pre-approved (in the background;
        the message is analysed again with them, and the proposal judged on them). Others wait for the rep."""
        wanted = [
            Lookup(*call)
            for p in proposals
            if (call := p.verdict.lookup_call) is not None and self.desk.systems.pre_approved(call[0])
        ]
        self._look_up_new(conversation, wanted)

    def look_up(self, action_id: str) -> None:
        """The rep asked to run the read-only call a proposal waits for (a tool not pre-approved)."""
        action = self.desk.get(action_id)
        call = action.proposal.verdict.lookup_call if action is not None else None
        if call is not None and self._conversation is not None:
            lookup = Lookup(*call)
            self._done.add(lookup.key)
            self._requests.spawn(self._lookup(self._conversation, [lookup], asked=True))

    def edit(self, action_id: str, arguments: dict[str, Any]) -> None:
        """The rep filled in or changed a waiting action's arguments: it is proposed again with them, judged
        on fresh records, and the old proposal is set aside."""

        async def again(conversation: Conversation) -> Action | None:
            old = self.desk.get(action_id)
            if old is None:
                return None
            p = old.proposal
            judge = Judge(self.desk.policy, situation_of(conversation, self.desk.policy, self.desk.role))
            judged = await fresh_verdict(
                judge,
                self.desk.systems,
                p.tool,
                arguments,
                read_as_call(self._add_result),
                intent=p.intent,
                why=p.why,
                queue=p.queue,
            )
            if old.state in ("proposed", "awaiting_second"):  # first: one action per tool and target
                self.desk.reject(action_id, self.desk.actor, "replaced by the rep's arguments")
            self.desk.offer((edited(p, arguments, conversation, judged.verdict),))
            return None

        self._request(again)

    def undo(self, tool: str, why: str) -> None:
        """Propose the compensating action (the pack's ``undo`` of a tool that ran) for the rep to approve."""
        if self._conversation is not None and self._basis is not None:
            insight, guidance = self._basis
            self._requests.spawn(self._advise(self._conversation, insight, guidance, ((tool, why),)))

    # What the rep asks for

    def approve(self, action_id: str, approver: Approver | None = None) -> None:
        """One person's approval (by default this desk's person; a lead comes verified by their passphrase,
        ``Desk.leads.verify``); once complete, the action runs straight away."""

        async def approved(conversation: Conversation) -> Action:
            action = self.desk.approve(action_id, approver)
            if not action.runnable:
                return action
            ran = await self.desk.execute(action_id, conversation, self._add_result)
            if approver is not None and ran.state == "done" and self.lead_ran is not None:
                self.lead_ran(ran, approver)
            return ran

        self._request(approved)

    def run(self, action_id: str) -> None:
        """Run an approved action again after it was not delivered (the system was down)."""
        self._request(lambda conversation: self.desk.execute(action_id, conversation, self._add_result))

    def reconcile(self, action_id: str) -> None:
        """Read the system's state of an action whose outcome is unknown."""
        self._request(lambda _: self.desk.reconcile(action_id, self._add_result))

    def preview(self, action_id: str) -> None:
        """The system's dry run of a waiting action, shown on its card."""
        self._request(lambda _: self.desk.preview(action_id))

    def resume(self) -> None:
        """After a restart, settle actions whose reply died with the last run (by reading the system)."""
        self._requests.spawn(self.desk.resume())

    def plan(self, verb: str, run_id: str, approver: Approver | None = None) -> None:
        """The rep's request about a plan (``PlanRun.choices``): ``approve`` the rest of it, ``step`` (the next
        step only), ``second`` (``approver``, a lead, approves the step waiting), ``retry``, ``compensate``,
        ``handoff`` or ``dismiss``."""
        if verb in ("handoff", "dismiss"):  # at once: the handoff package opened next shows the plan handed off
            try:
                (self.plans.hand_off if verb == "handoff" else self.plans.dismiss)(run_id)
            except CopilotError as exc:
                self._listener.operation_failed(str(exc))
            return

        async def asked(conversation: Conversation) -> None:
            await self._policy_known.wait()
            plans, record = self.plans, self._add_result
            if verb in ("approve", "step", "second"):
                whole = {"approve": True, "step": False}.get(verb)  # a lead's approval goes on as the rep approved
                await plans.approve(run_id, conversation, record, whole=whole, approver=approver)
            elif verb == "retry":
                await plans.retry(run_id, conversation, record)
            elif verb == "compensate":
                await plans.compensate(run_id, conversation, record)

        self._request(asked)

    def reject(self, action_id: str, why: str = "") -> None:
        if self._conversation is None:
            return
        try:
            self.desk.reject(action_id, self.desk.actor, why)
        except CopilotError as exc:  # not rejectable any more, or the audit log refuses to record
            self._listener.operation_failed(str(exc))
        self._listener.actions_changed(self.desk.actions(self._conversation.id))

    def _request(self, work: Callable[[Conversation], Awaitable[Action | None]]) -> None:
        if self._conversation is not None:
            self._requests.spawn(self._guarded(self._conversation, work))

    async def _guarded(
        self, conversation: Conversation, work: Callable[[Conversation], Awaitable[Action | None]]
    ) -> None:
        """Run ``work``; a refusal or system error is reported in plain words and the panel stays usable."""
        try:
            await work(conversation)
        except CopilotError as exc:
            self._listener.operation_failed(str(exc))
        self._listener.actions_changed(self.desk.actions(conversation.id))
