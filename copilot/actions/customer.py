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
from copilot.actions.judge import EXPRESSION_FAILURES, customer_named, path_value, shown
from copilot.conversation.state import Conversation
from copilot.reasoning.facts import gather

_SEARCH_KEYS = ("customers", "matches", "results", "users")
_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T")
_RELATIONS = (
    "mother|mom|mum|father|dad|parent|husband|wife|partner|spouse|son|daughter|child|brother|sister|grandmother|"
    "grandfather|grandma|grandpa|grandson|granddaughter|aunt|uncle|niece|nephew|cousin|friend|colleague|neighbou?r|"
    "boss|employer|client"
)
_NAMED = re.compile(rf"\bmy\s+(?P<late>late\s+)?(?P<relation>{_RELATIONS})(?:'s)?\b", re.IGNORECASE)
"""A third party in the customer's own words: "my late mother", "my friend's booking"."""
_DECEASED = re.compile(r"\b(?:passed away|passed on|died|deceased|death|funeral|late)\b", re.IGNORECASE)
_THINGS = r"(?:account|membership|subscription|orders?|bookings?|reservations?|profile|plan|card)"
_THEIRS = re.compile(
    rf"\b(?:(?:she|he|they)\s+(?:had|has|have|held|holds|kept)\s+(?:an?\s+|the\s+|some\s+)?(?:\w+\s+){{0,3}}{_THINGS}"
    rf"|(?:her|his|their)\s+(?:\w+\s+){{0,2}}{_THINGS}|my\s+(?:late\s+)?(?:{_RELATIONS})'s\s+(?:\w+\s+){{0,2}}{_THINGS})\b",
    re.IGNORECASE,
)
"""The customer says the account in question is someone else's: "she had an account", "his booking"."""


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


@dataclass(frozen=True)
class Account:
    """A customer account a lookup found: whose it is."""

    id: str
    name: str = ""


@dataclass(frozen=True)
class Parties:
    """Who is who in a conversation: the person writing (the conversation's customer), the accounts the
    lookups found, and the third parties the customer names ("my late mother", "my friend"). An action acts
    on the account the case is about: the named party's when the customer says the account is theirs (and a
    lookup found an account that is not the writer's), otherwise the identified customer's own."""

    writer: str = ""
    """The name of the person writing, as the conversation gives it."""
    accounts: tuple[Account, ...] = ()
    """The accounts the lookups found, oldest first (each once, at its newest)."""
    named: tuple[str, ...] = ()
    """The third parties the customer names, as a rep reads them ("the customer's late mother")."""
    theirs: bool = False
    """The customer said the account in question is a named party's, not their own."""

    def own(self, account: Account) -> bool:
        """Whether the account is the writer's: the same name (case and spacing aside)."""
        return bool(self.writer) and _folded(account.name) == _folded(self.writer)

    @property
    def subject(self) -> Account | None:
        """The account the case is about: the newest one found that fits (None: not found yet)."""
        fitting = [a for a in self.accounts if not (self.theirs and self.own(a))]
        return fitting[-1] if fitting else None

    def excluded(self, account_id: str) -> bool:
        """Whether an action on this account is not the case's: the writer's own while the case is about a
        named party's account."""
        return self.theirs and any(a.id == account_id and self.own(a) for a in self.accounts)

    def whose(self, account_id: str) -> str:
        """Whose account an action acts on, as the card says it ('' when no account is known by that id)."""
        account = next((a for a in self.accounts if a.id == account_id), None)
        if account is None:
            return ""
        holder = f"{account.name}'s account" if account.name else f"account {account.id}"
        if self.own(account):
            return f"for {holder} (the customer's own)"
        return f"for {holder} ({self.named[0]})" if self.theirs else f"for {holder}"


def parties(conversation: Conversation, policy: ActionPolicy) -> Parties:
    """The parties of the conversation as its messages and the pack's customer lookups show them."""
    found: dict[str, Account] = {}
    card = policy.systems.customer
    identifying = {how.tool: how for how in policy.systems.identify}
    tools = set(card.tools if card else ()) | set(identifying)
    for event in conversation.tools:
        record = event.record() if event.kind == "result" and event.name in tools else None
        one = _single(record) if record is not None else None
        if one is None:
            continue
        how = identifying.get(event.name)
        key = path_value(one, card.id) if card is not None and card.id else None
        if key is None and how is not None:
            key = customer_named(how, one, {})
        if key is None and card is not None and card.id_path:
            key = path_value(one, card.id_path)
        if key is None or key == "":
            continue
        names = card.name_paths if card is not None else ()
        name = " ".join(_text(v) for path in names if (v := path_value(one, path)) not in (None, ""))
        found.pop(str(key), None)
        found[str(key)] = Account(str(key), name)
    said = [t.text for t in conversation.turns if t.role == "customer"]
    late: dict[str, bool] = {}
    for text in said:
        for match in _NAMED.finditer(text):
            relation = match.group("relation").lower()
            late[relation] = late.get(relation, False) or bool(match.group("late") or _DECEASED.search(text))
    named = tuple(f"the customer's {'late ' if dead else ''}{relation}" for relation, dead in late.items())
    theirs = bool(named) and any(_THEIRS.search(text) for text in said)
    return Parties(conversation.customer_name or "", tuple(found.values()), tuple(named), theirs)


def _folded(name: str) -> str:
    return " ".join(name.casefold().split())


def _single(record: dict[str, Any]) -> dict[str, Any] | None:
    """The record of an answer: itself, or the one match of a search (None when ambiguous or empty)."""
    matches = next((record[k] for k in _SEARCH_KEYS if isinstance(record.get(k), list)), None)
    if matches is None:
        return record
    return dict(matches[0]) if len(matches) == 1 and isinstance(matches[0], dict) else None


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
        if record is not None and (one := _single(record)) is not None:
            return one
    return None


def _item(item: Any, card: CustomerCard) -> str:
    if not isinstance(item, dict) or not card.item:
        return _text(item)
    return " · ".join(_text(v) for path in card.item if (v := path_value(item, path)) not in (None, ""))


def _text(value: Any) -> str:
    text = shown(value)
    return text[:10] if _ISO_TIME.match(text) else text
