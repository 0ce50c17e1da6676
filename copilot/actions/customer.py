"""The customer behind a conversation, as the connected systems know them.

When the conversation names an order id, an email or the customer, the matching records are looked
up (only with tools an admin pre-approved) and kept as system results in the conversation, so paths,
drafts, verification and guardrails all read the same facts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from copilot.action_policy import ActionPolicy
from copilot.conversation.state import Conversation
from copilot.reasoning.facts import gather


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

    customer: dict[str, Any] | None = None
    orders: tuple[dict[str, Any], ...] = ()
    stale: bool = False
    """A lookup failed: what is shown may be out of date (or missing); the rep can retry."""
    message: str = ""


def lookups(conversation: Conversation, policy: ActionPolicy | None = None) -> list[Lookup]:
    """The lookups the conversation calls for now, most specific first: as the pack's systems.toml
    describes them, or the bundled demo store's when no pack in force describes its systems."""
    if policy is not None and (policy.systems.record or policy.systems.identify):
        return _described(conversation, policy)
    facts = gather(conversation)
    wanted: list[Lookup] = []
    if order_id := facts.get("order_id"):
        wanted.append(Lookup("get_order", {"order_id": order_id}))
    if customer_id := facts.get("customer_id"):
        wanted.append(Lookup("get_customer", {"customer_id": customer_id}))
    elif facts.get("email"):
        wanted.append(Lookup("find_customer", {"query": facts.get("email")}))
    elif conversation.customer_name:
        wanted.append(Lookup("find_customer", {"query": conversation.customer_name}))
    return wanted


def _described(conversation: Conversation, policy: ActionPolicy) -> list[Lookup]:
    """Records whose ids (by their kind's pattern) the conversation names, newest mention first, and the
    identifying lookups whose fields are all known."""
    wanted: list[Lookup] = []
    texts = [turn.text for turn in reversed(conversation.turns)]
    for kind in policy.systems.record:
        if kind.pattern:
            pattern = re.compile(kind.pattern)
            wanted += [Lookup(kind.tool, {kind.key: m.group()}) for text in texts for m in pattern.finditer(text)]
    facts = gather(conversation)
    for how in policy.systems.identify:
        values = {name: facts.get(name) for name in how.by}
        if all(values.values()):
            wanted.append(Lookup(how.tool, values))
    return list({lookup.key: lookup for lookup in wanted}.values())


def view(conversation: Conversation, stale: bool = False, message: str = "") -> CustomerView:
    """The customer record and recent orders from the newest lookups."""
    customer = next(reversed(conversation.results("get_customer")), None)
    if customer is None:
        matches = [
            m for r in conversation.results("find_customer") for m in r.get("customers", []) if isinstance(m, dict)
        ]
        customer = matches[-1] if len(matches) == 1 else None
    orders = tuple(o for o in (customer or {}).get("recent_orders", []) if isinstance(o, dict))
    return CustomerView(customer, orders, stale, message)
