"""The verdict on one call of a company's tool, worked out from the pack's action policy and the records
it reads. Nothing here waits on a system: records come from a ``RecordSource``, and a record nobody has
read yet raises ``Missing``, so the caller decides whether to look it up (the desk, right before a run
or for the benchmark) or to tell the rep which lookup is missing (a proposal made from the chat).

The order is fixed, so a rep can tell why: the tool must exist and its arguments fit its JSON schema; a
write needs the customer identified; the records its rules read must belong to that customer; then
every rule of the tool, each naming its clause.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

import cel
import jsonschema

from connectors.contract import ToolInfo
from copilot.action_policy import ActionPolicy, Identify, RecordKind, ToolPolicy, template_parts
from copilot.actions.verdict import ALLOWED, Verdict, VerdictKind

Key = str | int
Lookup = Key | Mapping[str, Key]
"""What names a record: its id, or for a kind with several ``keys`` the map of them (``flight_number``, ``date``)."""
RecordSource = Callable[[RecordKind, Lookup], dict[str, Any] | None]
"""The answer of the kind's tool for this lookup, as last read; None when nobody has read it."""
_YES = re.compile(
    r"^\W*(?:yes|yeah|yep|yup|sure|ok(?:ay)?|correct|confirm(?:ed)?|go ahead|please do|do it|that'?s right|s[ií]|vale|"
    r"claro|oui|d'accord|ja|genau|einverstanden)\b",
    re.IGNORECASE,
)
"""An explicit yes at the start of a reply, in the languages the copilot drafts in."""
_NO = re.compile(r"\b(?:don'?t|do not|wait|hold on|stop|not yet)\b", re.IGNORECASE)
"""A yes taken back in the same reply ("ok, but wait")."""
EXPRESSION_FAILURES = (KeyError, IndexError, ValueError, RuntimeError, TypeError)
"""What evaluating an expression on data that lacks a field raises (the ``cel`` interpreter's errors)."""


class Missing(Exception):
    """A record the verdict needs that has not been read."""

    def __init__(self, kind: RecordKind, lookup: Lookup) -> None:
        self.kind = kind
        self.lookup = lookup
        self.arguments = kind.call(lookup)
        """The arguments of the kind's tool that read it."""
        self.key: Key = lookup if not isinstance(lookup, Mapping) else " ".join(map(str, self.arguments.values()))
        """Its id; for a kind with several keys, their values as a rep reads them (``HAT001 2024-05-14``)."""
        super().__init__(f"{kind.name} {self.key}")


class Unreadable(Exception):
    """An answer that holds no list where its kind's ``items`` say the records are."""


def records_of(kind: RecordKind, answer: Mapping[str, Any], arguments: Mapping[str, Any]) -> list[Any]:
    """The records an answer of the kind's tool holds (the answer itself, or the items of its ``items`` list),
    each holding the lookup's ``arguments`` where it has no value of its own (a search's date, a status's
    flight number). Raises Unreadable when ``items`` names no list in the answer."""
    found = path_value(answer, kind.items) if kind.items else [answer]
    if found is None and kind.items and isinstance(answer.get("value"), list):
        found = answer["value"]  # a bare list answer (recorded as it was sent) is the list of items
    if not isinstance(found, list):
        raise Unreadable(f"the answer of {kind.tool} has no list at '{kind.items}' (items of [[record]] {kind.name})")
    return [
        {**item, **{name: value for name, value in arguments.items() if value is not None and item.get(name) is None}}
        if isinstance(item, Mapping)
        else item
        for item in found
    ]


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
    """What the guardrails know of one conversation: who is identified, what was read and what ran."""

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
    attested: bool = False
    """The rep wrote that they verified the customer's identity (security questions outside any system)."""
    facts: dict[str, str] = field(default_factory=dict)
    intent: str = ""
    jurisdiction: str = ""
    conversation_id: str = ""
    turns: list[tuple[str, str]] = field(default_factory=list)
    """(role, text) of the conversation's messages, oldest first: what ``confirmed`` reads."""
    assume_confirmed: bool = False
    """Take every change as stated and confirmed (the benchmark judges actions without a conversation)."""
    at: datetime | None = None
    """When the conversation happens (its newest message); ``now`` for the rules unless the pack fixes it."""
    parties: frozenset[str] = frozenset()
    """The accounts of third parties the case names whose account it is about (a late mother's), found by a
    lookup: their records may be acted on besides the identified customer's."""

    @property
    def identified(self) -> bool:
        return bool(self.customer_id) or self.attested


@dataclass(frozen=True)
class Judged:
    """A verdict, and the records it was judged on (kind → record)."""

    verdict: Verdict
    records: dict[str, Any] = field(default_factory=dict)
    """Kind → the record read (or the list of records, for a list of ids)."""


