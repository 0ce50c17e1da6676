"""A pack's action policy as validated data: how the company's systems are looked up (``systems.toml``)
and what each of its tools may do, under which rule (``actions.toml``).

Rules are CEL expressions (the language of Kubernetes admission policies and cloud IAM conditions),
compiled by the Rust ``cel`` interpreter when the pack loads: a syntax error or an unknown name is a
PackError naming the file, the line and the rule id, never a surprise at approval time. What each
expression may read is ``VARIABLES`` and ``FUNCTIONS``; docs/policy-packs.md documents both.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

import cel
from pydantic import BaseModel, ConfigDict, Field, field_validator

from base.errors import PackError
from copilot.reasoning.guidance import M, line_of, validated
from retrieval.catalog import Catalog
from retrieval.packs import Pack

VARIABLES = (
    "args",
    "records",
    "customer",
    "identified",
    "history",
    "seen",
    "role",
    "now",
    "tool",
    "facts",
    "intent",
    "jurisdiction",
    "why",
    "queue",
    "source",
    "conversation_id",
    "variables",
    "before",
    "turns",
)
"""The names a tool's expressions read (docs/policy-packs.md says what each holds)."""
LOOKUP_VARIABLES = ("facts", "customer_name")
"""The names a systems.toml lookup's expressions read."""


def _total(values: list[Any]) -> float:
    return float(sum(float(v) for v in values))


def _timestamp_parser(zone: timezone) -> Callable[[str], datetime]:
    def at(text: str) -> datetime:
        moment = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=zone)

    return at


def _max0(value: float) -> float:
    return max(value, 0)


def _round(value: float, digits: int) -> float:
    """Rounded half-up in decimal, as money is (``round(86.49999999999999, 2)`` is 86.5)."""
    return float(Decimal(str(value)).quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP))


def _range(count: int) -> list[int]:
    return list(range(int(count)))


def _flatten(lists: list[Any]) -> list[Any]:
    return [item for part in lists for item in (part if isinstance(part, list) else [part])]


def _days_between(zone: timezone) -> Callable[[datetime, datetime], int]:
    def days(start: datetime, end: datetime) -> int:
        return (end.astimezone(zone).date() - start.astimezone(zone).date()).days

    return days


def _nothing_confirmed(values: list[Any]) -> bool:
    """``confirmed`` where there is no conversation to read (a judge binds the real one)."""
    return False


def _nothing_mentioned(values: list[Any]) -> list[Any]:
    """``mentioned`` where there is no conversation to read (a judge binds the real one)."""
    return []


def _day_of(zone: timezone) -> Callable[[datetime], str]:
    def day(moment: datetime) -> str:
        return moment.astimezone(zone).date().isoformat()

    return day


FUNCTIONS: Mapping[str, str] = {
    "total": "total(list) → the sum of a list of numbers",
    "at": "at(string) → the timestamp of an ISO date or date-time (without a zone: the pack clock's zone)",
    "day": "day(timestamp) → its date as YYYY-MM-DD in the pack clock's zone (compares with ISO date strings)",
    "days": "days(from, to) → whole calendar days from one timestamp to another, in the pack clock's zone",
    "round": "round(number, digits) → the number rounded half-up to that many decimals (money: round(x, 2))",
    "confirmed": "confirmed(list) → whether a rep message stated every value of the list and the customer's next"
    " message said an explicit yes: confirmed([args.reservation_id])",
    "mentioned": "mentioned(list) → the values the conversation's messages name, the one named last first:"
    " mentioned(seen.reservation.map(r, r.reservation_id))",
    "max0": "max0(number) → the number, or 0 if it is negative",
    "range": "range(n) → [0, 1, …, n-1], to pair lists by position: range(size(a)).all(i, a[i] != b[i])",
    "flatten": "flatten(list) → a list of lists as one list: flatten(records.reservation.map(r, r.flights))",
}
"""Functions beyond CEL's standard ones, with what they do (documented in docs/policy-packs.md)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Identify(_Strict):
    """A read-only tool whose successful answer identifies the customer (identity verification)."""

    tool: str = Field(min_length=1)
    by: tuple[str, ...] = Field(min_length=1)
    """The identifying fields it takes as arguments, e.g. ``["user_id"]`` or ``["email"]``."""
    customer_id: str = ""
    """Dotted path in the answer holding the customer's id; empty: a plain-text answer, else the first ``by`` value."""


