"""The plan runner with the demo pack's disputed-charge plan against the real demo store (an MCP server over
stdio): a full run whose results feed the next steps, a step the card processor refuses then retried, the
steps done compensated newest first, a plan resumed by a new desk in a new server process without
repeating a step, and the pack errors a bad ``[[plan]]`` gets at load."""

from __future__ import annotations

import asyncio
import sqlite3
import sys
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

from base.errors import PackError
from connectors.config import SystemConfig
from connectors.demo_store.store import DemoStore
from connectors.mcp_client import McpSystem
from connectors.systems import Systems
from copilot.action_policy import parse_action_policy
from copilot.actions.approvals import Desk
from copilot.actions.audit import AuditLog
from copilot.actions.plans import PlanRun, PlanRunner
from copilot.conversation.state import Conversation, Turn
from copilot.handoff import Handoff
from tests.conftest import DEMO_POLICY

ORDER = "NW-13408"  # the double-charge demo: a voided hold and a captured charge of 212.40 USD
STEPS = ["payments", "credit", "dispute", "confirm", "followup"]
CONVERSATION = Conversation(
    "double-charge",
    jurisdiction="US-NY",
    turns=(
        Turn(1, "customer", f"I was charged twice, two charges of $212.40 for {ORDER}", datetime(2026, 11, 20, 10)),
    ),
)
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class Rig:
    """A desk and its plan runner on a data folder, talking to the demo store started as its own process."""

    def __init__(self, folder: Path) -> None:
        command = (sys.executable, "-m", "connectors.demo_store.server", "--db", str(folder / "store.sqlite3"))
        self.systems = Systems(
            [McpSystem(SystemConfig(name="store", transport="stdio", command=command, timeout_s=30))]
        )
        self.audit = AuditLog(folder / "audit.sqlite3")
        self.desk = Desk(folder / "actions.sqlite3", self.audit, self.systems, "ana", "rep", DEMO_POLICY)
        self.plans = PlanRunner(self.desk)
        self.recorded: list[str] = []

    def record(self, tool: str, arguments: dict[str, Any], result: dict[str, Any]) -> None:
        self.recorded.append(tool)

    def offered(self) -> PlanRun:
        (plan,) = self.plans.offer(CONVERSATION, {"double_charge"}, set(), {})
        return plan

    async def close(self) -> None:
        await self.systems.aclose()
        self.plans.close()
        self.desk.close()


@asynccontextmanager
async def rig(folder: Path) -> AsyncIterator[Rig]:
    opened = Rig(folder)
    try:
        yield opened
    finally:
        await opened.close()


def store_of(folder: Path, change: Callable[[DemoStore], None] | None = None) -> DemoStore:
    """The demo store's file, opened here (seeded on first open); ``change`` sets it up before a server starts."""
    store = DemoStore(folder / "store.sqlite3")
    if change is not None:
        change(store)
    return store


def no_processor_outage(store: DemoStore) -> None:
    store.refuse_next("file_dispute", "order_id", ORDER, 0, "")


def effects(folder: Path) -> dict[str, int]:
    store = store_of(folder)
    try:
        return {tool: store.count_effects(tool) for tool in _WRITES if store.count_effects(tool)}
    finally:
        store.close()


_WRITES = (
    "issue_provisional_credit",
    "reverse_provisional_credit",
    "file_dispute",
    "withdraw_dispute",
    "send_confirmation",
    "schedule_followup",
    "cancel_followup",
)


def states(plan: PlanRun) -> list[str]:
    return [s.action.state if s.action else "pending" for s in plan.steps]


