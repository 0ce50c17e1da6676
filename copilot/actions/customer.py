"""The customer behind a conversation, as the connected systems know them.

When the conversation names an order id, an email or the customer, the matching records are looked
up (only with tools an admin pre-approved) and kept as system results in the conversation, so paths,
drafts, verification and guardrails all read the same facts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

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


def lookups(conversation: Conversation) -> list[Lookup]:
    """The lookups the conversation calls for now, most specific first."""
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