class RecordKind(_Strict):
    """A kind of record and the read-only tool that fetches it: by its id (``key``), or by several arguments
    (``keys``: a flight's status by number and date, the flights a search lists between two airports)."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    tool: str = Field(min_length=1)
    key: str = ""
    """The tool's argument that takes the id (one of ``key`` and ``keys`` is given)."""
    keys: tuple[str, ...] = ()
    """The tool's arguments, when it takes several (``["flight_number", "date"]``): a tool's ``records``
    expression then gives a map holding them (other fields are ignored), or a list of such maps."""
    items: str = ""
    """Dotted path of the list in the answer whose items are the records (a search's matches); empty: the
    answer is the record."""
    pattern: str = ""
    """A regular expression the company's ids of this kind match (``#W\\d{7}``): ids in the chat are found by it."""
    owner: str = ""
    """Dotted path in the record holding the id of the customer it belongs to; empty: it belongs to no one."""
    id: str = ""
    """Dotted path in the record holding its own id; empty: the same name as ``key``."""

    @property
    def id_path(self) -> str:
        return self.id or self.key

    @property
    def arguments(self) -> tuple[str, ...]:
        """The lookup tool's arguments that name one record."""
        return self.keys or (self.key,)

    def call(self, key: Any) -> dict[str, Any]:
        """The lookup tool's arguments for one record: ``{key: id}``, or the ``keys`` of a map."""
        if isinstance(key, Mapping):
            return {name: key[name] for name in self.arguments}
        return {self.key: key}

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a regular expression ({exc})") from None
        return value


class Transfer(_Strict):
    """The tool that hands the conversation to a human queue."""

    tool: str = Field(min_length=1)


class LookupPolicy(_Strict):
    """A read-only call made as soon as every argument is known from the conversation's facts."""

    tool: str = Field(min_length=1)
    arguments: dict[str, str] = Field(min_length=1)
    """Argument → the expression giving it (``facts.email``); no call while one of them has no value."""
    when: str = ""
    """The lookup is made only when this holds (empty: always), e.g. ``!has(facts.customer_id)``."""


class CustomerCard(_Strict):
    """What the panel's Customer section shows, from the newest answer of ``tools`` (a search answer counts
    when it holds exactly one match)."""

    tools: tuple[str, ...] = Field(min_length=1)
    title: tuple[str, ...] = ()
    """Dotted paths shown on the first line (name, id, email)."""
    items: str = ""
    """Dotted path of a list shown under it (the customer's orders, reservations)."""
    item: tuple[str, ...] = ()
    """Dotted paths shown for each item (empty: the item itself, for a list of ids)."""
    id: str = ""
    """Dotted path of the customer's own id in the answer (``customer_id``): who an action's account belongs
    to; empty: the identifying tool's ``customer_id`` for its answers, else the first ``title`` path that
    ends in ``id``."""
    name: tuple[str, ...] = ()
    """Dotted paths of the account holder's name (``name.first_name``, ``name.last_name``), compared with the
    name of the person writing; empty: the ``title`` paths whose last part holds ``name``."""

    @property
    def id_path(self) -> str:
        return self.id or next((p for p in self.title if p.rsplit(".", 1)[-1].endswith("id")), "")

    @property
    def name_paths(self) -> tuple[str, ...]:
        return self.name or tuple(p for p in self.title if "name" in p.rsplit(".", 1)[-1])


class SystemsFile(_Strict):
    identify: tuple[Identify, ...] = ()
    record: tuple[RecordKind, ...] = ()
    lookup: tuple[LookupPolicy, ...] = ()
    transfer: Transfer | None = None
    customer: CustomerCard | None = None


