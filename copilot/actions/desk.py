"""Actions as a pack describes them, on any connected system, with every record read fresh: identify the
customer, judge a proposed call by the pack's guardrails, and run it. The benchmark drives this desk;
the panel's approvals (``approvals.Desk``) read fresh records the same way right before a run.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from base.errors import ConnectorError
from connectors.systems import Systems
from copilot.action_policy import ActionPolicy, RecordKind
from copilot.actions.judge import (
    Judge,
    Judged,
    Lookup,
    Missing,
    RecordSource,
    Situation,
    Unreadable,
    customer_named,
    records_of,
)
from copilot.actions.verdict import Verdict


class ActionDesk:
    """The lookups, proposals and runs of one conversation, under one pack's action policy."""

    def __init__(self, policy: ActionPolicy, systems: Systems, situation: Situation | None = None) -> None:
        self.policy = policy
        self.systems = systems
        self.situation = situation or Situation()
        self.judge_of = Judge(policy, self.situation)

    async def identify(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Run the pack's identifying tool for these fields; its answer names the customer from now on."""
        how = self.policy.identifying(fields)
        if how is None:
            raise ConnectorError(
                f"no identifying tool of systems.toml takes {', '.join(sorted(fields)) or 'these fields'}; "
                "add an [[identify]] entry for them"
            )
        arguments = {name: fields[name] for name in how.by}
        self.situation.stated += [str(value) for value in arguments.values()]
        answer = await self.systems.call(how.tool, arguments)
        self.record(how.tool, arguments, answer, read_only=True)
        return answer

    async def judge(self, tool: str, arguments: Mapping[str, Any], **context: str) -> Judged:
        """The verdict for calling ``tool(arguments)`` now, on records read fresh from the systems."""
        return await fresh_verdict(self.judge_of, self.systems, tool, arguments, None, **context)

    async def run(self, tool: str, arguments: Mapping[str, Any]) -> tuple[Verdict, dict[str, Any] | None]:
        """Judge again and, unless blocked, call the tool; a write goes into the conversation's history,
        a record read into what it has seen. A ``needs_approval`` verdict runs only for a situation whose
        role is the approver's."""
        verdict = (await self.judge(tool, arguments)).verdict
        if verdict.kind == "blocked" or (
            verdict.kind == "needs_approval" and verdict.approver_role != self.situation.role
        ):
            return verdict, None
        result = await self.systems.call(tool, dict(arguments))
        info = await self.systems.info(tool)
        self.record(tool, arguments, result, read_only=info is not None and info.read_only)
        return verdict, result

    def record(self, tool: str, arguments: Mapping[str, Any], result: dict[str, Any], *, read_only: bool) -> None:
        """Keep what a call that ran means for the conversation: a write in the history, a record read
        among those seen, an identifying answer as the customer."""
        for kind in (k for k in self.policy.systems.record if k.tool == tool):
            try:
                found = records_of(kind, result, {name: arguments.get(name) for name in kind.arguments})
            except Unreadable:
                continue
            self.situation.seen.setdefault(kind.name, []).extend(found)
        if not read_only:
            self.situation.history.append({"name": tool, "args": dict(arguments), "result": result})
        if (how := self.policy.identifying(arguments, tool)) is not None:
            self.situation.customer = result
            self.situation.customer_id = customer_named(how, result, arguments) or ""


T = TypeVar("T")
OnRead = Callable[[RecordKind, dict[str, Any], dict[str, Any]], None]
"""Receives each record read fresh (kind, the lookup's arguments, answer), e.g. to add it to the conversation."""


def read_as_call(record: Callable[[str, dict[str, Any], dict[str, Any]], None]) -> OnRead:
    """A record read fresh, passed on as the lookup call that read it (tool, arguments, result), so that it
    joins the conversation like any other lookup."""
    return lambda kind, arguments, found: record(kind.tool, arguments, found)


async def fresh(systems: Systems, attempt: Callable[[RecordSource], T], on_read: OnRead | None = None) -> T:
    """``attempt`` with every record it needs read from the systems now (never from memory): each record it
    misses is looked up with its kind's tool and the attempt made again; one call answers every kind that
    shares its tool and arguments. A failed lookup raises ConnectorError."""
    read: dict[tuple[str, str], dict[str, Any]] = {}

    def call(kind: RecordKind, arguments: Mapping[str, Any]) -> tuple[str, str]:
        return kind.tool, json.dumps(arguments, sort_keys=True, default=str)

    def source(kind: RecordKind, lookup: Lookup) -> dict[str, Any] | None:
        return read.get(call(kind, kind.call(lookup)))

    while True:
        try:
            return attempt(source)
        except Missing as missing:
            kind, arguments = missing.kind, missing.arguments
            answer = await systems.call(kind.tool, dict(arguments))
            read[call(kind, arguments)] = answer
            if on_read is not None:
                on_read(kind, dict(arguments), answer)


async def fresh_verdict(
    judge: Judge,
    systems: Systems,
    tool: str,
    arguments: Mapping[str, Any],
    on_read: OnRead | None = None,
    **context: str,
) -> Judged:
    """The judge's verdict on records read fresh; a lookup that fails blocks, naming it."""
    info = await systems.info(tool)
    try:
        return await fresh(systems, lambda source: judge.verdict(tool, arguments, info, source, **context), on_read)
    except ConnectorError as exc:
        return Judged(Verdict("blocked", f"A lookup for {tool.replace('_', ' ')} failed: {exc}", "lookup"))
