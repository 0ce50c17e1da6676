"""`copilot eval actions`: how often a pack's guardrails let valid actions run and stop invalid ones, on a
real server started fresh for every case.

Nothing here knows a company: the pack says how to identify a customer and look records up, the
server command says how to start the system on a fresh copy of its data (``{state}``: a new empty
folder; ``{task}``: the case's task id), and the tasks file gives each task's ground-truth actions
(``evaluation_criteria.actions``), which run first through the same desk the rep's proposals use.
The case format is in docs/eval.md.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from base.errors import ConnectorError, LineError
from base.jsonl import read_jsonl
from connectors.config import SystemConfig
from connectors.systems import Systems, open_system
from copilot.action_policy import ActionPolicy
from copilot.actions.desk import ActionDesk
from copilot.actions.judge import Situation

Expected = Literal["allow", "block"]
GROUND_TRUTH = "ground-truth"
"""The rule label the tasks' own writes are counted under."""
PARALLEL = 2
"""Cases run at once (each with its own server process)."""


@dataclass(frozen=True)
class ActionCase:
    id: str
    task: str | None
    identity: dict[str, Any] | None
    name: str
    arguments: dict[str, Any]
    expected: Expected
    rule: str = ""
    gt_prefix: int | None = None


@dataclass
class Tally:
    allowed: int = 0
    valid: int = 0
    blocked: int = 0
    invalid: int = 0

    def as_json(self) -> dict[str, float | int | None]:
        return {
            "valid": self.valid,
            "valid_allowed": round(self.allowed / self.valid, 3) if self.valid else None,
            "invalid": self.invalid,
            "invalid_blocked": round(self.blocked / self.invalid, 3) if self.invalid else None,
        }


@dataclass
class ActionScores:
    total: Tally = field(default_factory=Tally)
    by_rule: dict[str, Tally] = field(default_factory=dict)
    mistakes: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        overall = self.total.as_json()
        return {
            "valid_allowed": overall["valid_allowed"],
            "invalid_blocked": overall["invalid_blocked"],
            "valid": self.total.valid,
            "invalid": self.total.invalid,
            "by_rule": {rule: tally.as_json() for rule, tally in sorted(self.by_rule.items())},
            "mistakes": self.mistakes,
        }

    def count(self, rule: str, expected: Expected, verdict_kind: str) -> bool:
        """Count one verdict; whether it was right (an ``error``, a case that could not be judged, never is)."""
        right = verdict_kind != "error" and (verdict_kind != "blocked") == (expected == "allow")
        for tally in (self.total, self.by_rule.setdefault(rule or "(none)", Tally())):
            if expected == "allow":
                tally.valid += 1
                tally.allowed += right
            else:
                tally.invalid += 1
                tally.blocked += right
        return right


def read_cases(path: Path) -> list[ActionCase]:
    """The labelled action cases of a JSONL file; a LineError names the line and the field."""
    cases: list[ActionCase] = []
    for line in read_jsonl(path):
        value = line.value
        action = value.get("action")
        if not isinstance(action, dict) or not isinstance(action.get("name"), str):
            raise line.error("needs {'name': tool, 'arguments': {...}}", "action")
        if value.get("expected") not in ("allow", "block"):
            raise line.error("must be 'allow' or 'block'", "expected")
        identity = value.get("identity")
        if identity is not None and not isinstance(identity, dict):
            raise line.error("must be an object of identifying fields, or null", "identity")
        prefix = value.get("gt_prefix")
        if prefix is not None and (not isinstance(prefix, int) or prefix < 0):
            raise line.error("must be a whole number of ground-truth actions", "gt_prefix")
        task = value.get("task")
        cases.append(
            ActionCase(
                str(value.get("id", f"line {line.number}")),
                None if task is None else str(task),
                identity,
                action["name"],
                dict(action.get("arguments") or {}),
                value["expected"],
                str(value.get("rule") or ""),
                prefix,
            )
        )
    return cases


