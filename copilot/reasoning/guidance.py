"""A pack's reasoning data: playbooks (intents and resolution paths), the escalation taxonomy and
compliance rules, read from ``playbooks.toml``, ``escalation.toml`` (with the labelled messages in
``escalation-examples.jsonl``) and ``rules.toml`` beside pack.toml.

Admins change what the copilot suggests and watches for by editing these files and loading a new
pack version; the checks themselves stay in code. Errors name the file, line and field, and are
raised before anything is ingested, so a bad file never replaces the active version.
See docs/policy-packs.md for the format.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from base.errors import LineError, PackError
from base.jsonl import parse_jsonl
from copilot.reasoning.classifier import Utterance
from copilot.reasoning.rules import CHECKS, FLAG_CATEGORIES, Checks, Enforced
from copilot.reasoning.signals import pack_pattern
from retrieval.packs import EXAMPLES_IN_LANGUAGE, Pack, citation, pack_languages

Severity = Literal["info", "warning", "error"]
ASKS = re.compile(r"\{\?(?=[a-z])|\{/\?\}")
"""The markers of a draft's question for a fact (``{?order_id}Which order is it?{/?}``), checked when a pack
loads: copilot/reasoning/drafting.py leaves the question out once the fact is known."""
M = TypeVar("M", bound=BaseModel)
CONDITIONS = ("identity_verified", "ai_disclosed")
"""What a pack rule may wait for: it does not fire once the condition holds in the conversation."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Step(_Strict):
    text: str
    needs: tuple[str, ...] = ()
    """Facts the step needs (``order_id``, ``status``...); a step whose facts are known is shown as done."""
    provides: str = ""
    """The fact this step obtains; known → the step is done."""