def test_the_whole_plan_runs_each_step_fed_by_the_ones_before(tmp_path: Path) -> None:
    store_of(tmp_path, no_processor_outage).close()

    async def scenario() -> tuple[PlanRun, dict[str, Any]]:
        async with rig(tmp_path) as r:
            plan = r.offered()
            assert plan.state == "offered" and plan.choices == ("approve", "step", "dismiss")
            assert [p.id for p in r.plans.offer(CONVERSATION, {"double_charge"}, set(), {})] == [plan.id]
            done = await r.plans.approve(plan.id, CONVERSATION, r.record)
            dispute = done.steps[2].action
            assert dispute is not None
            again = dict(dispute.proposal.arguments, idempotency_key=dispute.proposal.idempotency_key)
            return done, await r.systems.call("file_dispute", again)

    done, replayed = run(scenario())
    assert done.state == "done" and states(done) == ["done"] * 5, done.message
    payments, credit, dispute, confirm, followup = (s.action for s in done.steps)
    assert payments and credit and dispute and confirm and followup
    assert payments.result and payments.result["duplicates"] == [dispute.proposal.arguments["payment_id"]]
    assert credit.proposal.arguments == {
        "order_id": ORDER,
        "amount": 212.4,
        "reason": f"While the duplicate payment {dispute.proposal.arguments['payment_id']} is disputed",
    }
    assert dispute.result and dispute.result["processor_reference"] in confirm.proposal.arguments["body"]
    assert credit.result and credit.result["credit_id"] in followup.proposal.arguments["note"]
    assert followup.proposal.arguments["due_date"] == "2026-11-27", "a week after the conversation"
    assert replayed["replayed"] is True, "the step's key replays the first result"
    assert effects(tmp_path) == {
        "issue_provisional_credit": 1,
        "file_dispute": 1,
        "send_confirmation": 1,
        "schedule_followup": 1,
    }, "each write once, the replayed call included"
    store = store_of(tmp_path)
    assert store.call("get_customer", {"customer_id": "C-1008"})["store_credit"] == 212.4
    store.close()
    audit = AuditLog(tmp_path / "audit.sqlite3")
    assert [r.kind for r in audit.records(done.id)] == ["proposed", "approved"]
    assert [r.kind for r in audit.records(credit.id)] == ["proposed", "approved", "executing", "executed"]
    assert audit.verify() == []


def test_a_refused_step_stops_the_plan_and_a_retry_goes_on(tmp_path: Path) -> None:
    """The seeded card processor refuses the first dispute filing for the demo order. A second conversation's
    plan about the same order stops at the credit the first one gave (a rule of the pack), and is handed off."""
    other = replace(CONVERSATION, id="double-charge-again")

    async def scenario() -> tuple[PlanRun, PlanRun, PlanRun]:
        async with rig(tmp_path) as r:
            stopped = await r.plans.approve(r.offered().id, CONVERSATION, r.record)
            (second,) = r.plans.offer(other, {"double_charge"}, set(), {})
            second = await r.plans.approve(second.id, other, r.record)
            return stopped, r.plans.hand_off(second.id), await r.plans.retry(stopped.id, CONVERSATION, r.record)

    stopped, handed, retried = run(scenario())
    assert stopped.state == "stopped" and states(stopped) == ["done", "done", "failed", "pending", "pending"]
    assert "Step 3 did not run" in stopped.message and "card processor did not accept" in stopped.message
    assert stopped.choices == ("retry", "compensate", "handoff")
    assert retried.state == "done", retried.message
    first, second = stopped.steps[2].action, retried.steps[2].action
    assert first and second and first.id != second.id and retried.steps[2].attempts == 2
    assert effects(tmp_path) == {
        "issue_provisional_credit": 1,
        "file_dispute": 1,
        "send_confirmation": 1,
        "schedule_followup": 1,
    }, "the steps before the refused one are not run again"
    assert handed.state == "handed_off" and not handed.choices
    package = handed.record()
    assert [s["state"] for s in package["steps"]] == ["done", "blocked", "pending", "pending", "pending"]
    assert "already has a provisional credit" in handed.message
    assert list(AuditLog(tmp_path / "audit.sqlite3").records(handed.id))[-1].result["handed_off"] is True
    markdown = Handoff("", {"score": 0.0, "trend": "steady"}, [], [], [], [], "", [package]).markdown("Two charges")
    assert "**Plan: Dispute the duplicate charge** (handed off)" in markdown
    assert "2. Provisional credit for the duplicate: blocked (Order NW-13408 already has a provisional" in markdown


def test_compensation_undoes_the_steps_done_newest_first(tmp_path: Path) -> None:
    def outage(store: DemoStore) -> None:
        no_processor_outage(store)
        store.refuse_next("schedule_followup", "customer_id", "C-1008", 1, "The reminders service is down.")

    store_of(tmp_path, outage).close()

    async def scenario() -> tuple[PlanRun, PlanRun]:
        async with rig(tmp_path) as r:
            stopped = await r.plans.approve(r.offered().id, CONVERSATION, r.record)
            return stopped, await r.plans.compensate(stopped.id, CONVERSATION, r.record)

    stopped, undone = run(scenario())
    assert states(stopped) == ["done", "done", "done", "done", "failed"]
    assert [s.step.id for s in stopped.compensable] == ["dispute", "credit"], "the e-mail cannot be unsent"
    assert undone.state == "compensated" and not undone.choices, undone.message
    assert [s.undone for s in undone.steps] == [False, True, True, False, False]
    with sqlite3.connect(tmp_path / "store.sqlite3") as db:
        order = [tool for (tool,) in db.execute("SELECT tool FROM effects ORDER BY id")]
        credit = db.execute("SELECT status FROM provisional_credits").fetchone()[0]
        dispute = db.execute("SELECT status FROM disputes").fetchone()[0]
    assert order[-2:] == ["withdraw_dispute", "reverse_provisional_credit"]
    assert (credit, dispute) == ("reversed", "withdrawn")
    store = store_of(tmp_path)
    assert store.call("get_customer", {"customer_id": "C-1008"})["store_credit"] == 0.0
    store.close()


