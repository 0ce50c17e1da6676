"""Multi-step plans: several actions run in order for one request, each step through the Desk like any action.

A pack's ``[[plan]]`` (actions.toml) names its steps: a tool, the expressions filling its arguments (which may
read what the steps before returned, ``steps.<id>.result``) and the call that compensates it. Each plan
instance lives in ``actions.sqlite3`` beside the actions: the plan as it was offered, which Desk action is
each attempt of each step, and where the plan stands. A step goes the Desk's way: judged on records read
fresh, approved, judged again right before it runs, run with an idempotency key derived from the plan
instance's id, audited. The rep approves the whole plan or one step at a time; a step that fails stops the
plan where it is, with three ways on: try the step again, compensate the steps done (newest first), or hand
the case off with the plan's state in the package. A step that is done is never run again, also after a
restart: what is done is read from the Desk, and the step's key would make the system replay its first
result anyway.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from base.errors import ApprovalError
from base.sqlite import open_db
from copilot.action_policy import Plan, PlanStep
from copilot.actions.approvals import Action, Desk, RecordResult
from copilot.actions.credentials import Approver
from copilot.actions.desk import fresh_verdict, read_as_call
from copilot.actions.judge import EXPRESSION_FAILURES, Judge
from copilot.actions.proposals import Proposal, situation_of
from copilot.conversation.state import Conversation

PlanState = Literal[
    "offered", "running", "paused", "stopped", "done", "compensating", "undo_stopped", "compensated", "handed_off",
    "dismissed",
]  # fmt: skip
"""``offered`` (nothing ran) → ``running`` → ``done``, or ``paused`` (step by step, or waiting for a second
approver), or ``stopped`` (a step failed, or the app closed while it ran); from there ``compensating`` →
``compensated`` (or ``undo_stopped``), or ``handed_off``; ``dismissed`` before anything ran."""
Mode = Literal["", "plan", "step"]
"""How the rep approved: the whole plan, or one step at a time ('' before any approval)."""
UNDO = "undo:"
"""Prefix of a compensation's slot among a plan's attempts (``undo:credit``)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS plans (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL,
    plan TEXT NOT NULL,
    intent TEXT NOT NULL,
    citations TEXT NOT NULL,
    state TEXT NOT NULL,
    mode TEXT NOT NULL,
    attempts TEXT NOT NULL,
    message TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS plans_by_conversation ON plans(conversation_id);
"""


class _Unfilled(Exception):
    """A step whose arguments cannot be worked out from what the conversation and the steps before it hold."""


def _key(*parts: str) -> str:
    return hashlib.sha256(json.dumps(parts, separators=(",", ":")).encode()).hexdigest()[:20]


def plan_instance_id(conversation_id: str, plan_id: str) -> str:
    """One instance of a plan per conversation: offering it again finds the same one."""
    return _key("plan", conversation_id, plan_id)


def step_action_id(instance_id: str, slot: str, attempt: int) -> str:
    """The Desk action (and so the idempotency key) of one attempt of a step or of its compensation."""
    return _key(instance_id, slot, str(attempt))


@dataclass(frozen=True)
class StepView:
    """One step of a plan instance as it stands: the action of its newest attempt and of its compensation."""

    step: PlanStep
    action: Action | None = None
    undo: Action | None = None
    attempts: int = 0

    @property
    def done(self) -> bool:
        return self.action is not None and self.action.state == "done"

    @property
    def undone(self) -> bool:
        return self.undo is not None and self.undo.state == "done"


@dataclass(frozen=True)
class PlanRun:
    """One instance of a plan in one conversation."""

    id: str
    conversation_id: str
    plan: Plan
    intent: str
    citations: tuple[str, ...]
    state: PlanState
    mode: Mode
    steps: tuple[StepView, ...]
    message: str = ""

    @property
    def next(self) -> StepView | None:
        """The first step not done yet (None: every step is)."""
        return next((s for s in self.steps if not s.done), None)

    @property
    def compensable(self) -> list[StepView]:
        """The steps done that have a compensating call not run yet, newest first."""
        return [s for s in self.steps[::-1] if s.done and s.step.compensate is not None and not s.undone]

    @property
    def waiting_for_second(self) -> bool:
        step = self.next
        return step is not None and step.action is not None and step.action.state == "awaiting_second"

    @property
    def choices(self) -> tuple[str, ...]:
        """What the rep may ask for now: ``approve`` (the rest of the plan), ``step`` (the next step only),
        ``second`` (a lead approves the step waiting for one), ``retry`` (the step that stopped it; after a
        restart, the plan where it was), ``compensate``, ``handoff``, ``dismiss``."""
        undo = ("compensate",) if self.compensable else ()
        if self.state == "offered":
            return ("approve", "step", "dismiss")
        if self.state == "paused":
            return ("second", *undo, "handoff") if self.waiting_for_second else ("approve", "step", *undo, "handoff")
        if self.state == "stopped":
            return ("retry", *undo, "handoff")
        if self.state == "undo_stopped":
            return (*undo, "handoff")
        return ()

    def record(self) -> dict[str, Any]:
        """The plan's state as the handoff package carries it."""
        return {
            "plan": self.plan.title,
            "id": self.id,
            "state": self.state,
            "message": self.message,
            "citations": list(self.citations),
            "steps": [
                {
                    "step": s.step.id,
                    "label": s.step.label or s.step.tool.replace("_", " "),
                    "tool": s.step.tool,
                    "state": step_state(s),
                    "arguments": s.action.proposal.arguments if s.action else {},
                    "outcome": step_outcome(s.action),
                    "compensation": s.undo.message if s.undo else "",
                }
                for s in self.steps
            ],
        }


def step_outcome(action: Action | None) -> str:
    """What became of a step's (or a compensation's) action, in the system's or the guardrail's words."""
    if action is None:
        return ""
    if not action.message and action.state == "proposed" and action.proposal.verdict.kind == "blocked":
        return action.proposal.verdict.reason
    return action.message


def step_state(view: StepView) -> str:
    """A step's state in words: ``pending``, the state of its newest attempt, or ``compensated``."""
    if view.undone:
        return "compensated"
    if view.undo is not None:
        return f"done; compensation {view.undo.state.replace('_', ' ')}"
    if view.action is None:
        return "pending"
    blocked = view.action.state == "proposed" and view.action.proposal.verdict.kind == "blocked"
    return "blocked" if blocked else view.action.state.replace("_", " ")


class PlanRunner:
    """Offers a conversation's plans and runs their steps through the Desk when the rep asks; one per Desk."""

    def __init__(self, desk: Desk, changed: Callable[[str], None] = lambda _: None) -> None:
        """``changed`` hears the conversation id of a plan whose state or step changed (as it runs)."""
        self.desk = desk
        self._changed = changed
        self._db = open_db(desk.path, _SCHEMA)
        self._lock = threading.Lock()
        self._busy: set[str] = set()
        """Instances running in this process (one left ``running`` in the database died with an earlier one)."""

    def close(self) -> None:
        self._db.close()

    # Records

    def runs(self, conversation_id: str) -> list[PlanRun]:
        with self._lock:
            ids = [
                r[0]
                for r in self._db.execute(
                    "SELECT id FROM plans WHERE conversation_id = ? ORDER BY rowid", (conversation_id,)
                ).fetchall()
            ]
        return [run for i in ids if (run := self.get(i)) is not None]

    def get(self, run_id: str) -> PlanRun | None:
        with self._lock:
            row = self._db.execute(
                "SELECT conversation_id, plan, intent, citations, state, mode, attempts, message "
                "FROM plans WHERE id = ?",
                (run_id,),
            ).fetchone()
        if row is None:
            return None
        plan = Plan.model_validate_json(row[1])
        attempts: dict[str, list[str]] = json.loads(row[6])
        state: PlanState = row[4]
        message: str = row[7]
        if state in ("running", "compensating") and run_id not in self._busy:
            state = "stopped" if state == "running" else "undo_stopped"
            message = (
                "Interrupted: the app closed while the plan ran. Go on where it stopped; steps done are not run again."
            )
        steps = tuple(
            StepView(
                step,
                self._newest(attempts.get(step.id, [])),
                self._newest(attempts.get(UNDO + step.id, [])),
                len(attempts.get(step.id, [])),
            )
            for step in plan.step
        )
        return PlanRun(run_id, row[0], plan, row[2], tuple(json.loads(row[3])), state, row[5], steps, message)

    def plan_actions(self, conversation_id: str) -> set[str]:
        """The ids of the Desk actions that are steps (or compensations) of this conversation's plans."""
        with self._lock:
            rows = self._db.execute(
                "SELECT attempts FROM plans WHERE conversation_id = ?", (conversation_id,)
            ).fetchall()
        return {action for (attempts,) in rows for ids in json.loads(attempts).values() for action in ids}

    def _newest(self, ids: list[str]) -> Action | None:
        return self.desk.get(ids[-1]) if ids else None

    def _required(self, run_id: str) -> PlanRun:
        run = self.get(run_id)
        if run is None:
            raise ApprovalError(f"No plan {run_id} here; it may belong to another conversation")
        return run

    def _save(self, run_id: str, **fields: str) -> PlanRun:
        assignments = ", ".join(f"{name} = ?" for name in fields)
        with self._lock:
            self._db.execute(
                f"UPDATE plans SET {assignments}, updated_at = ? WHERE id = ?",
                (*fields.values(), datetime.now(UTC).isoformat(timespec="seconds"), run_id),
            )
        run = self._required(run_id)
        self._changed(run.conversation_id)
        return run

    def _attempted(self, run_id: str, slot: str, action_id: str) -> None:
        attempts = self._attempts(run_id)  # one runner per desk and one request per plan at a time
        attempts[slot] = [*attempts.get(slot, []), action_id]
        with self._lock:
            self._db.execute("UPDATE plans SET attempts = ? WHERE id = ?", (json.dumps(attempts), run_id))

    def _log(self, run: PlanRun, kind: str, actor: str, result: dict[str, Any]) -> None:
        self.desk.audit.append(
            actor=actor,
            conversation_id=run.conversation_id,
            kind=kind,
            action_id=run.id,
            tool=f"plan:{run.plan.id}",
            arguments={"steps": [s.step.id for s in run.steps]},
            result=result,
            citations=run.citations,
        )

    # Offers

    def offer(
        self,
        conversation: Conversation,
        intents: Collection[str],
        escalations: Collection[str],
        citations: Mapping[str, str],
    ) -> list[PlanRun]:
        """Offer the plans of the policy in force that a shown path's intent or a detected escalation calls for
        and whose ``offer`` holds (each once per conversation, audited once); the conversation's plans."""
        policy = self.desk.policy
        for plan in policy.actions.plan:
            intent = next((i for i in plan.intents if i in intents), "")
            if not intent and not set(plan.escalations) & set(escalations):
                continue
            if plan.offer:
                judge = Judge(policy, situation_of(conversation, policy, self.desk.role))
                context = {"intent": intent, "why": plan.title, "source": "plan"}
                try:
                    if judge.evaluate(plan.offer, {**judge.variables(None, {}, {}, context), "steps": {}}) is not True:
                        continue
                except EXPRESSION_FAILURES:
                    continue
            run_id = plan_instance_id(conversation.id, plan.id)
            cites = [citations.get(clause, clause) for clause in plan.clauses]
            with self._lock:
                added = self._db.execute(
                    "INSERT OR IGNORE INTO plans VALUES (?, ?, ?, ?, ?, 'offered', '', '{}', '', ?)",
                    (
                        run_id,
                        conversation.id,
                        plan.model_dump_json(),
                        intent,
                        json.dumps(cites),
                        datetime.now(UTC).isoformat(timespec="seconds"),
                    ),
                ).rowcount
            if added:
                self._log(self._required(run_id), "proposed", "copilot", {"plan": plan.title})
        return self.runs(conversation.id)

    # What the rep asks for

    async def approve(
        self,
        run_id: str,
        conversation: Conversation,
        record: RecordResult = lambda *_: None,
        *,
        whole: bool | None = True,
        approver: Approver | None = None,
    ) -> PlanRun:
        """Run the rest of the plan (``whole``) or only its next step (None: as the rep approved it before), each
        step approved by ``approver`` (this desk's person unless given: a lead's approval goes to the step
        waiting for one)."""
        run = self._startable(run_id, ("offered", "paused", "stopped"))
        mode: Mode = (run.mode or "step") if whole is None else "plan" if whole else "step"
        who = approver or self.desk.person
        self._log(run, "approved", who.name, {"mode": mode, "role": who.role, "authenticated": who.method})
        return await self._forward(run, conversation, record, mode, approver)

    async def retry(self, run_id: str, conversation: Conversation, record: RecordResult = lambda *_: None) -> PlanRun:
        """Try the step that stopped the plan again (a refused one as a new attempt, one never delivered with the
        same key, one of unknown outcome once the system has been read), then go on as the rep approved."""
        run = self._startable(run_id, ("stopped",))
        step = run.next
        self._log(run, "approved", self.desk.actor, {"retry": step.step.id if step else ""})
        return await self._forward(run, conversation, record, run.mode or "step", None)

    async def compensate(
        self, run_id: str, conversation: Conversation, record: RecordResult = lambda *_: None
    ) -> PlanRun:
        """Run the compensating call of every step done, newest first (each through the Desk); a failed one stops
        there, and asking again goes on from it."""
        run = self._startable(run_id, ("paused", "stopped", "undo_stopped"))
        self._log(run, "approved", self.desk.actor, {"compensate": [s.step.id for s in run.compensable]})
        self._busy.add(run.id)
        try:
            self._save(run.id, state="compensating", message="")
            for view in run.compensable:
                action, problem = await self._call(run, view.step, conversation, record, undo=True)
                if action is None or action.state != "done":
                    why = problem or (action.message if action else "") or "it did not run"
                    return self._save(run.id, state="undo_stopped", message=f"{_undo_label(view.step)}: {why}")
            undone = ", ".join(s.step.label or s.step.id for s in run.compensable)
            return self._save(run.id, state="compensated", message=f"Undone, newest first: {undone}.")
        finally:
            self._busy.discard(run.id)

    def hand_off(self, run_id: str) -> PlanRun:
        """Stop the plan where it is for a colleague to take over; its state goes into the handoff package."""
        run = self._startable(run_id, ("offered", "paused", "stopped", "undo_stopped"))
        done = sum(1 for s in run.steps if s.done)
        run = self._save(
            run.id,
            state="handed_off",
            message=f"Handed off with {done} of {len(run.steps)} steps done. {run.message}".strip(),
        )
        self._log(run, "rejected", self.desk.actor, {"handed_off": True, "plan": run.record()})
        return run

    def dismiss(self, run_id: str) -> PlanRun:
        """Set aside a plan nothing of which ran."""
        run = self._startable(run_id, ("offered",))
        run = self._save(run.id, state="dismissed", message="Dismissed.")
        self._log(run, "rejected", self.desk.actor, {"dismissed": True})
        return run

    def _startable(self, run_id: str, states: tuple[PlanState, ...]) -> PlanRun:
        run = self._required(run_id)
        if run.id in self._busy:
            raise ApprovalError(f"The plan “{run.plan.title}” is running; wait for it to stop")
        if run.state not in states:
            raise ApprovalError(
                f"The plan “{run.plan.title}” is {run.state.replace('_', ' ')}; that cannot be done now"
            )
        return run

    # Running

    async def _forward(
        self, run: PlanRun, conversation: Conversation, record: RecordResult, mode: Mode, approver: Approver | None
    ) -> PlanRun:
        self._busy.add(run.id)
        try:
            self._save(run.id, state="running", mode=mode, message="")
            while (view := self._required(run.id).next) is not None:
                action, problem = await self._call(run, view.step, conversation, record, approver)
                approver = None  # a lead's approval is for the step that waited for it
                number = run.plan.step.index(view.step) + 1
                if action is None or action.state != "done":
                    return self._stopped(run.id, number, action, problem)
                if mode == "step" and self._required(run.id).next is not None:
                    return self._save(run.id, state="paused", message=f"Step {number} done; approve the next one.")
            return self._save(run.id, state="done", message="Every step is done.")
        finally:
            self._busy.discard(run.id)

    def _stopped(self, run_id: str, number: int, action: Action | None, problem: str) -> PlanRun:
        """Where a step that did not get done leaves the plan: waiting for an approval, or stopped."""
        if action is not None and (
            action.state == "awaiting_second"
            or (action.state == "proposed" and action.proposal.verdict.kind == "needs_approval")
        ):
            role = action.proposal.verdict.approver_role or "lead"
            return self._save(run_id, state="paused", message=f"Step {number} waits for a {role}'s approval.")
        if action is None:
            why = problem
        elif action.state == "proposed":
            why = action.proposal.verdict.reason
        else:
            why = action.message or action.state
        return self._save(run_id, state="stopped", message=f"Step {number} did not run: {why}")

    async def _call(
        self,
        run: PlanRun,
        step: PlanStep,
        conversation: Conversation,
        record: RecordResult,
        approver: Approver | None = None,
        *,
        undo: bool = False,
    ) -> tuple[Action | None, str]:
        """Get one step (or compensation) done through the Desk: its action as it ended, or None and the reason
        when its arguments cannot be worked out. A done attempt is never run again; one never delivered runs
        again with its key; one of unknown outcome is settled by reading the system; a refused or blocked one
        is followed by a new attempt (a refusal changed nothing, so a new key is safe)."""
        slot = UNDO + step.id if undo else step.id
        ids = self._attempts(run.id).get(slot, [])
        current = self.desk.get(ids[-1]) if ids else None
        if current is not None and current.state in ("running", "unknown"):  # died with the app, or a lost reply
            current = await self.desk.reconcile(current.id, record)
        if current is not None and current.state in ("done", "unknown"):
            return current, ""
        if current is not None and current.state == "awaiting_second" and approver is None:
            return current, ""
        renewed = (
            current is None
            or current.state in ("failed", "rejected")
            or (current.state == "proposed" and current.proposal.verdict.kind == "blocked")
        )
        if renewed:
            try:
                proposal = await self._proposal(run, step, undo, len(ids) + 1, conversation, record)
            except _Unfilled as exc:
                return None, str(exc)
            self.desk.offer((proposal,))
            self._attempted(run.id, slot, proposal.id)
            current = self.desk.get(proposal.id)
            assert current is not None  # just offered
            if current.proposal.verdict.kind == "blocked":
                return current, ""
        assert current is not None  # an earlier attempt, or the one just offered
        if current.state in ("proposed", "awaiting_second"):
            current = self.desk.approve(current.id, approver)
        if current.runnable:
            self._changed(run.conversation_id)  # approved, about to run
            current = await self.desk.execute(current.id, conversation, record)
        return current, ""

    def _attempts(self, run_id: str) -> dict[str, list[str]]:
        """Slot (a step's id, or ``undo:`` and its id) → the ids of its attempts' actions, oldest first."""
        with self._lock:
            row = self._db.execute("SELECT attempts FROM plans WHERE id = ?", (run_id,)).fetchone()
        attempts: dict[str, list[str]] = json.loads(row[0])
        return attempts

    async def _proposal(
        self, run: PlanRun, step: PlanStep, undo: bool, attempt: int, conversation: Conversation, record: RecordResult
    ) -> Proposal:
        """The Desk's proposal for one attempt: arguments from the plan's expressions on what the conversation and
        the steps done hold, judged on records read fresh."""
        tool, expressions = (
            (step.compensate.tool, step.compensate.arguments)
            if undo and step.compensate
            else (
                step.tool,
                step.arguments,
            )
        )
        policy = self.desk.policy
        judge = Judge(policy, situation_of(conversation, policy, self.desk.role))
        number = run.plan.step.index(step) + 1
        why = f"{run.plan.title}: {'undo of ' if undo else ''}step {number} of {len(run.plan.step)}"
        variables = judge.variables(None, {}, {}, {"intent": run.intent, "why": why, "source": "plan"})
        variables["steps"] = {
            s.step.id: {"args": s.action.proposal.arguments, "result": s.action.result or {}}
            for s in self._required(run.id).steps
            if s.done and s.action is not None
        }
        arguments: dict[str, Any] = {}
        for name, expression in expressions.items():
            try:
                value = judge.evaluate(expression, variables)
            except EXPRESSION_FAILURES as exc:
                detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise _Unfilled(f"its argument {name} cannot be worked out ({detail})") from None
            if value is not None and value != "":
                arguments[name] = value
        verdict = (
            await fresh_verdict(
                judge, self.desk.systems, tool, arguments, read_as_call(record), intent=run.intent, why=why
            )
        ).verdict
        label = _undo_label(step) if undo else judge.render(step.label, {**variables, "args": arguments})
        return Proposal(
            step_action_id(run.id, UNDO + step.id if undo else step.id, attempt),
            conversation.id,
            tool,
            arguments,
            why,
            run.citations,
            verdict,
            run.intent,
            "" if undo or step.compensate is None else step.compensate.tool,
            "",
            label,
        )


def _undo_label(step: PlanStep) -> str:
    return f"Undo: {step.label or step.tool.replace('_', ' ')}"
