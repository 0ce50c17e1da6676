"""Actions as a pack describes them, on any connected system: identify the customer, look records up,
judge a proposed call by the pack's guardrails, and run it.

The verdict is worked out in a fixed order, so a rep (and the benchmark) can tell why: the tool must
exist and its arguments match its JSON schema; a write needs the customer identified; the records the
tool's rules read are fetched fresh by the pack's lookups and must belong to that customer; then every
rule of the tool, each naming its clause. A run judges again, on fresh records, right before the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from base.errors import ConnectorError
from connectors.systems import Systems, ToolInfo
from copilot.action_policy import ActionPolicy, Identify, RecordKind, ToolPolicy
from copilot.actions.guardrails import ALLOWED, Verdict, VerdictKind


def path_value(record: Mapping[str, Any], path: str) -> Any:
    """The value at a dotted path of a JSON record (``name.first``, ``items.0.id``); None if absent."""
    value: Any = record
    for part in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


@dataclass
class Situation:
    """What the guardrails know of one conversation: who is identified, and the writes that ran."""

    customer: dict[str, Any] | None = None
    """The identifying tool's answer about the customer; None until someone is identified."""
    customer_id: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)
    """``{"name", "args", "result"}`` of every write that ran in this conversation, oldest first."""
    role: str = "rep"


@dataclass(frozen=True)
class Judged:
    """A verdict, and the records it was judged on (kind → record)."""

    verdict: Verdict
    records: dict[str, dict[str, Any]] = field(default_factory=dict)


