"""Guardrails on actions, written as code: what may run, what needs a second approver, what no one may run.

They are checked when an action is proposed (to enable the approve button) and again right before it
runs, against the system's newest record of the order, so a status that changed in between is caught.
Every verdict that is not a plain ``allowed`` names its rule and the clause it enforces.
The limits below are this demo company's; a declarative layer for admins comes later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from copilot.conversation.state import Conversation

VerdictKind = Literal["allowed", "needs_approval", "blocked"]
APPROVER_ROLE = "lead"
REFUND_LIMITS: Mapping[str, Mapping[str, Decimal]] = {
    "rep": {"USD": Decimal(100), "GBP": Decimal(80), "EUR": Decimal(100)},
    "lead": {"USD": Decimal(1000), "GBP": Decimal(800), "EUR": Decimal(1000)},
}
"""Largest refund each role may approve alone, per currency."""
RETURN_WINDOW_DAYS = 30
ITEM_RETURN_INTENTS = frozenset(
    {
        "damaged_item",
        "wrong_or_missing_item",
        "exchange_size_colour",
        "return_in_window",
        "return_outside_window",
        "warranty_claim",
    }
)
"""Refunds for these intents pay for a returned item, so the return window applies to them."""
WITHDRAWAL_DAYS = 14
CANCELLABLE = frozenset({"pending", "processing"})
REFUND_ARGUMENTS = frozenset({"order_id", "amount", "reason", "idempotency_key", "dry_run"})
ORDER_TOOLS = frozenset({"cancel_order", "reinstate_order", "refund_payment", "update_shipping_address"})


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    reason: str = ""
    """What the rep reads, in plain words; empty for a plain ``allowed``."""
    rule: str = ""
    clause: str = ""
    """The clause id the rule enforces (shown as a citation when a pack provides it)."""
    approver_role: str = ""
    """For ``needs_approval``: the role whose second approval is required."""


ALLOWED = Verdict("allowed")


@dataclass(frozen=True)
class Order:
    """The fields guardrails read from a system's order record."""

    order_id: str
    status: str
    total: Decimal
    """What was taken from the customer (captured), which is what can be refunded."""
    currency: str
    refunded: Decimal
    delivered: date | None
    chargeback: bool
    price: Decimal = Decimal(0)
    """The order's own total; less than ``total`` when the customer was charged twice."""

    @property
    def refundable(self) -> Decimal:
        return max(self.total - self.refunded, Decimal(0))

    @property
    def overcharge(self) -> Decimal:
        return max(self.total - max(self.price, self.refunded), Decimal(0)) if self.price else Decimal(0)


def _decimal(value: object) -> Decimal:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return Decimal(0)


def _day(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).date()
    except ValueError:
        return None


def order_from(record: Mapping[str, Any]) -> Order:
    shipment = record.get("shipment")
    shipment = shipment if isinstance(shipment, dict) else {}
    refunds = record.get("refunds")
    refunds = refunds if isinstance(refunds, list) else []
    refunded = (
        _decimal(record["refunded"])
        if "refunded" in record
        else sum((_decimal(r.get("amount")) for r in refunds if isinstance(r, dict)), Decimal(0))
    )
    paid = record.get("captured", record.get("total"))  # what was actually taken is what can be refunded
    return Order(
        str(record.get("order_id", "")),
        str(record.get("status", "")),
        _decimal(paid),
        str(record.get("currency", "USD")),
        refunded,
        _day(shipment.get("delivered_at")) or _day(record.get("delivered_at")),
        bool(record.get("chargeback")),
        _decimal(record.get("total")),
    )


def latest_order(conversation: Conversation, order_id: str) -> Order | None:
    """The newest order record for ``order_id`` among the conversation's system results."""
    record = next(
        (r for r in reversed(conversation.results()) if r.get("order_id") == order_id and "status" in r), None
    )
    return order_from(record) if record is not None else None


