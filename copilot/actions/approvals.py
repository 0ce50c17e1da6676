"""Approved actions from proposal to result: approvals, execution, and what happens when a reply is lost.

Each action is a row in ``actions.sqlite3`` whose state moves
``proposed → approved (→ awaiting a second approver → approved) → running → done | failed | unknown``
(or ``rejected``), so pending approvals and half-known outcomes survive a restart. Every step is
appended to the audit log. An action runs with its proposal id as idempotency key; a reply lost on
the way is retried with that same key where the system takes one, otherwise the outcome is marked
unknown and settled by reading the system's state, never by running the action again blindly.

An approval is given by an ``Approver`` (copilot/actions/credentials.py), never a typed name: the second
approval a ``needs_approval`` verdict asks for counts only from a person of its role whose credential was
checked, and never from someone who already approved (same name or same OS login).
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from base.errors import ApprovalError, ConnectorError, ReplyLost, SystemUnavailable, ToolRefused
from base.sqlite import open_db
from connectors.systems import Systems
from copilot.action_policy import ActionPolicy
from copilot.actions.audit import AuditTrail
from copilot.actions.credentials import LEADS_FILE, Approver, Leads, Method, at_desk, os_login, person_key
from copilot.actions.desk import fresh, fresh_verdict, read_as_call
from copilot.actions.judge import EXPRESSION_FAILURES, Judge
from copilot.actions.proposals import Proposal, calls, situation_of
from copilot.actions.verdict import Verdict
from copilot.conversation.state import Conversation

log = logging.getLogger("copilot")

RecordResult = Callable[[str, dict[str, Any], dict[str, Any]], None]
"""Receives (tool, arguments, result) of a call that ran, so the result joins the conversation's facts."""
ACTIONS_FILE = "actions.sqlite3"
State = Literal["proposed", "approved", "awaiting_second", "running", "done", "failed", "unknown", "rejected"]
OPEN_STATES = ("proposed", "approved", "awaiting_second", "unknown")
RETRIES = 2
REP = "rep"
SET_ASIDE = "Set aside: more actions were waiting than the pack shows at once; proposed again when called for."
"""The message of an action the copilot set aside (``Desk.offer``), unlike one a person rejected."""
"""Extra attempts, with the same idempotency key, after a lost reply from a system that takes keys."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS actions (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    proposal TEXT NOT NULL,
    state TEXT NOT NULL,
    approvals TEXT NOT NULL,
    message TEXT NOT NULL,
    result TEXT NOT NULL,
    before TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    preview TEXT NOT NULL DEFAULT 'null'
);
"""


@dataclass(frozen=True)
class Approval:
    """One approval given, as the action keeps it: who, in which role, and how they were identified."""

    role: str
    name: str
    method: Method | Literal["unrecorded"] = "unrecorded"
    """``unrecorded``: given before approvals recorded how (it never counts as a verified one)."""
    logins: tuple[str, ...] = ()

    @classmethod
    def of(cls, approver: Approver) -> Approval:
        return cls(approver.role, approver.name, approver.method, approver.logins)

    @classmethod
    def from_json(cls, data: Any) -> Approval:
        """A stored approval; older rows hold ``[role, name]``."""
        if isinstance(data, list):
            return cls(str(data[0]), str(data[1]))
        return cls(data["role"], data["name"], data["method"], tuple(data["logins"]))

    @property
    def verified(self) -> bool:
        return self.method == "passphrase"

    def same_person(self, approver: Approver) -> bool:
        """Whether ``approver`` is this approval's person: a shared name or login, in any case or spacing."""
        mine = {person_key(n) for n in (self.name, *self.logins) if n.strip()}
        return not mine.isdisjoint(person_key(n) for n in (approver.name, *approver.logins) if n.strip())


@dataclass(frozen=True)
class Action:
    proposal: Proposal
    state: State
    approvals: tuple[Approval, ...] = ()
    """Each approval given, in order."""
    message: str = ""
    """What the rep reads about the outcome: the system's refusal, a lost reply, a reconciliation."""
    result: dict[str, Any] | None = None
    before: dict[str, Any] | None = None
    """The records the tool's rules read (kind → record) just before running, to tell afterwards whether a
    lost call was applied."""
    preview: list[dict[str, Any]] | None = None
    """What the system's dry run says will change (``entity``, ``id``, ``field``, ``before``, ``after``)."""

    @property
    def id(self) -> str:
        return self.proposal.id

    @property
    def runnable(self) -> bool:
        return self.state == "approved"


