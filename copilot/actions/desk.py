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


def customer_named(how: Identify, answer: Mapping[str, Any], arguments: Mapping[str, Any]) -> str | None:
    """The customer id an identifying answer names: its ``customer_id`` path; else a bare id (plain text, or
    a tool's single structured value); else the identifying field as the answer echoes it, or as asked."""
    found = path_value(answer, how.customer_id) if how.customer_id else None
    if found is None and len(answer) == 1 and isinstance(only := next(iter(answer.values())), str):
        found = only.strip()
    if found is None:
        found = answer.get(how.by[0], arguments.get(how.by[0]))
    return None if found is None else str(found)


@dataclass
class Situation:
    """What the guardrails know of one conversation: who is identified, and the writes that ran."""

    customer: dict[str, Any] | None = None
    """The identifying tool's answer about the customer; None until someone is identified."""
    customer_id: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)
    """``{"name", "args", "result"}`` of every write that ran in this conversation, oldest first."""
    seen: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Record kind → the records read in this conversation, oldest first (the facts the rep confirmed)."""
    stated: list[str] = field(default_factory=list)
    """What the customer wrote: identifying values must come from here, not from a guess or another record."""
    role: str = "rep"


@dataclass(frozen=True)
class Judged:
    """A verdict, and the records it was judged on (kind → record)."""

    verdict: Verdict
    records: dict[str, Any] = field(default_factory=dict)
    """Kind → the record fetched (or the list of records, for a list of ids)."""


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
        self.situation.stated += [str(value) for value in arguments.values()]
        answer = await self.systems.call(how.tool, arguments)
        self.record(how.tool, arguments, answer, read_only=True)
        return answer

    def _identified(self, how: Identify, arguments: Mapping[str, Any], answer: dict[str, Any]) -> None:
        self.situation.customer = answer
        self.situation.customer_id = customer_named(how, answer, arguments) or ""

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
        """Judge again and, unless blocked, call the tool; a write goes into the conversation's history,
        a record read into what it has seen. A ``needs_approval`` verdict runs only for a situation whose
        role is the approver's."""
        judged = await self.judge(tool, arguments)
        verdict = judged.verdict
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
        kind = next((k for k in self.policy.systems.record if k.tool == tool), None)
        if kind is not None:
            self.situation.seen.setdefault(kind.name, []).append(result)
        if not read_only:
            self.situation.history.append({"name": tool, "args": dict(arguments), "result": result})
        if (how := self.policy.identifying(arguments, tool)) is not None:
            self._identified(how, arguments, result)

    async def _judge_read(self, tool: str, arguments: Mapping[str, Any]) -> Judged:
        """Reads change nothing, but they may reveal a customer's data: identifying a customer takes the
        values the customer stated, and once someone is identified nobody else is; a private record is
        read only for its identified owner."""
        if (how := self.policy.identifying(arguments, tool)) is not None:
            return Judged(self._may_identify(tool, how, arguments))
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

    def _may_identify(self, tool: str, how: Identify, arguments: Mapping[str, Any]) -> Verdict:
        situation = self.situation
        values = [str(arguments[name]) for name in how.by]
        if situation.customer_id and situation.customer_id not in values and not set(values) <= set(situation.stated):
            return Verdict(
                "blocked",
                f"{tool}: another customer than the one identified in this conversation.",
                "ownership",
                self.policy.actions.ownership_clause,
            )
        said = " ".join(situation.stated).casefold()
        if not all(value.casefold() in said for value in values):
            return Verdict(
                "blocked",
                f"{tool}: the customer has not given {', '.join(how.by)} themselves; ask them for it.",
                "identity",
                self.policy.actions.identity_clause,
            )
        return ALLOWED

    async def _judge_write(self, policy: ToolPolicy, arguments: Mapping[str, Any]) -> Judged:
        records: dict[str, Any] = {}
        for name, expression in policy.records.items():  # in file order: an id may come from a record before
            kind = self.policy.kinds[name]
            try:
                key = self._evaluate(expression, self._variables(policy.name, arguments, records))
            except (KeyError, IndexError, ValueError, RuntimeError, TypeError):
                key = None
            keys = key if isinstance(key, list) else [key]
            if not keys or not all(isinstance(k, str | int) and k != "" for k in keys):
                return Judged(
                    Verdict(
                        "blocked",
                        f"{policy.name} needs the {name} it acts on: find its {kind.key} and look it up "
                        f"with {kind.tool}.",
                        "record-known",
                    )
                )
            fetched: list[dict[str, Any]] = []
            for one in keys:
                try:
                    fetched.append(await self.systems.call(kind.tool, {kind.key: one}))
                except ConnectorError as exc:
                    return Judged(
                        Verdict("blocked", f"Looking up {name} {one} with {kind.tool} failed: {exc}", "lookup")
                    )
                if owned := self._owned(kind, fetched[-1]):
                    return Judged(owned, records)
            # A list of ids gives a list of records (``customer.reservations``), one id one record.
            records[name] = fetched if isinstance(key, list) else fetched[0]
        variables = self._variables(policy.name, arguments, records)
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

    def _variables(self, tool: str, arguments: Mapping[str, Any], records: Mapping[str, Any]) -> dict[str, Any]:
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
            "seen": {kind: list(situation.seen.get(kind, [])) for kind in self.policy.kinds},
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