def read_tasks(path: Path) -> dict[str, list[dict[str, Any]]]:
    """Task id → its ground-truth actions (``{"name", "arguments"}``), from a tasks JSON list."""
    try:
        tasks = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise LineError(str(path), 0, "file", f"cannot be read as JSON ({exc})") from None
    if not isinstance(tasks, list):
        raise LineError(str(path), 0, "file", "must be a JSON list of tasks")
    found: dict[str, list[dict[str, Any]]] = {}
    for task in tasks:
        criteria = (task.get("evaluation_criteria") or {}) if isinstance(task, dict) else {}
        actions = criteria.get("actions") or []
        found[str(task.get("id"))] = [
            {"name": a["name"], "arguments": dict(a.get("arguments") or {})}
            for a in actions
            if isinstance(a, dict) and isinstance(a.get("name"), str)
        ]
    return found


async def evaluate_actions(
    policy: ActionPolicy,
    server: str,
    tasks: Mapping[str, Sequence[dict[str, Any]]],
    cases: Sequence[ActionCase],
    progress: Callable[[int, int], None] | None = None,
) -> ActionScores:
    """Run every case on a fresh server; ground-truth writes count as valid actions."""
    scores = ActionScores()
    gate = asyncio.Semaphore(PARALLEL)
    done = 0

    async def one(case: ActionCase) -> None:
        nonlocal done
        async with gate:
            await _run_case(policy, server, tasks, case, scores)
        done += 1
        if progress:
            progress(done, len(cases))

    await asyncio.gather(*(one(case) for case in cases))
    return scores


async def _run_case(
    policy: ActionPolicy,
    server: str,
    tasks: Mapping[str, Sequence[dict[str, Any]]],
    case: ActionCase,
    scores: ActionScores,
) -> None:
    with tempfile.TemporaryDirectory(prefix="copilot-eval-actions-") as state:
        command = tuple(
            part.replace("{state}", state).replace("{task}", case.task or "") for part in shlex.split(server)
        )
        systems = Systems([open_system(SystemConfig(name="eval", transport="stdio", command=command, timeout_s=60))])
        desk = ActionDesk(policy, systems, Situation(assume_confirmed=True))
        try:
            published = await systems.tools()
            if case.identity:
                await desk.identify(case.identity)
            truth = list(tasks.get(case.task or "", ()))
            for action in truth[: case.gt_prefix] if case.gt_prefix is not None else truth:
                await _ground_truth(desk, systems, published, action, case, scores)
            verdict = (await desk.judge(case.name, case.arguments)).verdict
        except ConnectorError as exc:
            scores.count(case.rule, case.expected, "error")
            scores.mistakes.append({"id": case.id, "expected": case.expected, "got": "error", "why": str(exc)})
            return
        finally:
            await systems.aclose()
    if not scores.count(case.rule, case.expected, verdict.kind):
        scores.mistakes.append(
            {
                "id": case.id,
                "expected": case.expected,
                "got": verdict.kind,
                "why": f"{verdict.rule}: {verdict.reason}" if verdict.rule else "no rule stopped it",
            }
        )


async def _ground_truth(
    desk: ActionDesk,
    systems: Systems,
    published: Mapping[str, object],
    action: dict[str, Any],
    case: ActionCase,
    scores: ActionScores,
) -> None:
    """Run one ground-truth action through the desk. A write is a valid action: the guardrails must let
    it through (a needed approval counts as granted); one they stop is a mistake, and runs anyway so the
    case still starts from the task's situation."""
    name, arguments = action["name"], action["arguments"]
    if name not in published:  # a step outside the system (the customer's own device): skipped
        return
    info = await systems.info(name)
    if info is None or info.read_only:
        await desk.run(name, arguments)
        return
    verdict = (await desk.judge(name, arguments)).verdict
    if not scores.count(GROUND_TRUTH, "allow", verdict.kind):
        scores.mistakes.append(
            {
                "id": f"{case.id} (ground truth {name})",
                "expected": "allow",
                "got": verdict.kind,
                "why": f"{verdict.rule}: {verdict.reason}",
            }
        )
    desk.record(name, arguments, await systems.call(name, dict(arguments)), read_only=False)
