"""The customer behind a conversation, as the connected systems know them.

When the conversation names a record's id (by the id patterns of the pack's systems.toml) or the facts
give a lookup's arguments, the records are looked up (only with tools an admin pre-approved) and kept as
system results in the conversation, so paths, drafts, verification and guardrails all read the same facts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from copilot.action_policy import ActionPolicy, CustomerCard
from copilot.actions.judge import EXPRESSION_FAILURES, path_value, shown
from copilot.conversation.state import Conversation
from copilot.reasoning.facts import gather

_SEARCH_KEYS = ("customers", "matches", "results", "users")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")


@dataclass(frozen=True)
class Lookup:
    tool: str
    arguments: dict[str, Any]

    @property
    def key(self) -> str:
        return json.dumps([self.tool, self.arguments], sort_keys=True)


@dataclass(frozen=True)
class CustomerView:
    """What the panel's Customer section shows."""

    title: tuple[str, ...] = ()
    """The customer's first line, field by field (name, id, email)."""
    items: tuple[str, ...] = ()
    """One line per item of the customer's list (orders, reservations), newest as the system lists them."""
    stale: bool = False
    """A lookup failed: what is shown may be out of date (or missing); the rep can retry."""
    message: str = ""


def lookups(conversation: Conversation, policy: ActionPolicy) -> list[Lookup]:
    """The lookups the conversation calls for now, as the pack's systems.toml describes them: records whose
    ids (by their kind's pattern) the conversation names, in the order of their last mention (the record
    the conversation is about now is read last, so its fields are the newest facts); the ``[[lookup]]``
    calls whose arguments the facts give; the identifying lookups whose fields are all known."""
    wanted: list[Lookup] = []
    texts = [turn.text for turn in conversation.turns]
    for kind in policy.systems.record:
        if kind.pattern:
            pattern = re.compile(kind.pattern)
            wanted += [Lookup(kind.tool, {kind.key: m.group()}) for text in texts for m in pattern.finditer(text)]
    facts = gather(conversation, id_patterns=policy.id_patterns)
    values = {"facts": dict(facts.values), "customer_name": conversation.customer_name or ""}
    for lookup in policy.systems.lookup:
        try:
            if lookup.when and policy.program(lookup.when).execute(policy.context(values)) is not True:
                continue
            context = policy.context(values)
            arguments = {name: policy.program(e).execute(context) for name, e in lookup.arguments.items()}
        except EXPRESSION_FAILURES:
            continue
        if all(v is not None and v != "" for v in arguments.values()):
            wanted.append(Lookup(lookup.tool, arguments))
    for how in policy.systems.identify:
        given = {name: facts.get(name) for name in how.by}
        if all(given.values()):
            wanted.append(Lookup(how.tool, given))
    last = {lookup.key: n for n, lookup in enumerate(wanted)}
    return [lookup for n, lookup in enumerate(wanted) if last[lookup.key] == n]


def view(conversation: Conversation, policy: ActionPolicy, stale: bool = False, message: str = "") -> CustomerView:
    """The customer as the newest answer of the pack's customer card tools shows them."""
    card = policy.systems.customer
    customer = _newest(conversation, card) if card is not None else None
    if card is None or customer is None:
        return CustomerView((), (), stale, message)
    title = tuple(_text(value) for path in card.title if (value := path_value(customer, path)) not in (None, ""))
    listed = path_value(customer, card.items) if card.items else None
    items = tuple(_item(item, card) for item in listed) if isinstance(listed, list) else ()
    return CustomerView(title, items, stale, message)


def _newest(conversation: Conversation, card: CustomerCard) -> dict[str, Any] | None:
    """The newest answer of a card tool; a search answer counts when it holds exactly one match."""
    for event in reversed(conversation.tools):
        record = event.record() if event.kind == "result" and event.name in card.tools else None
        if record is None:
            continue
        matches = next((record[k] for k in _SEARCH_KEYS if isinstance(record.get(k), list)), None)
        if matches is None:
            return record
        if len(matches) == 1 and isinstance(matches[0], dict):
            return dict(matches[0])
    return None


def _item(item: Any, card: CustomerCard) -> str:
    if not isinstance(item, dict) or not card.item:
        return _text(item)
    return " · ".join(_text(v) for path in card.item if (v := path_value(item, path)) not in (None, ""))


def _text(value: Any) -> str:
    text = shown(value)
    return text[:10] if _ISO_TIME.match(text) else text