def check(
    tool: str,
    arguments: Mapping[str, Any],
    *,
    conversation: Conversation,
    intent: str = "",
    role: str = "rep",
    today: date | None = None,
    identity_verified: bool = False,
) -> Verdict:
    """The verdict for running ``tool(arguments)`` in this conversation by a user of ``role``."""
    if tool not in ORDER_TOOLS:
        return ALLOWED
    order_id = str(arguments.get("order_id", ""))
    order = latest_order(conversation, order_id)
    if order is None:
        return Verdict(
            "blocked",
            f"Look up order {order_id or '(none)'} in the system first; actions use the "
            "system's record, never figures from the chat.",
            "order-looked-up",
            "security.verification-required",
        )
    today = today or (
        conversation.turns[-1].ts.date() if conversation.turns and conversation.turns[-1].ts else date.today()
    )
    if tool == "cancel_order":
        return _cancel(order)
    if tool == "refund_payment":
        return _refund(order, arguments, conversation.jurisdiction, intent, role, today)
    if tool == "update_shipping_address":
        return _address(order, identity_verified)
    return ALLOWED


def _cancel(order: Order) -> Verdict:
    if order.status not in CANCELLABLE:
        return Verdict(
            "blocked",
            f"Order {order.order_id} is {order.status}; only pending or processing orders can "
            "be cancelled. Offer to refuse the delivery or return it instead.",
            "cancel-before-shipment",
            "cancellations.after-shipping",
        )
    return ALLOWED


def _refund(
    order: Order, arguments: Mapping[str, Any], jurisdiction: str, intent: str, role: str, today: date
) -> Verdict:
    extra = sorted(set(arguments) - REFUND_ARGUMENTS)
    if extra:
        return Verdict(
            "blocked",
            f"Refunds go only to the original payment method; '{extra[0]}' cannot be set.",
            "refund-original-method",
            "refunds.original-method",
        )
    if order.chargeback:
        return Verdict(
            "blocked",
            "A chargeback has been filed on this order; the disputes team handles it, so no parallel refund.",
            "no-refund-after-chargeback",
            "billing.chargeback-filed",
        )
    amount = _decimal(arguments.get("amount"))
    if amount <= 0 or amount > order.refundable:
        return Verdict(
            "blocked",
            f"The refund must be more than 0 and at most what is left to refund ({order.refundable} {order.currency}).",
            "refund-within-paid",
            "refunds.partial",
        )
    if intent in ITEM_RETURN_INTENTS and order.delivered and (today - order.delivered).days > RETURN_WINDOW_DAYS:
        return Verdict(
            "blocked",
            f"Delivered {(today - order.delivered).days} days ago, outside the "
            f"{RETURN_WINDOW_DAYS}-day return window; offer store credit or ask a team lead for an exception.",
            "refund-in-window",
            "returns.window",
        )
    if (
        jurisdiction.split("-")[0] == "EU"
        and order.delivered
        and (today - order.delivered).days <= WITHDRAWAL_DAYS
        and intent in ITEM_RETURN_INTENTS
        and amount < order.refundable
    ):
        return Verdict(
            "blocked",
            "Within the EU withdrawal period the refund must be in full; a partial refund is not allowed here.",
            "eu-withdrawal-full-refund",
            "returns.eu-withdrawal",
        )
    limit = REFUND_LIMITS.get(role, {}).get(order.currency.upper(), Decimal(0))
    if amount > limit:
        return Verdict(
            "needs_approval",
            f"{amount} {order.currency} is above the {role} limit of {limit}; a {APPROVER_ROLE} must approve too.",
            f"refund-limit-{role}",
            "goodwill.lead-limit",
            APPROVER_ROLE,
        )
    return ALLOWED


def _address(order: Order, identity_verified: bool) -> Verdict:
    if not identity_verified:
        return Verdict(
            "blocked",
            "Verify the customer's identity before changing the delivery address.",
            "identity-before-change",
            "security.verification-required",
        )
    if order.status not in CANCELLABLE:
        return Verdict(
            "blocked",
            f"Order {order.order_id} is {order.status}; the address can only change before it ships.",
            "address-before-shipment",
            "shipping.address-change",
        )
    return ALLOWED
