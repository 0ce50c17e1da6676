"""What is known about the case so far: names and numbers from the messages, what the customer stated in words
(the pack's ``[[stated]]`` facts), and the fields of system lookups (tool results). Paths, drafts and verification
all read the same facts.

Values are kept as the systems wrote them (``35.0``, ``2026-11-12T09:30:00Z``), because paths compare them and
verification reads them; ``Facts.shown`` gives the form a person reads (``$35.00``, ``12 November 2026``).
"""

from __future__ import annotations

import calendar
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation

from copilot.conversation.language import reading_languages
from copilot.conversation.state import Conversation, ToolEvent, Turn
from copilot.reasoning.guidance import StatedFact
from copilot.reasoning.rules import identity_verified
from copilot.reasoning.signals import extract_entities, fold, pack_pattern

_SYMBOL = {"USD": "$", "GBP": "£", "EUR": "€"}
_SEARCH_KEYS = ("customers", "matches", "results")


def money(amount: object, currency: str) -> str:
    """``$86.50``; an amount that is not a number is returned as written."""
    try:
        value = Decimal(str(amount))
    except InvalidOperation:
        return str(amount)
    symbol = _SYMBOL.get(currency.upper())
    return f"{symbol}{value:.2f}" if symbol else f"{value:.2f} {currency}".strip()


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_DECIMAL = re.compile(r"-?\d+\.\d+")
"""A number written with a fraction (``35.0``): in a case whose records name a currency, an amount of it."""


@dataclass(frozen=True)
class DateStyle:
    """How dates read for a person, in one language (the pack's ``date_format`` and month names)."""

    format: str = "{day} {month} {year}"
    months: tuple[str, ...] = tuple(calendar.month_name[1:])


ENGLISH_DATES = DateStyle()


def human(value: str, currency: str | None, dates: DateStyle = ENGLISH_DATES) -> str:
    """``value`` as a person reads it: an ISO date or timestamp as a date in ``dates``' style, a number with a
    fraction as money when the case names a ``currency``; anything else as it is."""
    if _ISO_DATE.fullmatch(value):
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return dates.format.format(day=when.day, month=dates.months[when.month - 1], year=when.year)
    if currency and _DECIMAL.fullmatch(value):
        return money(value, currency)
    return value


@dataclass(frozen=True)
class Facts:
    """Fact name → value as the messages and systems gave it, and where each came from (``conversation``,
    ``customer`` for what the customer stated in words, or a tool's name)."""

    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def shown(self, name: str, dates: DateStyle = ENGLISH_DATES) -> str | None:
        """The fact as a person reads it (``human``), in the currency the case's records name."""
        value = self.values.get(name)
        return None if value is None else human(value, self.values.get("currency"), dates)

    def from_systems(self, name: str) -> bool:
        """Whether a connected system gave the fact (not the messages, not the customer's words)."""
        return self.sources.get(name) not in (None, "conversation", "customer")

    def system_texts(self) -> list[str]:
        """Values that came from connected systems: they back the figures a reply repeats."""
        return [f"{name} {value}" for name, value in self.values.items() if self.from_systems(name)]


def _single_match(result: dict[str, object]) -> dict[str, object]:
    """The fields of the one record in a search result (``{"customers": [{...}]}``); none when it is ambiguous."""
    for key in _SEARCH_KEYS:
        found = result.get(key)
        if isinstance(found, list) and len(found) == 1 and isinstance(found[0], dict):
            return dict(found[0])
    return {}


@functools.lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _stated(turn: Turn, asked: str, stated: Sequence[StatedFact], languages: tuple[str, ...]) -> dict[str, str]:
    """The facts a customer ``turn`` states in words, read in its language; ``asked``: the rep's message before it."""
    found: dict[str, str] = {}
    reading = reading_languages(turn.text, languages)
    for fact in stated:
        pattern = fact.pattern(reading)
        said = pattern.search(fold(turn.text)) if pattern else None
        if said is None:
            continue
        question = _asked(fact.asked, fact.asked_by_language, reading)
        if question is None or question.search(fold(asked)):
            found[fact.fact] = fact.value or turn.text[said.start() : said.end()]
    return found


def _asked(
    phrases: tuple[str, ...], by_language: dict[str, tuple[str, ...]], languages: tuple[str, ...]
) -> re.Pattern[str] | None:
    """The question a stated fact answers: the default language's ``phrases`` with those of ``languages``."""
    return pack_pattern(phrases + tuple(p for code in languages for p in by_language.get(code, ())))


def gather(
    conversation: Conversation,
    seq: int | None = None,
    id_patterns: Sequence[tuple[str, str]] = (),
    stated: Sequence[StatedFact] = (),
    languages: tuple[str, ...] = ("en",),
) -> Facts:
    """Facts up to ``seq`` (all when None); a later mention or lookup replaces an earlier one. ``id_patterns``
    (fact name, regular expression) are the company's ids to find in the messages (Guidance.id_patterns);
    ``stated`` the facts customers state in words, read in the pack's ``languages``."""
    patterns = [(name, _compiled(pattern)) for name, pattern in id_patterns]
    asked = ""
    values: dict[str, str] = {}
    sources: dict[str, str] = {}

    def put(name: str, value: object, source: str) -> None:
        if value is None or value == "" or isinstance(value, (dict, list)):
            return
        values[name] = "yes" if value is True else "no" if value is False else str(value)
        sources[name] = source

    if conversation.customer_name:
        put("customer_name", conversation.customer_name, "conversation")
        put("customer_first_name", conversation.customer_name.split()[0], "conversation")
    limit = seq if seq is not None else 10**9
    events: list[Turn | ToolEvent] = [t for t in conversation.turns if t.seq <= limit]
    events += [t for t in conversation.tools if t.seq <= limit and t.kind == "result"]
    for item in sorted(events, key=lambda e: e.seq):
        if isinstance(item, Turn):
            found = extract_entities(item.text)
            if found.order_ids:
                put("order_id", found.order_ids[-1], "conversation")
            for name, pattern in patterns:
                if mentioned := pattern.findall(item.text):
                    put(name, mentioned[-1] if isinstance(mentioned[-1], str) else mentioned[-1][0], "conversation")
            if found.emails:
                put("email", found.emails[-1], "conversation")
            if found.money and item.role == "customer":
                put("amount", found.money[-1].text, "conversation")
            if item.role == "rep":
                asked = item.text
            elif stated:
                for name, value in _stated(item, asked, stated, languages).items():
                    put(name, value, "customer")
            continue
        result = item.record()
        if result is not None:
            for name, value in {**_single_match(result), **result}.items():
                put(name, value, item.name)
            if "total" in result and "currency" in result:
                put("order_total", money(result["total"], str(result["currency"])), item.name)
    if identity_verified([t.text for t in conversation.turns if t.role == "rep" and t.seq <= limit]):
        put("identity_verified", True, "conversation")
    return Facts(values, sources)