class ResolutionPath(_Strict):
    title: str
    steps: tuple[Step, ...] = Field(min_length=1)
    when: dict[str, tuple[str, ...]] = {}
    """Fact → values for which this path applies; a known fact with another value rules the path out."""
    clauses: tuple[str, ...] = ()
    actions: tuple[str, ...] = ()
    draft: str = ""
    """Reply template: ``{fact}`` placeholders and ``{clause-id:duration|amount|percent}`` clause values."""
    draft_by_language: dict[str, str] = {}
    """The template in the pack's other languages (code → template), for a customer who writes one of them."""

    @field_validator("draft", "draft_by_language")
    @classmethod
    def _questions_closed(cls, value: str | dict[str, str]) -> Any:
        for draft in [value] if isinstance(value, str) else value.values():
            if [m.group() for m in ASKS.finditer(draft)] != ["{?", "{/?}"] * (len(ASKS.findall(draft)) // 2):
                raise ValueError(
                    "a question marked with the fact it asks for is written {?fact}the question{/?}, "
                    "each opened marker closed before the next one opens"
                )
        return value


class Playbook(_Strict):
    intent: str
    title: str
    topic: str = ""
    """Playbooks with the same topic are one case for the customer (a late delivery that turns out lost):
    a message moving between them stays in its topic. Empty: the intent is a topic of its own."""
    examples: tuple[str, ...] = Field(min_length=2)
    clauses: tuple[str, ...] = ()
    path: tuple[ResolutionPath, ...] = Field(min_length=1)


class PlaybookSettings(_Strict):
    tone: str = ""
    """One line of tone guidance, shown to the rep and given to an LLM."""
    greeting: str = "Hi {customer_first_name},"
    closing: str = ""
    greeting_by_language: dict[str, str] = {}
    closing_by_language: dict[str, str] = {}
    generic: str = "Thanks for your message. Let me look into this for you now."
    """The draft's body when no path applies and nothing escalates."""
    generic_by_language: dict[str, str] = {}
    handoff: str = "I'd like to bring in a colleague from our {queue}, who can take this further with you."
    """The draft's body when an escalation applies and no path does; ``{queue}`` is the category's queue."""
    handoff_by_language: dict[str, str] = {}
    date_format: str = "{day} {month} {year}"
    """How a date reads in drafts (``{day}``, ``{month}`` name, ``{year}``): "12 March 2025", never 2025-03-12."""
    date_format_by_language: dict[str, str] = {}
    months_by_language: dict[str, tuple[str, ...]] = {}
    """The twelve month names in the pack's other languages (the default language's are English)."""
    max_suggestions: int = Field(4, ge=1, le=10)
    intent_floor: float = Field(0.45, ge=0, le=1)
    """Intent similarity below which the intent is ``unknown`` and no path is suggested."""
    new_topic_floor: float = Field(0.65, ge=0, le=1)
    """Intent similarity at which a message asks for something new even without a cue such as "also"
    (copilot/reasoning/topics.py); opening requests score about this, follow-up questions below it."""

    @field_validator("months_by_language")
    @classmethod
    def _twelve(cls, value: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
        for language, months in value.items():
            if len(months) != 12:
                raise ValueError(f"'{language}' lists {len(months)} month names; give all twelve, January first")
        return value


class Watches(_Strict):
    """What a category or a rule watches for in a text: phrases and regular expressions in the pack's default
    language and, by language code, in its others."""

    phrases: tuple[str, ...] = ()
    """Words or phrases: whole words, case and accents ignored; a ``*`` at either end of one stands for the
    rest of the word (``verstorben*``)."""
    patterns: tuple[str, ...] = ()
    """Python regular expressions, case-insensitive, read against the text without its accents."""
    phrases_by_language: dict[str, tuple[str, ...]] = {}
    patterns_by_language: dict[str, tuple[str, ...]] = {}
    """Phrases and patterns in the pack's other languages (code → list): they watch a text written in that
    language, or one too short to tell, beside the default language's."""

    @field_validator("patterns", "patterns_by_language")
    @classmethod
    def _compiles(cls, value: tuple[str, ...] | dict[str, tuple[str, ...]]) -> Any:
        for pattern in value if isinstance(value, tuple) else [p for ps in value.values() for p in ps]:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"pattern {pattern!r} is not a valid regular expression ({exc})") from None
        return value

    def pattern(self, languages: tuple[str, ...] = ()) -> re.Pattern[str] | None:
        """The default language's phrases and patterns with those of ``languages``, as one pattern to search in
        ``fold``-ed text (None when there are none)."""
        phrases = self.phrases + tuple(p for code in languages for p in self.phrases_by_language.get(code, ()))
        patterns = self.patterns + tuple(p for code in languages for p in self.patterns_by_language.get(code, ()))
        return pack_pattern(phrases, patterns)


class Acknowledgement(Watches):
    """A customer message that only thanks or agrees ("yes that's fine, thank you"): its draft closes the
    conversation instead of repeating the path's questions."""

    max_words: int = Field(12, ge=1, le=50)
    """A longer message, or one with a question, asks for more than an acknowledgement."""
    reply: str = ""
    """The draft's body for it, before the closing; empty: the closing alone."""
    reply_by_language: dict[str, str] = {}


class StatedFact(Watches):
    """A fact the customer states in words (``contact_channel`` from "email is fine", or
    ``points_used_this_year`` = 0 from "nope, nothing" to the rep's question about points): the phrases
    and patterns are read in customer messages, in the languages of ``Watches``."""

    fact: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    value: str = ""
    """The fact's value when a phrase is found; empty: the words found ("HTML")."""
    asked: tuple[str, ...] = ()
    """Phrases one of which the rep's message just before must hold (the question this message answers); empty:
    any customer message counts."""
    asked_by_language: dict[str, tuple[str, ...]] = {}


class PlaybookFile(_Strict):
    settings: PlaybookSettings = PlaybookSettings()
    acknowledgement: Acknowledgement = Acknowledgement()
    stated: tuple[StatedFact, ...] = ()
    playbook: tuple[Playbook, ...] = ()


class Category(Watches):
    id: str
    title: str
    queue: str
    tone: str = ""
    clauses: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    """Customer messages that show the category: the classifier learns from them (with
    escalation-examples.jsonl), for wordings no phrase foresaw."""
    examples_by_language: dict[str, tuple[str, ...]] = {}
    """Examples in the pack's other languages (with escalation-examples.<code>.jsonl)."""
    threshold: float | None = Field(None, gt=0, le=1)
    """The classifier probability this category needs (default: the file's classifier_threshold)."""
    opening: str = ""
    """A first sentence for drafts once the category applies (``I'm so sorry for your loss.``)."""
    opening_by_language: dict[str, str] = {}


class EscalationFile(_Strict):
    classifier_threshold: float = Field(0.5, gt=0, le=1)
    """The probability the escalation classifier needs before its category fires."""
    category: tuple[Category, ...] = ()


class LabelledMessage(_Strict):
    text: str = Field(min_length=1)
    labels: tuple[str, ...] = ()
    """Escalation category ids the message shows; empty for a near-miss that must not escalate."""


class ExamplesFile(_Strict):
    """``escalation-examples.jsonl``: one labelled customer message a line."""

    message: tuple[LabelledMessage, ...] = ()


class Disclosure(_Strict):
    jurisdictions: tuple[str, ...] = ("US-CA", "EU")
    line: str = "I'm using an AI assistant to help draft replies; a person reads and sends every message."
    line_by_language: dict[str, str] = {}

    @property
    def lines(self) -> tuple[str, ...]:
        """The line in each language the pack gives it in."""
        return (self.line, *self.line_by_language.values())


class PackRule(Watches):
    id: str
    category: str
    message: str
    clause: str = ""
    severity: Severity = "warning"
    scope: tuple[Literal["customer", "rep", "draft", "action"], ...] = ("rep", "draft")
    jurisdictions: tuple[str, ...] = ()
    unless: tuple[str, ...] = ()

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in FLAG_CATEGORIES:
            raise ValueError(f"must be one of {', '.join(FLAG_CATEGORIES)}")
        return value

    @field_validator("unless")
    @classmethod
    def _known_condition(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in CONDITIONS]
        if unknown:
            raise ValueError(f"unknown condition {unknown[0]!r}; use {' or '.join(CONDITIONS)}")
        return value


class RulesFile(_Strict):
    disclosure: Disclosure = Disclosure()
    checks: dict[str, Enforced] = {}
    """Built-in check name → the clause of this pack it enforces (``name = "clause.id"``), or a table with the
    clause and the pack's own message (``name = { clause = "clause.id", message = "..." }``)."""
    rule: tuple[PackRule, ...] = ()

    @field_validator("checks", mode="before")
    @classmethod
    def _clause_alone(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {name: {"clause": said} if isinstance(said, str) else said for name, said in value.items()}
        return value


@dataclass(frozen=True)
class Guidance:
    """The merged guidance of the pack versions that govern a conversation, clause ids made citations."""

    playbooks: tuple[Playbook, ...] = ()
    settings: PlaybookSettings = PlaybookSettings()
    categories: tuple[Category, ...] = ()
    classifier_threshold: float = 0.5
    utterances: tuple[Utterance, ...] = ()
    """The labelled messages of every pack (escalation-examples.jsonl); with the categories' examples they
    train the escalation classifier."""
    rules: tuple[PackRule, ...] = ()
    disclosure: Disclosure = Disclosure()
    checks: Checks = field(default_factory=Checks)
    """The clause each built-in check enforces (rules.toml [checks]), from the highest pack that names one."""
    citations: dict[str, str] = field(default_factory=dict)
    """Clause id → citation in the pack that defines it (the first pack in priority order wins)."""
    id_patterns: tuple[tuple[str, str], ...] = ()
    """(fact name, regular expression): the company's ids the facts find in messages, from the ``[[record]]``
    patterns of the highest pack with a systems.toml (an order id ``AB-12345`` becomes the fact ``order_id``)."""

    languages: tuple[str, ...] = ("en",)
    """The languages the packs declare (pack.toml), the highest pack's default first."""
    utterances_by_language: dict[str, tuple[Utterance, ...]] = field(default_factory=dict)
    """The labelled messages of escalation-examples.<code>.jsonl, by language."""
    acknowledgement: Acknowledgement = field(default_factory=Acknowledgement)
    """How a customer message that only thanks or agrees reads, and the reply to it (the highest pack's)."""
    stated: tuple[StatedFact, ...] = ()
    """Facts customers state in words, from every pack (a higher pack's first)."""

    def cite(self, clause_ids: Sequence[str]) -> tuple[str, ...]:
        return tuple(self.citations[c] for c in clause_ids if c in self.citations)

    def category(self, category_id: str) -> Category | None:
        return next((c for c in self.categories if c.id == category_id), None)


_MODELS: dict[str, type[_Strict]] = {
    "playbooks.toml": PlaybookFile,
    "escalation.toml": EscalationFile,
    "rules.toml": RulesFile,
}
"""The TOML guidance files; escalation-examples.jsonl is read line by line."""
REASONING_FILES = frozenset({*_MODELS, "escalation-examples.jsonl"})
"""The guidance files read here, with escalation-examples.<code>.jsonl; actions.toml and systems.toml are the
actions' (copilot/actions/policy.py)."""


def in_language(text: str, by_language: dict[str, str], language: str | None) -> str:
    """A text of the pack in ``language`` where the pack gives one, else in its default language."""
    return by_language.get(language, text) if language else text


def _reasoning_file(file: str) -> bool:
    return file in REASONING_FILES or EXAMPLES_IN_LANGUAGE.match(file) is not None


def _languages_of(files: Sequence[tuple[str, str]], origin: str) -> tuple[str, ...]:
    """The languages pack.toml declares (stored with the guidance when it declares any): English when none."""
    manifest = next((text for file, text in files if file == "pack.toml"), "")
    return pack_languages(manifest, f"{origin}/pack.toml" if origin else "pack.toml") or ("en",)


def parse_file(
    file: str, text: str, clause_ids: set[str], origin: str = "", languages: tuple[str, ...] = ("en",)
) -> _Strict:
    """Parse one guidance file; a PackError names the field, its line and the fix. ``languages``: the pack's,
    the default first; a text ``_by_language`` may be in any of the others."""
    where = f"{origin}/{file}" if origin else file
    if file.endswith(".jsonl"):
        return _parse_examples(where, text)
    parsed = validated(_MODELS[file], text, where)
    _check_languages(parsed, "", text, where, languages)
    if isinstance(parsed, RulesFile):
        _check_checks(parsed, text, where, clause_ids)
    for referenced in _clause_refs(parsed):
        if referenced not in clause_ids:
            raise PackError(
                where,
                line_of(text, referenced),
                f"unknown clause id '{referenced}'",
                "refer only to clause ids defined in this pack's clauses/*.md",
            )
    return parsed


def _check_checks(parsed: RulesFile, text: str, where: str, clause_ids: set[str]) -> None:
    """Every name in [checks] is a built-in check, and the clause it names is one of this pack's."""
    names = [c.name for c in CHECKS]
    for name, said in parsed.checks.items():
        line = _key_line(text, "checks", name)
        if name not in names:
            fix = f"name one of the built-in checks: {', '.join(names)}"
            raise PackError(where, line, f"unknown check '{name}' in [checks]", fix)
        if said.clause not in clause_ids:
            raise PackError(
                where,
                line,
                f"check '{name}' enforces clause '{said.clause}', which is not in this pack",
                "name a clause id defined in this pack's clauses/*.md, or leave the check out (docs/policy-packs.md)",
            )


def _check_languages(model: BaseModel, path: str, text: str, where: str, languages: tuple[str, ...]) -> None:
    """Every ``<field>_by_language`` of the file names one of the pack's languages other than its default
    (the default language's text is the field itself)."""
    for name, value in model:
        at = f"{path}.{name}" if path else name
        if isinstance(value, BaseModel):
            _check_languages(value, at, text, where, languages)
        elif isinstance(value, tuple):
            for i, item in enumerate(value):
                if isinstance(item, BaseModel):
                    _check_languages(item, f"{at}.{i}", text, where, languages)
        elif name.endswith("_by_language") and isinstance(value, dict):
            for language in value:
                if language not in languages[1:]:
                    others = ", ".join(languages[1:]) or "none"
                    raise PackError(
                        where,
                        line_of(text, name),
                        f"field '{at}' has a text in '{language}', which is not one of the pack's other languages "
                        f"(pack.toml languages: default {languages[0]}, others: {others})",
                        f"declare '{language}' in pack.toml's languages, or write the default language's text in "
                        f"'{name.removesuffix('_by_language')}' itself",
                    )


def _key_line(text: str, table: str, key: str) -> int | None:
    """The line of ``key`` in ``[table]`` (written ``key = ...``, ``table.key = ...`` or ``[table.key]``)."""
    written = re.compile(
        rf"^\s*(?:\[\s*{re.escape(table)}\s*\.\s*{re.escape(key)}\s*\]"
        rf"|(?:{re.escape(table)}\s*\.\s*)?[\"']?{re.escape(key)}[\"']?\s*=)",
        re.MULTILINE,
    )
    header = re.search(rf"^\s*\[\s*{re.escape(table)}\s*\]", text, re.MULTILINE)
    found = written.search(text, header.end() if header else 0) or written.search(text)
    return text.count("\n", 0, found.start()) + 1 if found else None


def _parse_examples(where: str, text: str) -> ExamplesFile:
    fix = 'write one {"text": "...", "labels": ["category id", ...]} object a line'
    messages = []
    try:
        for line in parse_jsonl(text.splitlines(), where):
            try:
                messages.append(LabelledMessage.model_validate(line.value))
            except ValidationError as exc:
                error = exc.errors()[0]
                field = ".".join(map(str, error["loc"]))
                raise PackError(where, line.number, f"field '{field}': {error['msg']}", fix) from None
    except LineError as exc:
        raise PackError(where, exc.line, exc.problem, fix) from None
    return ExamplesFile(message=tuple(messages))


def _clause_refs(parsed: _Strict) -> list[str]:
    if isinstance(parsed, PlaybookFile):
        refs = [c for p in parsed.playbook for c in p.clauses]
        refs += [c for p in parsed.playbook for path in p.path for c in path.clauses]
        refs += [
            m.group(1)
            for p in parsed.playbook
            for path in p.path
            for draft in (path.draft, *path.draft_by_language.values())
            for m in re.finditer(r"\{([a-z0-9][a-z0-9._-]*):(?:duration|amount|percent)\}", draft)
        ]
        return refs
    if isinstance(parsed, EscalationFile):
        return [c for cat in parsed.category for c in cat.clauses]
    if isinstance(parsed, RulesFile):
        return [r.clause for r in parsed.rule if r.clause]
    return []


def validated(model: type[M], text: str, where: str) -> M:
    """A TOML file read as ``model``; a PackError names the field, its line and the fix."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"at line (\d+)", str(exc))
        raise PackError(
            where, int(at.group(1)) if at else None, f"invalid TOML ({exc})", "correct the TOML syntax"
        ) from None
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        error = exc.errors()[0]
        path = ".".join(str(p) for p in error["loc"])
        key = next((str(p) for p in reversed(error["loc"]) if isinstance(p, str)), "")
        raise PackError(
            where,
            line_of(text, key),
            f"field '{path}': {error['msg']}",
            "see docs/policy-packs.md for the fields this file takes",
        ) from None


def line_of(text: str, needle: str) -> int | None:
    """The number of the first line of ``text`` holding ``needle`` (None if none does)."""
    if not needle:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if needle in line:
            return number
    return None


def check_pack(pack: Pack, origin: str = "") -> None:
    """Validate a pack's guidance files against its clauses (before ingest)."""
    ids = {c.id for c in pack.clauses}
    languages = _languages_of(pack.guidance, origin)
    parsed = {
        file: parse_file(file, text, ids, origin, languages) for file, text in pack.guidance if _reasoning_file(file)
    }
    taxonomy = parsed.get("escalation.toml")
    known = {c.id for c in taxonomy.category} if isinstance(taxonomy, EscalationFile) else set()
    for file, examples in parsed.items():
        if not isinstance(examples, ExamplesFile):
            continue
        for number, message in enumerate(examples.message, start=1):
            unknown = set(message.labels) - known
            if unknown:
                where = f"{origin}/{file}" if origin else file
                raise PackError(
                    where,
                    None,
                    f"message {number} has the label '{sorted(unknown)[0]}', which is no category of escalation.toml",
                    "use the ids of escalation.toml's categories",
                )


def merge(packs: Sequence[tuple[str, tuple[tuple[str, str], ...], set[str]]]) -> Guidance:
    """Merge (key ``name@version``, guidance files, clause ids) in priority order, highest first.

    The same intent, category or rule id in two packs: the higher-priority pack's wins. Settings and
    the disclosure come from the highest pack that has them.
    """
    playbooks: dict[str, Playbook] = {}
    categories: dict[str, Category] = {}
    rules: dict[str, PackRule] = {}
    citations: dict[str, str] = {}
    settings: PlaybookSettings | None = None
    acknowledgement: Acknowledgement | None = None
    stated: list[StatedFact] = []
    disclosure: Disclosure | None = None
    checks: dict[str, Enforced] = {}
    classifier_threshold: float | None = None
    utterances: list[Utterance] = []
    in_languages: dict[str, list[Utterance]] = {}
    languages: list[str] = []
    id_patterns: tuple[tuple[str, str], ...] | None = None
    for key, files, ids in packs:
        name, version = key.split("@", 1)
        own = _languages_of(files, key)
        languages += [language for language in own if language not in languages]
        for clause_id in ids:
            citations.setdefault(clause_id, citation(name, version, clause_id))
        for file, text in files:
            if file == "systems.toml" and id_patterns is None:
                id_patterns = record_patterns(text)
            if not _reasoning_file(file):
                continue
            parsed = parse_file(file, text, ids, key, own)
            in_language = EXAMPLES_IN_LANGUAGE.match(file)
            if isinstance(parsed, PlaybookFile):
                settings = settings or parsed.settings
                acknowledgement = acknowledgement or (
                    parsed.acknowledgement if parsed.acknowledgement.phrases else None
                )
                stated += parsed.stated
                for playbook in parsed.playbook:
                    playbooks.setdefault(playbook.intent, playbook)
            elif isinstance(parsed, EscalationFile):
                classifier_threshold = (
                    parsed.classifier_threshold if classifier_threshold is None else classifier_threshold
                )
                for category in parsed.category:
                    categories.setdefault(category.id, category)
            elif isinstance(parsed, ExamplesFile):
                labelled = [Utterance(m.text, frozenset(m.labels)) for m in parsed.message]
                language = in_language.group(1) if in_language else own[0]
                if language == languages[0]:
                    utterances += labelled
                else:
                    in_languages.setdefault(language, []).extend(labelled)
            elif isinstance(parsed, RulesFile):
                disclosure = disclosure or parsed.disclosure
                for name, said in parsed.checks.items():
                    checks.setdefault(name, said)
                for rule in parsed.rule:
                    rules.setdefault(rule.id, rule)
    return Guidance(
        tuple(playbooks.values()),
        settings or PlaybookSettings(),
        tuple(categories.values()),
        0.5 if classifier_threshold is None else classifier_threshold,
        tuple(utterances),
        tuple(rules.values()),
        disclosure or Disclosure(),
        Checks(checks),
        citations,
        id_patterns or (),
        tuple(languages),
        {language: tuple(found) for language, found in in_languages.items()},
        acknowledgement or Acknowledgement(),
        tuple(stated),
    )


def record_patterns(systems_toml: str) -> tuple[tuple[str, str], ...]:
    """(the key it is looked up by, pattern) of each ``[[record]]`` of a systems.toml that has a pattern (the file
    is validated when its pack loads; copilot/action_policy.py reads the rest of it)."""
    try:
        records = tomllib.loads(systems_toml).get("record", [])
    except tomllib.TOMLDecodeError:
        return ()
    return tuple(
        (str(r["key"]), str(r["pattern"])) for r in records if isinstance(r, dict) and r.get("pattern") and r.get("key")
    )