class ActionDesk:
    """The lookups, proposals and runs of one conversation, under one pack's action policy."""

    def __init__(self, policy: ActionPolicy, systems: Systems, situation: Situation | None = None) -> None:
        self.policy = policy
        self.systems = systems
        self.situation = situation or Situation()

    async def identify(self, fields: Mapping[str, Any]) -> dict[str, Any]:
        """Run the pack's identifying tool for these fields; its answer names the customer from now on."""
        how = self.policy.identifying(fields)
        if how is None:
            raise ConnectorError(
                f"no identifying tool of systems.toml takes {', '.join(sorted(fields)) or 'these fields'}; "
                "add an [[identify]] entry for them"
            )
        arguments = {name: fields[name] for name in how.by}
        answer = await self.systems.call(how.tool, arguments)
        self._identified(how, arguments, answer)
        return answer

    def _identified(self, how: Identify, arguments: Mapping[str, Any], answer: dict[str, Any]) -> None:
        """The customer an identifying answer names: its ``customer_id`` path; else a plain-text answer
        (a bare id); else the first identifying value."""
        found = path_value(answer, how.customer_id) if how.customer_id else None
        if found is None and set(answer) == {"text"}:
            found = str(answer["text"]).strip()
        self.situation.customer = answer
        self.situation.customer_id = str(found if found is not None else arguments[how.by[0]])

    async def judge(self, tool: str, arguments: Mapping[str, Any]) -> Judged:
        """The verdict for calling ``tool(arguments)`` now (records fetched fresh)."""
        info = await self.systems.info(tool)
        if info is None:
            return Judged(Verdict("blocked", f"No connected system offers {tool}.", "tool-exists"))
        if problem := _schema_problem(info, arguments):
            return Judged(Verdict("blocked", f"{tool}: {problem}", "arguments-schema"))
        if info.read_only:
            return await self._judge_read(tool, arguments)
        policy = self.policy.tools.get(tool)
        if policy is None:
            kind: VerdictKind = "blocked" if self.policy.actions.unlisted == "block" else "needs_approval"
            return Judged(
                Verdict(
                    kind, f"No guardrail of the pack describes {tool}; an admin adds it to actions.toml.", "unlisted"
                )
            )
        if policy.identity and not self.situation.customer_id:
            return Judged(self._unidentified(tool))
        return await self._judge_write(policy, arguments)

    async def run(self, tool: str, arguments: Mapping[str, Any]) -> tuple[Verdict, dict[str, Any] | None]:
        """Judge again and, unless blocked, call the tool; a write goes into the conversation's history.
        A ``needs_approval`` verdict runs only for a situation whose role is the approver's."""
        judged = await self.judge(tool, arguments)
        verdict = judged.verdict
        if verdict.kind == "blocked" or (
            verdict.kind == "needs_approval" and verdict.approver_role != self.situation.role
        ):
            return verdict, None
        result = await self.systems.call(tool, dict(arguments))
        info = await self.systems.info(tool)
        if info is not None and not info.read_only:
            self.situation.history.append({"name": tool, "args": dict(arguments), "result": result})
        elif (how := self._identifying_tool(tool, arguments)) is not None:
            self._identified(how, arguments, result)
        return verdict, result

    def _identifying_tool(self, tool: str, arguments: Mapping[str, Any]) -> Identify | None:
        """How ``tool`` identifies the customer, when it does so by these arguments."""
        return next((i for i in self.policy.systems.identify if i.tool == tool and set(i.by) <= set(arguments)), None)

    async def _judge_read(self, tool: str, arguments: Mapping[str, Any]) -> Judged:
        """Reads change nothing, but a private record is read only for its identified owner."""
        if self._identifying_tool(tool, arguments) is not None:
            return Judged(ALLOWED)
        kind = next((k for k in self.policy.systems.record if k.tool == tool and k.owner), None)
        if kind is None:
            return Judged(ALLOWED)
        if not self.situation.customer_id:
            return Judged(self._unidentified(tool))
        try:
            record = await self.systems.call(tool, dict(arguments))
        except ConnectorError as exc:
            return Judged(Verdict("blocked", f"{tool} failed: {exc}", "lookup"))
        return Judged(self._owned(kind, record) or ALLOWED, {kind.name: record})

    async def _judge_write(self, policy: ToolPolicy, arguments: Mapping[str, Any]) -> Judged:
        variables = self._variables(policy.name, arguments, {})
        records: dict[str, dict[str, Any]] = {}
        for name, expression in policy.records.items():
            kind = self.policy.kinds[name]
            key = self._evaluate(expression, variables)
            if not isinstance(key, str | int) or key == "":
                return Judged(
                    Verdict(
                        "blocked",
                        f"{policy.name} needs the {name} it acts on: find its {kind.key} and look it up "
                        f"with {kind.tool}.",
                        "record-known",
                    )
                )
            try:
                records[name] = await self.systems.call(kind.tool, {kind.key: key})
            except ConnectorError as exc:
                return Judged(Verdict("blocked", f"Looking up {name} {key} with {kind.tool} failed: {exc}", "lookup"))
            if owned := self._owned(kind, records[name]):
                return Judged(owned, records)
        variables = self._variables(policy.name, arguments, records)
        waiting: Verdict | None = None
        for rule in policy.rule:
            try:
                applies = not rule.when or self._evaluate(rule.when, variables) is True
                holds = not applies or self._evaluate(rule.require, variables) is True
            except (KeyError, IndexError, ValueError, RuntimeError, TypeError) as exc:
                return Judged(
                    Verdict(
                        "blocked",
                        f"{rule.message} (the rule could not be checked: {_missing(exc)})",
                        rule.id,
                        rule.clause,
                    ),
                    records,
                )
            if holds:
                continue
            if rule.effect == "block":
                return Judged(Verdict("blocked", rule.message, rule.id, rule.clause), records)
            if waiting is None and self.situation.role != rule.approver:
                waiting = Verdict("needs_approval", rule.message, rule.id, rule.clause, rule.approver)
        return Judged(waiting or ALLOWED, records)

    def _unidentified(self, tool: str) -> Verdict:
        ways = " or ".join(f"{i.tool}({', '.join(i.by)})" for i in self.policy.systems.identify) or "the pack's lookups"
        return Verdict(
            "blocked",
            f"Identify the customer before {tool}: look them up with {ways}.",
            "identity",
            self.policy.actions.identity_clause,
        )

    def _owned(self, kind: RecordKind, record: Mapping[str, Any]) -> Verdict | None:
        """A blocking verdict if the record belongs to someone other than the identified customer."""
        if not kind.owner:
            return None
        owner = path_value(record, kind.owner)
        if owner is not None and str(owner) == self.situation.customer_id:
            return None
        return Verdict(
            "blocked",
            f"This {kind.name} belongs to another customer than the one identified in this conversation.",
            "ownership",
            self.policy.actions.ownership_clause,
        )

    def _variables(
        self, tool: str, arguments: Mapping[str, Any], records: Mapping[str, dict[str, Any]]
    ) -> dict[str, Any]:
        situation = self.situation
        customer = dict(situation.customer or {})
        if situation.customer_id:
            customer.setdefault("id", situation.customer_id)
        return {
            "args": dict(arguments),
            "records": dict(records),
            "customer": customer,
            "identified": bool(situation.customer_id),
            "history": list(situation.history),
            "role": situation.role,
            "now": self.policy.clock(),
            "tool": tool,
        }

    def _evaluate(self, expression: str, variables: Mapping[str, Any]) -> Any:
        return self.policy.program(expression).execute(self.policy.context(variables))


def _schema_problem(info: ToolInfo, arguments: Mapping[str, Any]) -> str:
    """The first way the arguments break the tool's JSON schema, in words ('' when they fit)."""
    if not info.schema:
        return ""
    validator = jsonschema.Draft202012Validator(info.schema)
    error = next(iter(sorted(validator.iter_errors(dict(arguments)), key=lambda e: list(e.path))), None)
    if error is None:
        return ""
    where = ".".join(str(p) for p in error.absolute_path)
    return f"argument {where or '(top level)'}: {error.message}"


def _missing(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"no '{exc.args[0]}' in the data"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