def _proposal_json(proposal: Proposal) -> str:
    data = asdict(proposal)
    return json.dumps(data, sort_keys=True)


def _proposal_from(text: str) -> Proposal:
    data = json.loads(text)
    data["verdict"] = Verdict(**data["verdict"])
    data["citations"] = tuple(data["citations"])
    return Proposal(**data)


class Desk:
    """Where actions wait for approval and run; one per app, shared by every conversation."""

    def __init__(
        self,
        path: Path,
        audit: AuditTrail,
        systems: Systems,
        actor: str = "rep",
        role: str = "rep",
        policy: ActionPolicy | None = None,
        leads: Leads | None = None,
    ) -> None:
        self._db = open_db(path, _SCHEMA)
        self.path = path
        """The actions database (plans keep their state beside the actions, copilot/actions/plans.py)."""
        self.leads = leads or Leads(path.with_name(LEADS_FILE))
        """The leads enrolled in the same data folder, whose passphrases prove a lead's approval."""
        self._lock = threading.Lock()
        self._running: set[str] = set()
        self.audit = audit
        self.systems = systems
        self.actor = actor
        if role != REP:
            log.warning("role %r of the settings gives no rights: a lead approves with their passphrase", role)
        self.role = REP
        """The role whose limits the pack's rules apply at this desk: always a rep's. A role written in the
        settings proves nothing; a lead's rights come only with their verified approval (``Leads.verify``)."""
        self.person = at_desk(actor, REP)
        """Who approves at this desk when nobody else is named: the settings' user (else the OS login)."""
        self.policy = policy or ActionPolicy()
        """The action policy of the packs in force (set by the live session on each analysis)."""

    def close(self) -> None:
        self._db.close()
        self.leads.close()

    # Records

    def _save(self, action: Action) -> Action:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO actions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    action.id,
                    action.proposal.conversation_id,
                    _proposal_json(action.proposal),
                    action.state,
                    json.dumps([asdict(a) for a in action.approvals]),
                    action.message,
                    json.dumps(action.result),
                    json.dumps(action.before),
                    datetime.now(UTC).isoformat(timespec="seconds"),
                    json.dumps(action.preview),
                ),
            )
        return action

    def get(self, action_id: str) -> Action | None:
        with self._lock:
            row = self._db.execute(
                "SELECT proposal, state, approvals, message, result, before, preview FROM actions WHERE id = ?",
                (action_id,),
            ).fetchone()
        if row is None:
            return None
        return Action(
            _proposal_from(row[0]),
            row[1],
            tuple(Approval.from_json(a) for a in json.loads(row[2])),
            row[3],
            json.loads(row[4]),
            json.loads(row[5]),
            json.loads(row[6]),
        )

    def actions(self, conversation_id: str) -> list[Action]:
        with self._lock:
            ids = [
                r[0]
                for r in self._db.execute(
                    "SELECT id FROM actions WHERE conversation_id = ? ORDER BY rowid", (conversation_id,)
                ).fetchall()
            ]
        return [a for i in ids if (a := self.get(i)) is not None]

    def _log(self, action: Action, kind: str, actor: str | None = None, result: dict[str, Any] | None = None) -> None:
        p = action.proposal
        citations = tuple(c for c in (*p.citations, p.verdict_citation) if c)
        self.audit.append(
            actor=actor or self.actor,
            conversation_id=p.conversation_id,
            kind=kind,
            action_id=p.id,
            tool=p.tool,
            arguments=p.arguments,
            result=result or {},
            citations=citations,
        )

    # Proposals and approvals

    def offer(self, proposals: tuple[Proposal, ...]) -> list[Action]:
        """Record new proposals (audited once each) and refresh the verdict of those still waiting. A
        conversation has one action per tool and target: a proposal for a tool and target it already has
        (waiting, approved, running or done) is not offered again. At most the pack's
        ``max_waiting`` wait at once: these proposals first (best first), then the newest; the rest are set
        aside until they are called for again."""
        for proposal in proposals:
            known = self.get(proposal.id)
            if known is None:
                if self._twin(proposal) is not None:
                    continue
                action = self._save(Action(proposal, "proposed"))
                self._log(action, "proposed", "copilot", {"verdict": asdict(proposal.verdict)})
            elif known.state == "rejected" and known.message == SET_ASIDE:
                action = self._save(replace(known, proposal=proposal, state="proposed", message=""))
                self._log(action, "proposed", "copilot", {"verdict": asdict(proposal.verdict)})
            elif known.state in ("proposed", "awaiting_second") and known.proposal.verdict != proposal.verdict:
                self._save(replace(known, proposal=proposal))
        if proposals:
            self._cap(proposals[0].conversation_id, [p.id for p in proposals])
        return [a for p in proposals if (a := self.get(p.id)) is not None and a.state != "rejected"]

    def _twin(self, proposal: Proposal) -> Action | None:
        """The conversation's action of the same tool and target that has not failed or been rejected."""
        return next(
            (
                a
                for a in self.actions(proposal.conversation_id)
                if a.proposal.tool == proposal.tool
                and a.proposal.target == proposal.target
                and a.state not in ("failed", "rejected")
            ),
            None,
        )

    def _cap(self, conversation_id: str, ranked: list[str]) -> None:
        """Set aside the waiting actions beyond the pack's ``max_waiting``: ``ranked`` ones first, then the newest."""
        waiting = [a for a in self.actions(conversation_id) if a.state == "proposed"]
        order = {action_id: n for n, action_id in enumerate(ranked)}
        newest = sorted(range(len(waiting)), key=lambda n: (order.get(waiting[n].id, len(order)), -n))
        for action in [waiting[n] for n in newest][self.policy.actions.max_waiting :]:
            self._save(replace(action, state="rejected", message=SET_ASIDE))
            self._log(action, "rejected", "copilot", {"why": SET_ASIDE})

    async def preview(self, action_id: str) -> Action | None:
        """Ask the system for a dry run of a waiting action (where its tool has one); nothing is changed."""
        action = self.get(action_id)
        if (
            action is None
            or action.preview is not None
            or action.state not in ("proposed", "awaiting_second")
            or action.proposal.verdict.kind == "blocked"
        ):
            return action
        info = await self.systems.info(action.proposal.tool)
        if info is None or not info.dry_run:
            return action
        arguments = {**action.proposal.arguments, "dry_run": True}
        if info.takes_idempotency_key:
            arguments["idempotency_key"] = action.proposal.idempotency_key
        try:
            result = await self.systems.call(action.proposal.tool, arguments)
        except ConnectorError as exc:  # the card then says nothing about changes; approval stays possible
            log.info("dry run of %s failed: %s", action.proposal.tool, exc)
            return action
        changes = [c for c in result.get("changes", []) if isinstance(c, dict)]
        return self._save(replace(action, preview=changes))

    def approve(self, action_id: str, approver: Approver | None = None) -> Action:
        """One person's approval (this desk's person unless ``approver`` says otherwise). A ``needs_approval``
        verdict also needs someone of its approver role whose credential was checked, who is not a person
        that approved before."""
        approver = approver or self.person
        action = self._required(action_id)
        verdict = action.proposal.verdict
        if verdict.kind == "blocked":
            raise ApprovalError(f"{action.proposal.tool} is blocked by rule {verdict.rule}: {verdict.reason}")
        if action.state not in ("proposed", "awaiting_second"):
            raise ApprovalError(f"{action.proposal.tool} is {action.state.replace('_', ' ')}; nothing to approve")
        if earlier := next((a for a in action.approvals if a.same_person(approver)), None):
            raise ApprovalError(
                f"{approver.name} approved this already, as {earlier.role} ({earlier.name}): "
                "the second approval must come from another person"
            )
        needed = verdict.approver_role if verdict.kind == "needs_approval" else ""
        if action.state == "awaiting_second" and not (approver.verified and approver.role == needed):
            raise ApprovalError(
                f"{action.proposal.tool} waits for a {needed}'s approval, given with the {needed}'s own passphrase; "
                f"{approver.name}'s approval at this desk cannot stand in for it"
            )
        approvals = (*action.approvals, Approval.of(approver))
        complete = not needed or (any(a.verified and a.role == needed for a in approvals) and len(approvals) >= 2)
        action = self._save(
            replace(
                action,
                approvals=approvals,
                state="approved" if complete else "awaiting_second",
                message="" if complete else f"Waiting for a {needed} to approve as well.",
            )
        )
        self._log(
            action,
            "approved",
            approver.name,
            {"role": approver.role, "complete": complete, "authenticated": approver.method, "desk_login": os_login()},
        )
        return action

    def reject(self, action_id: str, name: str, why: str = "") -> Action:
        action = self._required(action_id)
        if action.state not in ("proposed", "awaiting_second", "approved"):
            raise ApprovalError(f"{action.proposal.tool} is {action.state}; it can no longer be rejected")
        action = self._save(replace(action, state="rejected", message=why))
        self._log(action, "rejected", name, {"why": why})
        return action

    def _required(self, action_id: str) -> Action:
        action = self.get(action_id)
        if action is None:
            raise ApprovalError(f"No action {action_id} here; it may belong to another conversation")
        return action

    # Execution

    async def execute(
        self,
        action_id: str,
        conversation: Conversation,
        record: RecordResult = lambda *_: None,
    ) -> Action:
        """Run an approved action once. ``record`` receives each system lookup and the result, so the
        conversation's facts follow what the system now says. A second call while it runs does nothing."""
        action = self._required(action_id)
        if action_id in self._running or action.state in ("running", "done"):
            return action  # a double click or a retry of a finished action
        if not action.runnable:
            raise ApprovalError(f"{action.proposal.tool} is not approved yet ({action.state.replace('_', ' ')})")
        self._running.add(action_id)
        try:
            return await self._run(action, conversation, record)
        finally:
            self._running.discard(action_id)

    async def _run(self, action: Action, conversation: Conversation, record: RecordResult) -> Action:
        p = action.proposal
        judged = await fresh_verdict(
            Judge(self.policy, situation_of(conversation, self.policy, self.role)),
            self.systems,
            p.tool,
            p.arguments,
            read_as_call(record),
            intent=p.intent,
            why=p.why,
            queue=p.queue,
        )
        verdict, before = judged.verdict, judged.records or None
        if verdict.rule == "lookup":  # the system cannot be read now: nothing ran, the approval stands
            action = self._save(replace(action, state="approved", message=f"Not run: {verdict.reason}"))
            self._log(action, "failed", "copilot", {"error": verdict.reason, "delivered": False})
            return action
        if verdict.kind == "blocked" or (verdict.kind == "needs_approval" and p.verdict.kind == "allowed"):
            action = self._save(
                replace(
                    action,
                    state="failed" if verdict.kind == "blocked" else "proposed",
                    proposal=replace(p, verdict=verdict),
                    approvals=(),
                    message=f"Not run: the system's record changed. {verdict.reason}",
                )
            )
            self._log(action, "failed", "copilot", {"recheck": asdict(verdict)})
            return action
        info = await self.systems.info(p.tool)
        arguments = dict(p.arguments)
        keyed = info is not None and info.takes_idempotency_key
        if keyed:
            arguments["idempotency_key"] = p.idempotency_key
        action = self._save(replace(action, state="running", before=before, message=""))
        self._log(action, "executing", result={"idempotency_key": arguments.get("idempotency_key", "")})
        attempts = 1 + (RETRIES if keyed else 0)
        for attempt in range(attempts):
            try:
                result = await self.systems.call(p.tool, arguments)
            except ToolRefused as exc:
                return self._finish(action, "failed", str(exc), None)
            except SystemUnavailable as exc:  # never delivered: safe to try again later
                action = self._save(replace(action, state="approved", message=f"Not run: {exc}"))
                self._log(action, "failed", "copilot", {"error": str(exc), "delivered": False})
                return action
            except ReplyLost as exc:
                if attempt + 1 < attempts:
                    await asyncio.sleep(0.2 * (attempt + 1))
                    continue
                action = self._save(replace(action, state="unknown", message=f"Outcome unknown: {exc}"))
                self._log(action, "unknown", "copilot", {"error": str(exc)})
                return action if keyed else await self.reconcile(action.id, record)
            record(p.tool, arguments, result)
            await self._refresh(p, conversation, record)
            return self._finish(action, "done", _outcome(p.tool, result), result)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _refresh(self, proposal: Proposal, conversation: Conversation, record: RecordResult) -> None:
        """After a change: read again the records the tool's pack entry says it changes (``after``, else its
        ``records``) and the customer the conversation's Customer card shows, so facts, verdicts and the card
        show the system as it is now (a cancelled order is no longer "processing"). A failed read is left to
        the next lookup."""
        described = self.policy.tools.get(proposal.tool)
        card = self.policy.systems.customer
        try:
            if described is not None and described.records_after:
                judge = Judge(self.policy, situation_of(conversation, self.policy, self.role))
                await fresh(
                    self.systems,
                    lambda source: judge.records(described, described.records_after, proposal.arguments, source),
                    read_as_call(record),
                )
            shown = [(tool, arguments) for tool, arguments, _ in calls(conversation) if card and tool in card.tools]
            if shown and shown[-1][1]:
                tool, arguments = shown[-1]
                record(tool, arguments, await self.systems.call(tool, arguments))
        except ConnectorError as exc:
            log.info("reading %s's records again failed: %s", proposal.tool, exc)

    def _finish(self, action: Action, state: State, message: str, result: dict[str, Any] | None) -> Action:
        action = self._save(replace(action, state=state, message=message, result=result))
        self._log(action, "executed" if state == "done" else "failed", "copilot", result or {"error": message})
        return action

    async def reconcile(self, action_id: str, record: RecordResult = lambda *_: None) -> Action:
        """Settle an ``unknown`` outcome by reading the system's state; never by running the action again."""
        action = self._required(action_id)
        if action.state not in ("unknown", "running"):
            return action
        p = action.proposal
        applied: bool | None = None
        try:
            applied = await self._applied(action, record)
        except ConnectorError as exc:
            return self._save(
                replace(
                    action,
                    state="unknown",
                    message=f"Outcome unknown, and the system cannot be read now ({exc}). "
                    "Check it there before doing anything again.",
                )
            )
        if applied is None:
            action = self._save(
                replace(
                    action,
                    state="unknown",
                    message=f"Outcome unknown: {p.tool} leaves nothing "
                    "the copilot can read back. Check it in the system before trying again.",
                )
            )
        elif applied:
            action = self._save(
                replace(action, state="done", message="The system shows it was done (the reply was lost on the way).")
            )
        else:
            action = self._save(
                replace(
                    action,
                    state="approved",
                    message="The system shows it was not done; it is still approved and can be run again.",
                )
            )
        self._log(action, "reconciled", "copilot", {"applied": applied})
        return action

    async def _applied(self, action: Action, record: RecordResult) -> bool | None:
        """Whether the pack's ``applied`` expression holds on the tool's records read again now."""
        p = action.proposal
        described = self.policy.tools.get(p.tool)
        if described is None or not described.applied:
            return None
        judge = Judge(self.policy, situation_of(Conversation(p.conversation_id), self.policy, self.role))

        def after(source: Any) -> tuple[dict[str, Any], Verdict | None]:
            return judge.records(described, described.records_after, p.arguments, source)

        records, _ = await fresh(self.systems, after, read_as_call(record))
        variables = judge.variables(described, p.arguments, records, {}, before=action.before or {})
        try:
            return judge.evaluate(described.applied, variables) is True
        except EXPRESSION_FAILURES:
            return None

    async def resume(self, record: RecordResult = lambda *_: None) -> None:
        """After a restart: an action left ``running`` lost its reply with the app; settle it by reading."""
        with self._lock:
            ids = [r[0] for r in self._db.execute("SELECT id FROM actions WHERE state = 'running'").fetchall()]
        for action_id in ids:
            await self.reconcile(action_id, record)


def _outcome(tool: str, result: dict[str, Any]) -> str:
    """One line for the rep about what the system did."""
    if result.get("replayed"):
        return f"{tool.replace('_', ' ')}: already done earlier (the system returned the first result)."
    text = result.get("message") or result.get("summary")
    return str(text) if text else f"{tool.replace('_', ' ').capitalize()}: done."