def test_a_plan_resumes_in_a_new_desk_and_server_without_repeating_a_step(tmp_path: Path) -> None:
    store_of(tmp_path, no_processor_outage).close()

    async def before_restart() -> PlanRun:
        async with rig(tmp_path) as r:
            plan = r.offered()
            await r.plans.approve(plan.id, CONVERSATION, r.record, whole=False)
            return await r.plans.approve(plan.id, CONVERSATION, r.record, whole=False)

    paused = run(before_restart())
    assert paused.state == "paused" and states(paused) == ["done", "done", "pending", "pending", "pending"]
    assert paused.choices == ("approve", "step", "compensate", "handoff")
    with sqlite3.connect(tmp_path / "actions.sqlite3") as db:  # as a process killed while the plan ran leaves it
        db.execute("UPDATE plans SET state = 'running', mode = 'plan'")

    async def after_restart() -> tuple[PlanRun, PlanRun]:
        async with rig(tmp_path) as r:
            (interrupted,) = r.plans.runs(CONVERSATION.id)
            return interrupted, await r.plans.retry(interrupted.id, CONVERSATION, r.record)

    interrupted, resumed = run(after_restart())
    assert interrupted.state == "stopped" and interrupted.message.startswith("Interrupted")
    assert resumed.state == "done", resumed.message
    assert [s.attempts for s in resumed.steps] == [1] * 5
    assert effects(tmp_path)["issue_provisional_credit"] == 1, "the credit given before the restart is not given again"


_SYSTEMS = '[[record]]\nname = "order"\ntool = "get_order"\nkey = "order_id"\n'
_TOOLS = '[[tool]]\nname = "refund_payment"\n\n[[tool]]\nname = "reverse_refund"\n'


@pytest.mark.parametrize(
    ("plan", "problem"),
    [
        (
            'id = "p"\ntitle = "P"\n[[plan.step]]\nid = "a"\ntool = "get_order"\n',
            "demo/actions.toml:8: plan p is offered by nothing. Fix: add intents",
        ),
        (
            'id = "p"\ntitle = "P"\nintents = ["x"]\n[[plan.step]]\nid = "a"\ntool = "get_order"\n'
            'arguments = { order_id = "steps.b.result.order_id" }\n'
            '[[plan.step]]\nid = "b"\ntool = "get_order"\n',
            "demo/actions.toml:14: plan p, step a: arguments.order_id reads steps.b, which runs later",
        ),
        (
            'id = "p"\ntitle = "P"\nintents = ["x"]\n[[plan.step]]\nid = "a"\ntool = "refund_money"\n',
            "demo/actions.toml:12: plan p, step a: tool 'refund_money' is not described by this pack",
        ),
        (
            'id = "p"\ntitle = "P"\nintents = ["x"]\n[[plan.step]]\nid = "a"\ntool = "refund_payment"\n'
            'compensate = { tool = "reverse_refund", arguments = { refund_id = "steps.a.result.nope(" } }\n',
            "demo/actions.toml:14: rule p.a.compensate.arguments.refund_id: cannot parse",
        ),
        (
            'id = "p"\ntitle = "P"\nintents = ["x"]\nclauses = ["no.such"]\n'
            '[[plan.step]]\nid = "a"\ntool = "get_order"\n',
            "demo/actions.toml:11: plan p cites clause 'no.such', which the pack does not have",
        ),
    ],
    ids=["offered-by-nothing", "reads-a-later-step", "unknown-tool", "bad-expression", "unknown-clause"],
)
def test_a_bad_plan_is_refused_at_load_naming_file_line_and_fix(plan: str, problem: str) -> None:
    files = {"systems.toml": _SYSTEMS, "actions.toml": _TOOLS + "\n[[plan]]\n" + plan}
    with pytest.raises(PackError) as refused:
        parse_action_policy(files, {"refunds.partial"}, "demo")
    assert problem in str(refused.value)