class Judge:
    """Verdicts and proposed arguments for one conversation's situation under one pack's policy."""

    def __init__(self, policy: ActionPolicy, situation: Situation) -> None:
        self.policy = policy
        self.situation = situation

    def verdict(
        self, tool: str, arguments: Mapping[str, Any], info: ToolInfo | None, source: RecordSource, **context: str
    ) -> Judged:
        """The verdict for calling ``tool(arguments)``; raises Missing for a record not read yet.
        ``context`` holds ``intent``, ``why`` and ``queue`` when the call answers a path or an escalation."""
        if info is None:
            return Judged(Verdict("blocked", f"No connected system offers {tool}.", "tool-exists"))
        if problem := schema_problem(info, arguments):
            return Judged(Verdict("blocked", f"{tool}: {problem}", "arguments-schema"))
        if info.read_only:
            return self._read(tool, arguments, source)
        policy = self.policy.tools.get(tool)
        if policy is None:
            kind: VerdictKind = "blocked" if self.policy.actions.unlisted == "block" else "needs_approval"
            return Judged(
                Verdict(
                    kind, f"No guardrail of the pack describes {tool}; an admin adds it to actions.toml.", "unlisted"
                )
            )
        if policy.identity and not self.situation.identified:
            return Judged(self.unidentified(tool))
        records, owned = self.records(policy, policy.records, arguments, source)
        if owned is not None:
            return Judged(owned, records)
        variables = self.variables(policy, arguments, records, context)
        bound = self.bound(variables)
        waiting: Verdict | None = None
        for rule in policy.rule:
            try:
                applies = not rule.when or self.evaluate(rule.when, bound) is True
                holds = not applies or self.evaluate(rule.require, bound) is True
            except EXPRESSION_FAILURES as exc:
                reason = f"{self.render(rule.message, variables)} (the rule could not be checked: {_missing(exc)})"
                return Judged(Verdict("blocked", reason, rule.id, rule.clause), records)
            if holds:
                continue
            message = self.render(rule.message, variables)
            if rule.effect == "block":
                return Judged(Verdict("blocked", message, rule.id, rule.clause), records)
            if waiting is None and self.situation.role != rule.approver:
                waiting = Verdict("needs_approval", message, rule.id, rule.clause, rule.approver)
        return Judged(waiting or ALLOWED, records)

    def records(
        self, policy: ToolPolicy, wanted: Mapping[str, str], arguments: Mapping[str, Any], source: RecordSource
    ) -> tuple[dict[str, Any], Verdict | None]:
        """The records ``wanted`` names (kind → id expression), in file order (an id may come from a record
        before), and a blocking verdict if one belongs to another customer than the one identified."""
        records: dict[str, Any] = {}
        for name, expression in wanted.items():
            kind = self.policy.kinds[name]
            lookups = self._lookups(kind, expression, self.variables(policy, arguments, records, {}))
            if lookups is None:
                return records, Verdict(
                    "blocked",
                    f"{policy.name} needs the {name} it acts on: find its {' and '.join(kind.arguments)} and look "
                    f"it up with {kind.tool}.",
                    "record-known",
                )
            fetched: list[Any] = []
            for lookup in lookups[0]:
                try:
                    found = self._fetch(kind, lookup, source)
                except Unreadable as exc:
                    return records, Verdict("blocked", f"{exc}.", "lookup")
                for record in found:
                    if owned := self.owned(kind, record):
                        return records, owned
                fetched += found
            records[name] = fetched if lookups[1] else fetched[0]
        return records, None

    def _lookups(
        self, kind: RecordKind, expression: str, variables: Mapping[str, Any]
    ) -> tuple[list[Lookup], bool] | None:
        """What the expression names of ``kind``: ids, or maps of its keys (one, or a list); and whether the
        records make a list (a list was given, or the kind's records are a search's items). None if it names
        nothing usable (it fails, gives null or an empty id, or a map lacks a key)."""
        try:
            value = self.evaluate(expression, variables)
        except EXPRESSION_FAILURES:
            return None
        lookups: list[Lookup] = []
        for given in value if isinstance(value, list) else [value]:
            if isinstance(given, Mapping) and all(_usable(given.get(name)) for name in kind.arguments):
                lookups.append(kind.call(given) if kind.keys else given[kind.key])
            elif not kind.keys and _usable(given):
                lookups.append(given)
            else:
                return None
        return lookups, isinstance(value, list) or bool(kind.items)

    def _fetch(self, kind: RecordKind, lookup: Lookup, source: RecordSource) -> list[Any]:
        """The records one lookup gives (one, or a search's items); raises Missing when it was not read."""
        answer = source(kind, lookup)
        if answer is None:
            raise Missing(kind, lookup)
        return records_of(kind, answer, kind.call(lookup))

    def fill(
        self,
        policy: ToolPolicy,
        source: RecordSource,
        why: str = "",
        intent: str = "",
        queue: str = "",
        asked_by: str = "path",
    ) -> dict[str, Any] | None:
        """The arguments the pack says the copilot fills for ``policy``'s tool (one whose expression gives null
        or fails is left out), or None when ``offer`` does not hold: nothing is proposed then."""
        context = {"why": why, "intent": intent, "queue": queue, "source": asked_by}
        arguments: dict[str, Any] = {}
        for name, expression in policy.arguments.items():
            try:
                value = self.evaluate(expression, self.known(policy, arguments, source, context))
            except EXPRESSION_FAILURES:
                value = None
            if value is not None and value != "":  # nothing to give: left out (the schema says if it may be)
                arguments[name] = value
        if policy.offer:
            try:
                if self.evaluate(policy.offer, self.known(policy, arguments, source, context)) is not True:
                    return None
            except EXPRESSION_FAILURES:
                return None
        return arguments

    def known(
        self, policy: ToolPolicy, arguments: Mapping[str, Any], source: RecordSource, context: Mapping[str, str]
    ) -> dict[str, Any]:
        """The variables with the records that the arguments so far name and that were read."""
        records: dict[str, Any] = {}
        for name, expression in policy.records.items():
            kind = self.policy.kinds[name]
            lookups = self._lookups(kind, expression, self.variables(policy, arguments, records, context))
            if lookups is None:
                continue
            try:
                found = [record for lookup in lookups[0] for record in self._fetch(kind, lookup, source)]
            except (Missing, Unreadable):
                continue
            records[name] = found if lookups[1] else found[0]
        return self.variables(policy, arguments, records, context)

    def _read(self, tool: str, arguments: Mapping[str, Any], source: RecordSource) -> Judged:
        """Reads change nothing, but they may reveal a customer's data: identifying a customer takes the
        values the customer stated, and once someone is identified nobody else is; a private record is
        read only for its identified owner."""
        if (how := self.policy.identifying(arguments, tool)) is not None:
            return Judged(self._may_identify(tool, how, arguments))
        kind = next((k for k in self.policy.systems.record if k.tool == tool and k.owner), None)
        if kind is None or not all(name in arguments for name in kind.arguments):
            return Judged(ALLOWED)
        if not self.situation.identified:
            return Judged(self.unidentified(tool))
        try:
            found = self._fetch(kind, kind.call(arguments) if kind.keys else arguments[kind.key], source)
        except Unreadable as exc:
            return Judged(Verdict("blocked", f"{exc}.", "lookup"))
        owned = next((v for record in found if (v := self.owned(kind, record)) is not None), None)
        return Judged(owned or ALLOWED, {kind.name: found if kind.items else found[0]})

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

    def unidentified(self, tool: str) -> Verdict:
        ways = " or ".join(f"{i.tool}({', '.join(i.by)})" for i in self.policy.systems.identify)
        return Verdict(
            "blocked",
            f"Verify the customer's identity before {tool.replace('_', ' ')}"
            + (f": look them up with {ways}." if ways else "."),
            "identity",
            self.policy.actions.identity_clause,
        )

    def owned(self, kind: RecordKind, record: Mapping[str, Any]) -> Verdict | None:
        """A blocking verdict if the record belongs to someone other than the identified customer or a party
        the case is about."""
        if not kind.owner:
            return None
        if not self.situation.customer_id and not self.situation.parties:
            return Verdict(
                "blocked",
                f"Whose {kind.name} this is cannot be checked: identify the customer with a lookup first.",
                "ownership",
                self.policy.actions.ownership_clause,
            )
        owner = path_value(record, kind.owner)
        if owner is not None and str(owner) in {self.situation.customer_id, *self.situation.parties} - {""}:
            return None
        return Verdict(
            "blocked",
            f"This {kind.name} belongs to another customer than the one identified in this conversation.",
            "ownership",
            self.policy.actions.ownership_clause,
        )

    def variables(
        self,
        policy: ToolPolicy | None,
        arguments: Mapping[str, Any],
        records: Mapping[str, Any],
        context: Mapping[str, str],
        before: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """What a tool's expressions read (docs/policy-packs.md), its ``variables`` worked out in order; one
        that cannot be worked out on this data is left out (a rule reading it then says so)."""
        situation = self.situation
        customer = dict(situation.customer or {})
        if situation.customer_id:
            customer.setdefault("id", situation.customer_id)
        values: dict[str, Any] = {
            "args": dict(arguments),
            "records": dict(records),
            "customer": customer,
            "identified": situation.identified,
            "history": list(situation.history),
            "seen": {kind: list(situation.seen.get(kind, [])) for kind in self.policy.kinds},
            "role": situation.role,
            "now": self.policy.now(situation.at),
            "tool": policy.name if policy else "",
            "facts": dict(situation.facts),
            "intent": context.get("intent") or situation.intent,
            "jurisdiction": situation.jurisdiction,
            "why": context.get("why", ""),
            "queue": context.get("queue", ""),
            "source": context.get("source", ""),
            "conversation_id": situation.conversation_id,
            "before": dict(before or {}),
            "turns": [{"role": role, "text": text} for role, text in situation.turns],
            "variables": {},
        }
        bound = self.bound(values)  # one context for them all: converting records into CEL values is the cost
        for name, expression in (policy.variables if policy else {}).items():
            try:
                value = self.evaluate(expression, bound)
            except EXPRESSION_FAILURES:
                continue
            values["variables"] = {**values["variables"], name: value}
            bound.add_variable("variables", values["variables"])
        return values

    def evaluate(self, expression: str, variables: Mapping[str, Any] | cel.Context) -> Any:
        """The expression's value on these variables (or on a context ``bound`` to them, to evaluate several)."""
        context = variables if isinstance(variables, cel.Context) else self.bound(variables)
        return self.policy.program(expression).execute(context)

    def bound(self, variables: Mapping[str, Any]) -> cel.Context:
        """The CEL context of these variables, with the functions that read this conversation."""
        context = self.policy.context(variables)
        context.add_function("confirmed", self.confirmed)
        context.add_function("mentioned", self.mentioned)
        return context

    def confirmed(self, values: list[Any]) -> bool:
        """Whether a rep message stated every one of ``values`` and the customer's next message is an explicit
        yes (a customer who asked for the change does not count: the rep states it, the customer confirms)."""
        if self.situation.assume_confirmed:
            return True
        wanted = [str(v).casefold() for v in values if str(v)]
        turns = self.situation.turns
        for n, (role, text) in enumerate(turns):
            if role != "rep" or not all(v in text.casefold() for v in wanted):
                continue
            reply = next((t for r, t in turns[n + 1 :] if r == "customer"), None)
            if reply is not None and explicit_yes(reply):
                return True
        return False

    def mentioned(self, values: list[Any]) -> list[Any]:
        """Those of ``values`` the conversation's messages name, the one named last first (ties: the one that
        message names first, "upgrade ABC123, then cancel XYZ789"; then the later in the list): of several
        records, the one in question."""
        texts = [text for _, text in self.situation.turns]
        last = {
            n: max((i for i, t in enumerate(texts) if str(v) and str(v) in t), default=-1) for n, v in enumerate(values)
        }
        named = [n for n in last if last[n] >= 0]
        return [values[n] for n in sorted(named, key=lambda n: (-last[n], texts[last[n]].find(str(values[n])), -n))]

    def render(self, text: str, variables: Mapping[str, Any]) -> str:
        """A message or label with each ``{expression}`` part replaced by its value (``?`` if it has none)."""
        for part in template_parts(text):
            try:
                value = shown(self.evaluate(part, variables))
            except EXPRESSION_FAILURES:
                value = "?"
            text = text.replace("{" + part + "}", value, 1)
        return text


def explicit_yes(text: str) -> bool:
    """Whether a reply starts with an explicit yes that it does not take back."""
    return bool(_YES.search(text)) and not _NO.search(text)


def shown(value: Any) -> str:
    """A value as a rep reads it: ``86.5`` as ``86.50``, ``100.0`` as ``100``, a list joined with commas."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{Decimal(str(value)):.2f}"
    if isinstance(value, list):
        return ", ".join(shown(v) for v in value)
    return str(value)


def schema_problem(info: ToolInfo, arguments: Mapping[str, Any]) -> str:
    """The first way the arguments break the tool's JSON schema, in words ('' when they fit). The keys the
    desk adds itself at run time (idempotency key, dry run) are not the proposal's to give."""
    if not info.schema:
        return ""
    given = dict(arguments)
    if info.takes_idempotency_key:
        given.setdefault("idempotency_key", "copilot")
    validator = jsonschema.Draft202012Validator(info.schema)
    error = next(iter(sorted(validator.iter_errors(given), key=lambda e: list(e.path))), None)
    if error is None:
        return ""
    where = ".".join(str(p) for p in error.absolute_path)
    return f"argument {where or '(top level)'}: {error.message}"


def _usable(value: Any) -> bool:
    """Whether a value can name a record: a non-empty string or a whole number."""
    return isinstance(value, str | int) and not isinstance(value, bool) and value != ""


def _missing(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return f"no '{exc.args[0]}' in the data"
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
