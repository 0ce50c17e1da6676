"""What is known about the case so far: names and numbers from the messages, and the fields of system
lookups (tool results). Paths, drafts and verification all read the same facts.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from copilot.conversation.state import Conversation, ToolEvent, Turn
from copilot.reasoning.rules import identity_verified
from copilot.reasoning.signals import extract_entities

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


@dataclass(frozen=True)
class Facts:
    """Fact name → display value, and where each came from (``conversation`` or a tool's name)."""

    values: dict[str, str] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        return self.values.get(name)

    def system_texts(self) -> list[str]:
        """Values that came from connected systems: they back the figures a reply repeats."""
        return [f"{name} {value}" for name, value in self.values.items() if self.sources.get(name) != "conversation"]


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


def gather(conversation: Conversation, seq: int | None = None, id_patterns: Sequence[tuple[str, str]] = ()) -> Facts:
    """Facts up to ``seq`` (all when None); a later mention or lookup replaces an earlier one. ``id_patterns``
    (fact name, regular expression) are the company's ids to find in the messages (Guidance.id_patterns)."""
    patterns = [(name, _compiled(pattern)) for name, pattern in id_patterns]
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