class Rule(_Strict):
    """One guardrail: ``require`` must hold (when ``when`` does), or the action is blocked or needs approval."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    require: str = Field(min_length=1)
    message: str = Field(min_length=1)
    """What the rep reads when the rule stops the action, in plain words."""
    clause: str = ""
    when: str = ""
    """The rule applies only when this holds (empty: always)."""
    effect: Literal["block", "approval"] = "block"
    approver: str = "lead"
    """For ``approval``: the role whose second approval lets the action run."""
    waits: bool = False
    """The rule stops the action only until something happens in the conversation (the customer's yes), not
    because it is against policy: a proposal it stops is still shown when ``offer_blocked`` is false."""


class ToolPolicy(_Strict):
    name: str = Field(min_length=1)
    records: dict[str, str] = {}
    """Record kind (of systems.toml) → the expression giving its id, e.g. ``reservation = "args.reservation_id"``
    (a map of its ``keys`` for a kind looked up by several; a list fetches each, an empty list none). Each is
    fetched fresh before the rules run (at proposal and again right before execution)."""
    identity: bool = True
    """Whether the customer must be identified first."""
    variables: dict[str, str] = {}
    """Name → expression, read by later expressions as ``variables.NAME`` (each may use those before it)."""
    rule: tuple[Rule, ...] = ()
    arguments: dict[str, str] = {}
    """Argument → the expression that fills it when the copilot proposes the tool by itself, in order (an
    argument's record is looked up once the arguments before it name it). Without it the copilot fills
    required arguments from the records read and the identified customer, and the rep the rest."""
    offer: str = ""
    """The copilot proposes the tool only when this holds (empty: whenever a path or escalation calls for it)."""
    free_text: tuple[str, ...] = ()
    """Arguments in someone's own words (a transfer's summary): the copilot drafts them, and
    ``copilot eval suggestions`` does not compare them with a recorded agent's."""
    label: str = ""
    """The action in a few words for its card, with ``{expression}`` parts (``Cancel order {args.order_id}``)."""
    undo: str = ""
    """The tool that undoes this one, proposed to the rep once it ran."""
    applied: str = ""
    """After a lost reply: whether the change shows in the records read again (``records``) compared with
    those read before the run (``before``); empty: the outcome cannot be read back."""
    after: dict[str, str] | None = None
    """The records ``applied`` reads (as ``records``); default: the same as ``records``."""

    @property
    def records_after(self) -> dict[str, str]:
        return self.records if self.after is None else self.after


class Compensation(_Strict):
    """The call that undoes a plan step that ran (the compensating steps run newest first)."""

    tool: str = Field(min_length=1)
    arguments: dict[str, str] = {}
    """Argument → expression; it may read ``steps.<id>.result`` of its own step and those before it."""


class PlanStep(_Strict):
    """One action of a plan: a tool, and the expressions filling its arguments from what ran before it."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    """Read by later steps as ``steps.<id>.result`` (the tool's answer) and ``steps.<id>.args``."""
    tool: str = Field(min_length=1)
    arguments: dict[str, str] = {}
    """Argument → expression (the variables of a tool's expressions, plus ``steps`` of the steps before it)."""
    label: str = ""
    """The step in a few words, with ``{expression}`` parts; empty: the tool's name."""
    compensate: Compensation | None = None


class Plan(_Strict):
    """Several actions run in order for one request (a disputed charge: look it up, credit, dispute, confirm,
    remind), approved as a whole or step by step; each step's result feeds the next one's arguments."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]*$")
    title: str = Field(min_length=1)
    intents: tuple[str, ...] = ()
    """Offered when a suggested path of one of these intents is shown."""
    escalations: tuple[str, ...] = ()
    """Offered when one of these escalation categories is detected."""
    offer: str = ""
    """Offered only when this holds (read before any step ran; ``steps`` is empty)."""
    clauses: tuple[str, ...] = ()
    """The clauses the plan follows, shown as its citations."""
    step: tuple[PlanStep, ...] = Field(min_length=1)


class ActionsFile(_Strict):
    clock: str = ""
    """An ISO date-time with zone fixing ``now`` (a policy written for a fixed moment); empty: the real clock."""
    identity_clause: str = ""
    """The clause cited when an action waits for the customer to be identified."""
    ownership_clause: str = ""
    """The clause cited when a record belongs to someone other than the identified customer."""
    unlisted: Literal["block", "approval"] = "block"
    """What happens to a write tool this file does not describe."""
    offer_blocked: bool = True
    """Whether the copilot shows a proposal that a rule blocks; false: only those waiting for something (a rule
    that ``waits``, a record to read, the customer's identity, the rep's input), the path's draft explaining
    a refusal instead."""
    max_waiting: int = Field(default=3, ge=1, le=20)
    """At most this many actions wait for the rep at once in a conversation (the best ranked: the newest
    analysis's, best path first); older ones beyond it are set aside, and proposed again when called for."""
    tool: tuple[ToolPolicy, ...] = ()
    plan: tuple[Plan, ...] = ()


class ActionPolicy:
    """A pack's systems and action rules, compiled; the empty policy describes no system and no tool."""

    def __init__(self, systems: SystemsFile | None = None, actions: ActionsFile | None = None) -> None:
        self.systems = systems or SystemsFile()
        self.actions = actions or ActionsFile()
        self.tools = {t.name: t for t in self.actions.tool}
        self.kinds = {k.name: k for k in self.systems.record}
        self.zone = self.clock().tzinfo or UTC
        self._programs: dict[str, Any] = {}

    def clock(self) -> datetime:
        """``now`` for the rules: the pack's fixed clock, or the real one."""
        if self.actions.clock:
            return datetime.fromisoformat(self.actions.clock)
        return datetime.now(UTC)

    def now(self, at: datetime | None) -> datetime:
        """``now`` for a conversation that happens ``at`` (its newest message): the pack's fixed clock when it
        has one, else that moment (a replayed conversation is judged as of its own time), else the real clock."""
        if self.actions.clock or at is None:
            return self.clock()
        return at if at.tzinfo else at.replace(tzinfo=self.zone if isinstance(self.zone, timezone) else UTC)

    def program(self, expression: str) -> Any:
        found = self._programs.get(expression)
        if found is None:
            found = self._programs[expression] = cel.compile(expression)
        return found

    def context(self, variables: Mapping[str, Any]) -> cel.Context:
        context = cel.Context()
        for name, value in variables.items():
            context.add_variable(name, value)
        context.add_function("total", _total)
        context.add_function("max0", _max0)
        context.add_function("round", _round)
        context.add_function("range", _range)
        context.add_function("flatten", _flatten)
        zone = self.zone if isinstance(self.zone, timezone) else UTC
        context.add_function("at", _timestamp_parser(zone))
        context.add_function("day", _day_of(zone))
        context.add_function("days", _days_between(zone))
        context.add_function("confirmed", _nothing_confirmed)
        context.add_function("mentioned", _nothing_mentioned)
        return context

    @property
    def id_patterns(self) -> tuple[tuple[str, str], ...]:
        """(the key it is looked up by, pattern) of each record kind with an id pattern (see gather)."""
        return tuple((k.key, k.pattern) for k in self.systems.record if k.pattern and k.key)

    def identifying(self, fields: Mapping[str, Any], tool: str = "") -> Identify | None:
        """The identify entry (of ``tool``, when given) whose identifying fields are all among ``fields``."""
        return next(
            (i for i in self.systems.identify if (not tool or i.tool == tool) and set(i.by) <= set(fields)), None
        )


def _probe() -> dict[str, Any]:
    """Values of every variable, empty, to find names a rule uses that do not exist (at load time)."""
    return {
        "args": {},
        "records": {},
        "customer": {},
        "identified": False,
        "history": [],
        "seen": {},
        "role": "rep",
        "now": datetime(2000, 1, 1, tzinfo=UTC),
        "tool": "",
        "facts": {},
        "intent": "",
        "jurisdiction": "",
        "why": "",
        "queue": "",
        "source": "",
        "conversation_id": "",
        "variables": {},
        "before": {},
        "turns": [],
        "customer_name": "",
    }


_PART = re.compile(r"\{([^{}]+)\}")


def template_parts(text: str) -> list[str]:
    """The ``{expression}`` parts of a message or label."""
    return _PART.findall(text)


POLICY_FILES = ("systems.toml", "actions.toml")
_IN_FORCE: dict[tuple[int, int, tuple[str, ...]], ActionPolicy] = {}
"""(catalog, generation, pack versions) → their policy, parsed once per catalog change."""


def policy_in_force(catalog: Catalog, keys: Sequence[str]) -> ActionPolicy:
    """The action policy of the highest-priority of these pack versions that has one (systems and tools
    are one company's: they are not merged across packs); the empty policy if none has."""
    stamp = (id(catalog), catalog.generation, tuple(keys))
    found = _IN_FORCE.get(stamp)
    if found is None:
        found = ActionPolicy()
        for key in keys:
            files = dict(catalog.guidance_of(key))
            if any(name in files for name in POLICY_FILES):
                ids = {c.clause_id for c in catalog.clauses_of([key])}
                found = parse_action_policy(files, ids, key)
                break
        if len(_IN_FORCE) >= len(keys) + 8:
            _IN_FORCE.clear()
        _IN_FORCE[stamp] = found
    return found


def pack_policy(pack: Pack, origin: str = "") -> ActionPolicy:
    """The action policy of a loaded pack (the empty one if it has no systems.toml or actions.toml)."""
    return parse_action_policy(dict(pack.guidance), {c.id for c in pack.clauses}, origin)


def parse_action_policy(files: Mapping[str, str], clause_ids: set[str], origin: str = "") -> ActionPolicy:
    """The policy of a pack's ``systems.toml`` and ``actions.toml`` (either may be absent); a PackError
    names the file, the line, the rule and the fix."""
    systems = _model(SystemsFile, "systems.toml", files, origin)
    actions = _model(ActionsFile, "actions.toml", files, origin)
    systems_text = files.get("systems.toml", "")
    systems_where = f"{origin}/systems.toml" if origin else "systems.toml"
    if systems is not None:
        _check_kinds(systems.record, systems_text, systems_where)
    policy = ActionPolicy(systems, actions)
    text = files.get("actions.toml", "")
    where = f"{origin}/actions.toml" if origin else "actions.toml"
    if actions is not None and actions.clock:
        try:
            if datetime.fromisoformat(actions.clock).tzinfo is None:
                raise ValueError("it has no zone")
        except ValueError as exc:
            raise PackError(
                where,
                line_of(text, "clock"),
                f"clock {actions.clock!r} is not an ISO date-time ({exc})",
                "e.g. 2024-05-15T15:00:00-05:00",
            ) from None
    cited: list[tuple[str, str]] = (
        [("identity_clause", actions.identity_clause), ("ownership_clause", actions.ownership_clause)]
        if actions
        else []
    )
    for tool in policy.actions.tool:
        for kind, expression in (*tool.records.items(), *tool.records_after.items()):
            if kind not in policy.kinds:
                raise PackError(
                    where,
                    line_of(text, f"{kind} ="),
                    f"tool {tool.name} reads a record kind '{kind}' that systems.toml does not describe",
                    "add a [[record]] with that name to systems.toml, or fix the name",
                )
            _check_expression(policy, expression, where, text, f"{tool.name}.records.{kind}")
        if tool.undo and tool.undo not in policy.tools:
            raise PackError(
                where,
                line_of(text, f'"{tool.undo}"'),
                f"tool {tool.name} is undone by '{tool.undo}', which actions.toml does not describe",
                "add a [[tool]] for it, or fix the name",
            )
        named = [*tool.variables.items(), *tool.arguments.items()]
        named += [(field, value) for field, value in (("offer", tool.offer), ("applied", tool.applied)) if value]
        named += [("label", part) for part in template_parts(tool.label)]
        for name, expression in named:
            _check_expression(policy, expression, where, text, f"{tool.name}.{name}")
        for rule in tool.rule:
            for expression in (rule.require, rule.when, *template_parts(rule.message)):
                if expression:
                    _check_expression(policy, expression, where, text, rule.id)
            cited.append((f"rule {rule.id}", rule.clause))
    for lookup in policy.systems.lookup:
        for name, expression in (*lookup.arguments.items(), ("when", lookup.when)):
            if expression:
                _check_expression(policy, expression, systems_where, systems_text, f"{lookup.tool}.{name}")
    for number, plan in enumerate(policy.actions.plan):
        if any(other.id == plan.id for other in policy.actions.plan[:number]):
            raise PackError(where, line_of(text, f'"{plan.id}"'), f"plan '{plan.id}' is declared twice", "rename one")
        cited += [(f"plan {plan.id}", clause) for clause in plan.clauses]
        _check_plan(policy, plan, where, text)
    for rule_id, clause in cited:  # rule_id: who cites it
        if clause and clause not in clause_ids:
            raise PackError(
                where,
                line_of(text, clause),
                f"{rule_id} cites clause '{clause}', which the pack does not have",
                "use the id of one of the pack's clauses",
            )
    return policy


_STEP_READ = re.compile(r"\bsteps\.([A-Za-z_]\w*)")


def _check_plan(policy: ActionPolicy, plan: Plan, where: str, text: str) -> None:
    """What a ``[[plan]]`` must say beyond its fields' types: something offers it, each step's tool is one the
    pack describes, and its expressions compile and read only the steps before it (a compensation: also its own)."""
    plan_line = line_of(text, f'"{plan.id}"') or 1
    if not plan.intents and not plan.escalations:
        raise PackError(
            where, plan_line, f"plan {plan.id} is offered by nothing", "add intents = [...] or escalations = [...]"
        )
    if plan.offer:
        _check_expression(policy, plan.offer, where, text, f"{plan.id}.offer", {"steps": {}})
    reads = {
        *policy.tools,
        *(k.tool for k in policy.systems.record),
        *(lookup.tool for lookup in policy.systems.lookup),
        *(i.tool for i in policy.systems.identify),
    }
    for number, step in enumerate(plan.step):
        earlier = [s.id for s in plan.step[:number]]
        step_line = _line_after(text, plan_line, f'"{step.id}"') or plan_line
        if step.id in earlier:
            raise PackError(where, step_line, f"plan {plan.id} has two steps '{step.id}'", "give each step its own id")

        def check(field: str, expression: str, readable: list[str], step: PlanStep = step, at: int = step_line) -> None:
            line = _line_after(text, at, f"{field.rsplit('.', 1)[-1]} =") or at
            for read in _STEP_READ.findall(expression):
                if read not in readable:
                    later = "runs later" if any(s.id == read for s in plan.step) else "is not a step of this plan"
                    raise PackError(
                        where,
                        line,
                        f"plan {plan.id}, step {step.id}: {field} reads steps.{read}, which {later}",
                        "read only the steps before it (a compensation also reads its own step's result)",
                    )
            _check_expression(policy, expression, where, text, f"{plan.id}.{step.id}.{field}", {"steps": {}}, line)

        if step.tool not in reads:
            raise PackError(
                where,
                step_line,
                f"plan {plan.id}, step {step.id}: tool '{step.tool}' is not described by this pack",
                "add a [[tool]] for it to actions.toml (a read: a [[record]] or [[lookup]] of systems.toml)",
            )
        for name, expression in step.arguments.items():
            check(f"arguments.{name}", expression, earlier)
        for part in template_parts(step.label):
            check("label", part, earlier)
        if step.compensate is None:
            continue
        if step.compensate.tool not in policy.tools:
            raise PackError(
                where,
                step_line,
                f"plan {plan.id}, step {step.id}: compensating tool '{step.compensate.tool}' is not described by "
                "this pack",
                "add a [[tool]] for it to actions.toml",
            )
        for name, expression in step.compensate.arguments.items():
            check(f"compensate.arguments.{name}", expression, [*earlier, step.id])


def _line_after(text: str, start: int, needle: str) -> int | None:
    """The first line from ``start`` on that holds ``needle``."""
    lines = text.splitlines()
    return next((n for n in range(start, len(lines) + 1) if needle in lines[n - 1]), None)


def _check_kinds(kinds: Sequence[RecordKind], text: str, where: str) -> None:
    """What a ``[[record]]`` must say beyond its fields' own types: one way to name a record, one kind per name."""
    declared: dict[str, int] = {}
    for kind in kinds:
        lines = _lines_naming(text, kind.name)
        line = lines[min(declared.get(kind.name, 0), len(lines) - 1)] if lines else None
        problem, fix = "", ""
        if kind.name in declared:
            problem, fix = f"record kind '{kind.name}' is declared twice", "give each kind its own name"
        elif bool(kind.key) == bool(kind.keys):
            problem = f"record kind '{kind.name}' has {'both key and keys' if kind.key else 'neither key nor keys'}"
            fix = f'write key = "..." (the argument of {kind.tool} that takes its id), or keys = [...] for several'
        elif len(set(kind.keys)) != len(kind.keys) or "" in kind.keys:
            problem, fix = f"record kind '{kind.name}' repeats a key or has an empty one", "name each argument once"
        elif kind.keys and (kind.pattern or kind.id):
            field = "pattern" if kind.pattern else "id"
            problem = f"record kind '{kind.name}' has {field} but several keys"
            fix = f"{field} is for a kind looked up by a single id (key); remove it"
        if problem:
            raise PackError(where, line, problem, fix)
        declared[kind.name] = declared.get(kind.name, 0) + 1


def _lines_naming(text: str, name: str) -> list[int]:
    """The lines of ``name = "<name>"`` in a TOML file, however spaced or quoted."""
    named = re.compile(rf"""\s*name\s*=\s*["']{re.escape(name)}["']""")
    return [number for number, line in enumerate(text.splitlines(), start=1) if named.match(line)]


CEL_GLOBALS = frozenset(
    {
        "size",
        "has",
        "int",
        "uint",
        "double",
        "string",
        "bytes",
        "bool",
        "timestamp",
        "duration",
        "type",
        "dyn",
        "matches",
    }
)
"""CEL's standard functions called without a receiver (``size(x)``; methods such as ``x.all(...)`` aside)."""
_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_CALL = re.compile(r"(?<![.\w])([A-Za-z_]\w*)\s*\(")


def _unknown_function(expression: str) -> str | None:
    """A function the expression calls that neither CEL nor FUNCTIONS defines (found before any data is)."""
    code = _QUOTED.sub("''", expression)
    return next((name for name in _CALL.findall(code) if name not in CEL_GLOBALS and name not in FUNCTIONS), None)


def _line_in(text: str, tool: str, name: str) -> int | None:
    """The line of ``name =`` (its last dotted part) in the table of ``tool``, or anywhere when not found there."""
    needle = name.rsplit(".", 1)[-1] + " ="
    start = line_of(text, f'"{tool}"') or 1
    lines = text.splitlines()
    found = next((n for n in range(start, len(lines) + 1) if needle in lines[n - 1]), None)
    return found or line_of(text, needle)


def _check_expression(
    policy: ActionPolicy,
    expression: str,
    where: str,
    text: str,
    rule_id: str,
    extra: Mapping[str, Any] | None = None,
    at: int | None = None,
) -> None:
    """Compile ``expression`` and run it on empty values of every variable (and of ``extra``), so that a syntax
    error or an unknown name is reported at load, naming the file, the line (``at``, else found by ``rule_id``)
    and ``rule_id``."""
    line = at or (line_of(text, rule_id) if "." not in rule_id else _line_in(text, *rule_id.split(".", 1)))
    try:
        program = policy.program(expression)
    except (ValueError, RuntimeError) as exc:
        detail = str(exc).splitlines()[0].replace("Failed to parse expression", "cannot parse")
        raise PackError(where, line, f"rule {rule_id}: {detail}", "correct the CEL expression") from None
    if unknown := _unknown_function(expression):
        raise PackError(
            where,
            line,
            f"rule {rule_id}: unknown name '{unknown}'",
            f"the functions are CEL's and {', '.join(FUNCTIONS)}",
        )
    try:
        program.execute(policy.context({**_probe(), **(extra or {})}))
    except RuntimeError as exc:
        if "Undefined variable or function" in str(exc):
            name = re.search(r"'([^']+)'", str(exc))
            raise PackError(
                where,
                line,
                f"rule {rule_id}: unknown name '{name.group(1) if name else '?'}'",
                f"expressions read {', '.join(VARIABLES)} and the functions {', '.join(FUNCTIONS)}",
            ) from None
    except Exception:  # noqa: BLE001 - missing fields of the empty probe are expected; only names matter here
        pass


def _model(model: type[M], file: str, files: Mapping[str, str], origin: str) -> M | None:
    return validated(model, files[file], f"{origin}/{file}" if origin else file) if file in files else None
