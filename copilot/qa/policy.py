"""A pack's qa.toml: its QA checks, root-cause taxonomy, wrap-up texts and anomaly settings, validated against
the rest of the pack (clauses, rules, escalation categories, intents, tools, languages) and compiled once.

The engine implements a small vocabulary of check kinds; the pack says which checks it runs and with what
(rule ids, escalation categories, tool names, phrases per language), so another company writes its own
qa.toml and no Python changes (docs/qa.md).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from base.errors import PackError
from copilot.action_policy import ActionPolicy, pack_policy
from copilot.reasoning.guidance import Guidance, Watches, line_of, merge, validated
from copilot.reasoning.signals import fold, pack_pattern
from retrieval.packs import Clause, Pack

if TYPE_CHECKING:
    from retrieval.catalog import Catalog

QA_FILE = "qa.toml"
CHECK_ID = r"^[a-z0-9][a-z0-9_-]*$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Said(Watches):
    """Words that show something in a message: phrases and regular expressions, in the pack's default language
    and by language code in its others (validated as guidance's). QA reads a message with every language's
    words at once (a folded, accent-free text), which costs no language detection per message."""

    def compiled(self) -> re.Pattern[str] | None:
        """Every language's phrases and patterns as one pattern over ``fold``-ed text (None: no words)."""
        return pack_pattern(*_all(self))


class Evidence(Said):
    """Something that happened: a call of one of ``tools``, or a message of ``role`` with the words."""

    tools: tuple[str, ...] = ()
    role: Literal["rep", "customer"] = "rep"


class _Check(_Strict):
    id: str = Field(pattern=CHECK_ID)
    title: str = Field(min_length=1)
    clause: str = ""
    """The clause the check enforces (cited with each failure)."""


class DisclosureCheck(_Check, Said):
    """The customer is told AI helps with the replies, within the first ``within`` rep messages, where the
    conversation's region requires it (rules.toml [disclosure] jurisdictions unless given here). The pack's
    disclosure line in any language counts, and so do this check's words."""

    kind: Literal["disclosure"]
    jurisdictions: tuple[str, ...] | None = None
    within: int = Field(1, ge=1)


class BeforeCheck(_Check):
    """``first`` happens before ``then`` (identity verified before an account change or private data)."""

    kind: Literal["before"]
    first: Evidence
    then: Evidence


class BackedCheck(_Check, Said):
    """Every rep sentence with these words (a commitment) is backed: by a call of one of ``tools``, by a clause
    the message cited, and every figure in it by a record the systems returned earlier or by a clause text."""

    kind: Literal["backed"]
    tools: tuple[str, ...] = ()


class FlagsCheck(_Check):
    """No flag of these rules (all when empty) at or above ``severity`` stays unresolved: a flag is resolved by a
    later rep message with the ``correction`` words, or by the rep rejecting the card (records)."""

    kind: Literal["flags_resolved"]
    rules: tuple[str, ...] = ()
    severity: Literal["info", "warning", "error"] = "warning"
    correction: Said = Said()


class EscalationCheck(_Check, Said):
    """An escalation of these categories (all when empty) that became due is made: the transfer tool of
    systems.toml (or one of ``tools``) is called, or a rep message says the hand-over in these words."""

    kind: Literal["escalation_made"]
    categories: tuple[str, ...] = ()
    tools: tuple[str, ...] = ()
    due: dict[str, Said] = {}
    """Category id → more words that make it due, beside escalation.toml's own: the panel also has coded triggers
    and a classifier, which this fast pass over event files does not run (the records have what they found)."""


class ConfirmationCheck(_Check, Said):
    """A call of one of ``tools`` (a change on the customer's account) runs only after the customer said yes in
    these words, in their latest message before the call."""

    kind: Literal["confirmed"]
    tools: tuple[str, ...] = Field(min_length=1)


Check = Annotated[
    DisclosureCheck | BeforeCheck | BackedCheck | FlagsCheck | EscalationCheck | ConfirmationCheck,
    Field(discriminator="kind"),
]


class RootCause(Said):
    """One root cause of the pack's taxonomy: suggested when the conversation's case is one of ``intents``, an
    escalation of ``categories`` or a flag of ``rules`` was raised, or a customer message has its words."""

    id: str = Field(pattern=CHECK_ID)
    title: str = Field(min_length=1)
    intents: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()


class WrapupSettings(_Strict):
    """What wrap-up writes and reads: the CSAT survey message and the words that tell the ending."""

    csat: str = (
        "Hi {customer_first_name}, thank you for contacting us. How satisfied were you with the help you got today, "
        "from 1 (not at all) to 5 (very)?"
    )
    csat_by_language: dict[str, str] = {}
    follow_up: Said = Said()
    """A rep's promise to come back (``I'll email you within 48 hours``): the ending is ``follow_up``."""
    pending: Said = Said()
    """A rep waiting on someone (``once the warehouse replies``): the ending is ``pending``."""
    max_tags: int = Field(3, ge=1, le=10)


class AnomalySettings(_Strict):
    """When a day's rate is an anomaly: its robust z-score over the days before (median and median absolute
    deviation) is at least ``threshold``, the rate at least ``min_lift`` times the baseline's median, with at
    least ``min_count`` events that day."""

    baseline_days: int = Field(14, ge=3)
    min_baseline_days: int = Field(5, ge=3)
    threshold: float = Field(3.5, gt=0)
    min_lift: float = Field(1.5, ge=1)
    """A large team's rates barely move from day to day, so a small rise can score high: it must also be big."""
    min_count: int = Field(5, ge=1)


class QaFile(_Strict):
    check: tuple[Check, ...] = ()
    root_cause: tuple[RootCause, ...] = ()
    wrapup: WrapupSettings = WrapupSettings()
    anomaly: AnomalySettings = AnomalySettings()


@dataclass(frozen=True)
class PackRulePattern:
    """A rules.toml rule as QA reads rep messages with it."""

    id: str
    severity: str
    pattern: re.Pattern[str]
    unless: tuple[str, ...]


@dataclass(frozen=True)
class QaPolicy:
    """One pack's QA, compiled: the checks with their words, and what they read of the rest of the pack."""

    pack: str
    """``name@version``."""
    file: QaFile
    guidance: Guidance
    transfer_tool: str
    clause_texts: Mapping[str, str]
    """Clause id → its text, thousands separators dropped (figures are looked up in it)."""
    words: Mapping[str, re.Pattern[str] | None] = field(default_factory=dict)
    """``check-id``, ``check-id.first``, ``check-id.then``, ``check-id.correction``, ``cause:id``,
    ``wrapup.follow_up``, ``wrapup.pending`` → the pattern of that entry's words."""
    rules: tuple[PackRulePattern, ...] = ()
    categories: tuple[tuple[str, re.Pattern[str]], ...] = ()
    """(escalation category id, its phrases and patterns in every language)."""
    disclosure_lines: tuple[str, ...] = ()
    """The pack's disclosure line in each of its languages, folded."""

    def cite(self, clause_id: str) -> str:
        return self.guidance.citations.get(clause_id, "") if clause_id else ""


def known_tools(policy: ActionPolicy) -> set[str]:
    """Every tool a pack's systems.toml and actions.toml name."""
    systems = policy.systems
    names = set(policy.tools)
    names |= {r.tool for r in systems.record} | {i.tool for i in systems.identify} | {lk.tool for lk in systems.lookup}
    names |= set(systems.customer.tools) if systems.customer else set()
    return names | ({systems.transfer.tool} if systems.transfer else set())


def qa_policy(pack: Pack, origin: str = "") -> QaPolicy | None:
    """The pack's QA compiled, None when it has no qa.toml; a PackError names file, line and fix."""
    text = dict(pack.guidance).get(QA_FILE)
    if text is None:
        return None
    where = f"{origin}/{QA_FILE}" if origin else QA_FILE
    parsed = validated(QaFile, text, where)
    actions = pack_policy(pack, origin)
    guidance = merge([(pack.key, pack.guidance, {c.id for c in pack.clauses})])
    _check_references(parsed, text, where, pack, guidance, known_tools(actions))
    words: dict[str, re.Pattern[str] | None] = {}
    for check in parsed.check:
        if isinstance(check, Said):
            words[check.id] = check.compiled()
        if isinstance(check, BeforeCheck):
            words[f"{check.id}.first"] = check.first.compiled()
            words[f"{check.id}.then"] = check.then.compiled()
        if isinstance(check, FlagsCheck):
            words[f"{check.id}.correction"] = check.correction.compiled()
    for cause in parsed.root_cause:
        words[f"cause:{cause.id}"] = cause.compiled()
    words["wrapup.follow_up"] = parsed.wrapup.follow_up.compiled()
    words["wrapup.pending"] = parsed.wrapup.pending.compiled()
    rules = tuple(
        PackRulePattern(r.id, r.severity, pattern, r.unless)
        for r in guidance.rules
        if "rep" in r.scope and (pattern := pack_pattern(*_all(r)))
    )
    watched = {c.id: _all(c) for c in guidance.categories}
    for check in parsed.check:
        if isinstance(check, EscalationCheck):
            for category, said in check.due.items():
                phrases, patterns = _all(said)
                watched[category] = (watched[category][0] + phrases, watched[category][1] + patterns)
    categories = tuple((c, pattern) for c, words_of in watched.items() if (pattern := pack_pattern(*words_of)))
    transfer = actions.systems.transfer
    return QaPolicy(
        pack.key,
        parsed,
        guidance,
        transfer.tool if transfer else "",
        {c.id: c.text.replace(",", "") for c in pack.clauses},
        words,
        rules,
        categories,
        tuple(fold(line) for line in guidance.disclosure.lines),
    )


def _every(by_language: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    return tuple(p for ps in by_language.values() for p in ps)


def _all(said: Watches) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(phrases, patterns) of a pack's words in every language."""
    return said.phrases + _every(said.phrases_by_language), said.patterns + _every(said.patterns_by_language)


def _check_references(parsed: QaFile, text: str, where: str, pack: Pack, guidance: Guidance, tools: set[str]) -> None:
    """Every clause, rule, category, intent, tool and language qa.toml names exists in the pack."""
    clauses = {c.id for c in pack.clauses}
    known: dict[str, tuple[set[str], str]] = {
        "clause": (clauses, "a clause id of this pack's clauses/*.md"),
        "rule": ({r.id for r in guidance.rules}, "a rule id of rules.toml"),
        "category": ({c.id for c in guidance.categories}, "a category id of escalation.toml"),
        "intent": ({p.intent for p in guidance.playbooks}, "an intent of playbooks.toml"),
        "tool": (tools, "a tool systems.toml or actions.toml names"),
    }

    def need(kind: str, names: tuple[str, ...] | str, owner: str) -> None:
        names_, (have, what) = ((names,) if isinstance(names, str) else names), known[kind]
        for name in names_:
            if name and name not in have:
                raise PackError(
                    where,
                    line_of(text, f'"{name}"') or line_of(text, owner),
                    f"{owner}: unknown {kind} '{name}'",
                    f"name {what}",
                )

    seen: set[str] = set()
    for check in parsed.check:
        if check.id in seen:
            raise PackError(
                where, line_of(text, check.id), f"check id '{check.id}' twice", "give each check its own id"
            )
        seen.add(check.id)
        need("clause", check.clause, check.id)
        if isinstance(check, BeforeCheck):
            need("tool", check.first.tools + check.then.tools, check.id)
            if not (check.first.tools or check.first.compiled()) or not (check.then.tools or check.then.compiled()):
                raise PackError(
                    where,
                    line_of(text, check.id),
                    f"check '{check.id}': first and then each need tools or words",
                    "give [check.first] and [check.then] tools = [...] or phrases / patterns",
                )
        if isinstance(check, BackedCheck | ConfirmationCheck | EscalationCheck):
            need("tool", check.tools, check.id)
        if isinstance(check, BackedCheck | ConfirmationCheck) and check.compiled() is None:
            raise PackError(
                where, line_of(text, check.id), f"check '{check.id}' has no words", "add phrases or patterns"
            )
        if isinstance(check, FlagsCheck):
            need("rule", check.rules, check.id)
        if isinstance(check, EscalationCheck):
            need("category", (*check.categories, *check.due), check.id)
    for cause in parsed.root_cause:
        need("intent", cause.intents, cause.id)
        need("category", cause.categories, cause.id)
        need("rule", cause.rules, cause.id)
    _check_languages(tomllib.loads(text), text, where, guidance.languages)


def _check_languages(doc: Any, text: str, where: str, languages: tuple[str, ...]) -> None:
    """Every ``*_by_language`` table names one of the pack's languages other than its default."""
    stack = [doc]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key, value in item.items():
                if key.endswith("_by_language") and isinstance(value, dict):
                    for code in value:
                        if code not in languages[1:]:
                            raise PackError(
                                where,
                                line_of(text, key),
                                f"'{key}' has words in '{code}', which is not one of the pack's other languages "
                                f"({', '.join(languages[1:]) or 'none'})",
                                f"declare '{code}' in pack.toml's languages, or remove them",
                            )
                stack.append(value)


_IN_FORCE: dict[tuple[int, int, tuple[str, ...]], QaPolicy | None] = {}
"""(catalog, generation, pack versions) → their QA, compiled once per catalog change."""


def qa_in_force(catalog: Catalog, keys: Sequence[str]) -> QaPolicy | None:
    """The QA of the highest-priority of these pack versions that has a qa.toml (a taxonomy and its checks are
    one company's: they are not merged across packs); None if none has."""
    stamp = (id(catalog), catalog.generation, tuple(keys))
    if stamp in _IN_FORCE:
        return _IN_FORCE[stamp]
    found: QaPolicy | None = None
    versions = {v.key: v for v in catalog.versions()}
    for key in keys:
        files = catalog.guidance_of(key)
        if key in versions and QA_FILE in dict(files):
            clauses = tuple(Clause(c.clause_id, c.title, c.text, "", 0) for c in catalog.clauses_of([key]))
            found = qa_policy(Pack.of(versions[key], clauses, files), key)
            break
    if len(_IN_FORCE) >= len(keys) + 8:
        _IN_FORCE.clear()
    _IN_FORCE[stamp] = found
    return found
