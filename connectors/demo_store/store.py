"""The Northwind demo back office: tools over a SQLite file, with real, refusable state changes.

Every write takes an idempotency key and runs in one ``BEGIN IMMEDIATE`` transaction that checks
the key, applies the change, logs the effect and records the result, so a retried call (same key,
same arguments) returns the first result and changes nothing twice, across threads and processes.
A dry run executes the very same code and rolls it back, so it refuses exactly what the real call
would refuse. Refusals are ``BusinessRefusal`` with a sentence a rep can read to the customer; malformed
arguments are ``ValueError`` naming the argument.
"""

from __future__ import annotations

import json
import math
import sqlite3
import threading
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema

from base.errors import BusinessRefusal
from base.sqlite import use_wal
from connectors.demo_store.schema import DDL, MIGRATIONS, SCHEMA_VERSION
from connectors.demo_store.seed import seed, seed_added

Clock = Callable[[], datetime]
Change = dict[str, Any]


@dataclass(frozen=True)
class ToolSpec:
    """What a client needs to offer one tool: its contract, and how risky and reversible it is."""

    name: str
    description: str
    input_schema: Mapping[str, Any]
    read_only: bool
    compensated_by: str | None = None
    """The tool that undoes this one, where one exists."""
    destructive: bool = False
    """True when the tool changes or removes existing state rather than only adding records."""


# --- Argument schemas -------------------------------------------------------------------------


def _text(description: str, max_length: int = 200) -> dict[str, Any]:
    return {"type": "string", "minLength": 1, "maxLength": max_length, "description": description}


def _object(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": required, "additionalProperties": False}


def _write(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    """A write tool's schema: its own arguments plus the idempotency key and the dry-run switch."""
    return _object(
        {
            **properties,
            "idempotency_key": _text("Unique per intended change; retrying with the same key never repeats it.", 120),
            "dry_run": {
                "type": "boolean",
                "default": False,
                "description": "Validate and list the changes without writing anything.",
            },
        },
        [*required, "idempotency_key"],
    )


_ORDER_ID = _text("Order id, e.g. NW-11730.", 20)
_CUSTOMER_ID = _text("Customer id, e.g. C-1001.", 20)
_REASON = _text("Why, in the rep's words; kept on the record.", 500)
_AMOUNT = {"type": "number", "exclusiveMinimum": 0, "description": "In the order's currency."}
_ADDRESS = _object(
    {
        "name": _text("Recipient name."),
        "line1": _text("Street and number."),
        "line2": {"type": "string", "maxLength": 200, "description": "Flat, floor, building (optional)."},
        "city": _text("City."),
        "region": {"type": "string", "maxLength": 60, "description": "State or region (optional)."},
        "postal_code": _text("Postal code.", 20),
        "country": {"type": "string", "pattern": "^[A-Z]{2}$", "description": "Two-letter country code, e.g. DE."},
    },
    ["name", "line1", "city", "postal_code", "country"],
)

SPECS: tuple[ToolSpec, ...] = (
    ToolSpec(
        "find_customer",
        "Find customers by email, customer id, order id, or whole or partial name (at most 10).",
        _object({"query": _text("Email, customer id, order id or name.")}, ["query"]),
        read_only=True,
    ),
    ToolSpec(
        "get_customer",
        "A customer's record with their 5 most recent orders.",
        _object({"customer_id": _CUSTOMER_ID}, ["customer_id"]),
        read_only=True,
    ),
    ToolSpec(
        "get_order",
        "An order with items, payment (method, brand, last 4 digits), charges, shipment, refunds and address.",
        _object({"order_id": _ORDER_ID}, ["order_id"]),
        read_only=True,
    ),
    ToolSpec(
        "list_orders",
        "A customer's orders, newest first.",
        _object(
            {"customer_id": _CUSTOMER_ID, "limit": {"type": "integer", "minimum": 1, "maximum": 50, "default": 10}},
            ["customer_id"],
        ),
        read_only=True,
    ),
    ToolSpec(
        "list_tickets",
        "A customer's support tickets and escalations, newest first.",
        _object({"customer_id": _CUSTOMER_ID}, ["customer_id"]),
        read_only=True,
    ),
    ToolSpec(
        "cancel_order",
        "Cancel an order that is pending or processing. A card authorisation is voided and any amount "
        "already charged is refunded in full to the original payment method.",
        _write({"order_id": _ORDER_ID, "reason": _REASON}, ["order_id", "reason"]),
        read_only=False,
        compensated_by="reinstate_order",
        destructive=True,
    ),
    ToolSpec(
        "reinstate_order",
        "Undo cancel_order: the order returns to its previous status and its payment is taken again.",
        _write({"order_id": _ORDER_ID}, ["order_id"]),
        read_only=False,
        compensated_by="cancel_order",
        destructive=True,
    ),
    ToolSpec(
        "refund_payment",
        "Refund part or all of what was charged on an order, always to the original payment method, "
        "in the order's currency.",
        _write(
            {
                "order_id": _ORDER_ID,
                "amount": _AMOUNT,
                "reason": _REASON,
            },
            ["order_id", "amount", "reason"],
        ),
        read_only=False,
        destructive=True,
    ),
    ToolSpec(
        "update_shipping_address",
        "Change the delivery address of an order that has not shipped (pending or processing).",
        _write({"order_id": _ORDER_ID, "address": _ADDRESS}, ["order_id", "address"]),
        read_only=False,
        compensated_by="update_shipping_address",
        destructive=True,
    ),
    ToolSpec(
        "create_ticket",
        "Open a support ticket for a customer, optionally about one of their orders.",
        _write(
            {
                "customer_id": _CUSTOMER_ID,
                "subject": _text("One line."),
                "body": _text("What happened and what was agreed.", 5000),
                "priority": {"type": "string", "enum": ["low", "normal", "high", "urgent"]},
                "order_id": _ORDER_ID,
            },
            ["customer_id", "subject", "body", "priority"],
        ),
        read_only=False,
    ),
    ToolSpec(
        "escalate_to_queue",
        "Hand a customer's case to a specialist queue, such as bereavement, fraud, accessibility or supervisor.",
        _write(
            {
                "customer_id": _CUSTOMER_ID,
                "queue": _text("Queue name.", 60),
                "summary": _text("Handoff note: the issue, what was tried, what the customer wants.", 5000),
                "conversation_id": _text("The conversation this came from.", 120),
            },
            ["customer_id", "queue", "summary"],
        ),
        read_only=False,
    ),
    ToolSpec(
        "list_payments",
        "The payments of an order (charges and authorisation holds), which of them duplicate another, and the "
        "disputes and provisional credits on it.",
        _object({"order_id": _ORDER_ID}, ["order_id"]),
        read_only=True,
    ),
    ToolSpec(
        "issue_provisional_credit",
        "Give the customer store credit for a disputed amount while the dispute is investigated (at most what "
        "the order charged; one open credit per order).",
        _write({"order_id": _ORDER_ID, "amount": _AMOUNT, "reason": _REASON}, ["order_id", "amount", "reason"]),
        read_only=False,
        compensated_by="reverse_provisional_credit",
    ),
    ToolSpec(
        "reverse_provisional_credit",
        "Take back a provisional credit that was issued (refused once the customer has spent it).",
        _write({"credit_id": _text("Provisional credit id, e.g. PC-9001.", 20)}, ["credit_id"]),
        read_only=False,
        destructive=True,
    ),
    ToolSpec(
        "file_dispute",
        "Dispute one of an order's payments (a duplicate charge or a hold the bank still shows) with the card "
        "processor.",
        _write(
            {"order_id": _ORDER_ID, "payment_id": _text("Payment id, e.g. PM-20417.", 20), "reason": _REASON},
            ["order_id", "payment_id", "reason"],
        ),
        read_only=False,
        compensated_by="withdraw_dispute",
    ),
    ToolSpec(
        "withdraw_dispute",
        "Withdraw a dispute filed with the card processor.",
        _write({"dispute_id": _text("Dispute id, e.g. DP-4001.", 20)}, ["dispute_id"]),
        read_only=False,
        destructive=True,
    ),
    ToolSpec(
        "send_confirmation",
        "Email the customer (at the address on file) a confirmation of what was done.",
        _write(
            {
                "customer_id": _CUSTOMER_ID,
                "subject": _text("One line."),
                "body": _text("The message.", 5000),
                "order_id": _ORDER_ID,
            },
            ["customer_id", "subject", "body"],
        ),
        read_only=False,
    ),
    ToolSpec(
        "schedule_followup",
        "Remind the support team to get back to a customer on a date.",
        _write(
            {
                "customer_id": _CUSTOMER_ID,
                "due_date": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
                "note": _text("What to check then.", 2000),
                "order_id": _ORDER_ID,
            },
            ["customer_id", "due_date", "note"],
        ),
        read_only=False,
        compensated_by="cancel_followup",
    ),
    ToolSpec(
        "cancel_followup",
        "Cancel a scheduled follow-up reminder.",
        _write({"followup_id": _text("Follow-up id, e.g. FU-8001.", 20)}, ["followup_id"]),
        read_only=False,
        destructive=True,
    ),
)

_SPEC_BY_NAME = {spec.name: spec for spec in SPECS}
_VALIDATORS = {spec.name: jsonschema.Draft202012Validator(spec.input_schema) for spec in SPECS}
_CANCELLABLE = ("pending", "processing")
_STATUS_PHRASE = {
    "pending": "is pending",
    "processing": "is processing",
    "shipped": "has shipped",
    "delivered": "has been delivered",
    "returned": "was returned",
    "cancelled": "is cancelled",
}


@dataclass
class _Applied:
    """What a write handler did: the entity it acted on (logged in ``effects``) and the tool's result."""

    entity_id: str
    result: dict[str, Any]


class DemoStore:
    """The demo back office on one SQLite file; safe to share between threads.

    One lock serialises every call on the shared connection: a read must never see a dry run's
    rows before they are rolled back. ``BEGIN IMMEDIATE`` serialises writers across processes.
    """

    def __init__(self, path: Path, now: Clock | None = None) -> None:
        self._now = now or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30)
        self._db.row_factory = sqlite3.Row
        self._db.create_function("fold", 1, _fold, deterministic=True)
        use_wal(self._db)
        self._db.execute("PRAGMA foreign_keys=ON")
        self._ensure_seeded()
        self._read_handlers: dict[str, Callable[..., dict[str, Any]]] = {
            s.name: getattr(self, f"_{s.name}") for s in SPECS if s.read_only
        }
        self._write_handlers: dict[str, Callable[..., _Applied]] = {
            s.name: getattr(self, f"_{s.name}") for s in SPECS if not s.read_only
        }

    def tools(self) -> list[ToolSpec]:
        return list(SPECS)

    def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Run one tool. Raises BusinessRefusal for a refusal, ValueError for arguments it cannot accept."""
        spec = _SPEC_BY_NAME.get(tool)
        if spec is None:
            raise ValueError(f"tool: there is no tool named {tool!r}")
        args = _validated(tool, arguments)
        with self._lock:
            if spec.read_only:
                return self._read_handlers[tool](**args)
            return self._run_write(tool, args)

    def count_effects(self, tool: str | None = None) -> int:
        """Applied side effects, optionally of one tool: a replayed or refused call adds none."""
        with self._lock:
            if tool is None:
                return int(self._scalar("SELECT COUNT(*) FROM effects"))
            return int(self._scalar("SELECT COUNT(*) FROM effects WHERE tool = ?", tool))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # --- Plumbing ---------------------------------------------------------------------------

    def _ensure_seeded(self) -> None:
        if self._db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]  # a racing process may have seeded it
            if version == 0:
                for statement in _statements(DDL):
                    self._db.execute(statement)
                seed(self._db)
            for number, added in MIGRATIONS:
                if version < number:
                    for statement in _statements(added):
                        self._db.execute(statement)
                    seed_added(self._db, number)
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    def _run_write(self, tool: str, args: dict[str, Any]) -> dict[str, Any]:
        """Key check, change, effect log and key record in one transaction; a dry run or a refusal rolls back."""
        dry_run = args.pop("dry_run", False)
        key = args.pop("idempotency_key")
        arguments_json = json.dumps(args, sort_keys=True, ensure_ascii=False)
        self._db.execute("BEGIN IMMEDIATE")
        try:
            replayed = self._replayed(key, tool, arguments_json)
            if replayed is not None:
                self._db.execute("ROLLBACK")
                return {"dry_run": True, "changes": [], "replayed": True} if dry_run else replayed
            changes: list[Change] = []
            applied = self._write_handlers[tool](changes=changes, **args)
            if dry_run:
                self._db.execute("ROLLBACK")
                return {"dry_run": True, "changes": changes}
            refused = self._processor_refusal(tool, args)
            if refused is not None:  # the store's own rules passed; the card processor says no
                self._db.execute("ROLLBACK")  # none of the call's changes stand, but the refusal is counted
                self._db.execute(
                    "UPDATE processor_refusals SET refusals_left = refusals_left - 1 WHERE rowid = ?", (refused[0],)
                )
                raise BusinessRefusal(refused[1])
            result = applied.result | {"changes": changes}
            at = self._stamp()
            self._db.execute(
                "INSERT INTO effects (tool, idempotency_key, entity_id, at) VALUES (?, ?, ?, ?)",
                (tool, key, applied.entity_id, at),
            )
            self._db.execute(
                "INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)",
                (key, tool, arguments_json, json.dumps(result, ensure_ascii=False), at),
            )
            self._db.execute("COMMIT")
            return result
        except BaseException:
            if self._db.in_transaction:
                self._db.execute("ROLLBACK")
            raise

    def _replayed(self, key: str, tool: str, arguments_json: str) -> dict[str, Any] | None:
        """The recorded result of this very request, or None if the key is new; ValueError if it meant another."""
        recorded = self._one("SELECT tool, arguments_json, result_json FROM idempotency WHERE key = ?", key)
        if recorded is None:
            return None
        if (recorded["tool"], recorded["arguments_json"]) != (tool, arguments_json):
            raise ValueError(
                f"idempotency_key {key!r} was already used for {recorded['tool']} with other arguments; "
                "use a new key for a new request"
            )
        result: dict[str, Any] = json.loads(recorded["result_json"])
        return result | {"replayed": True}

    def _processor_refusal(self, tool: str, args: Mapping[str, Any]) -> tuple[int, str] | None:
        """(row id, message) of the card processor's refusal of this real call (``processor_refusals``), or None."""
        for row in self._all(
            "SELECT rowid, argument, value, message FROM processor_refusals WHERE tool = ? AND refusals_left > 0", tool
        ):
            if str(args.get(row["argument"], "")).upper() == row["value"].upper():
                return int(row["rowid"]), str(row["message"])
        return None

    def refuse_next(self, tool: str, argument: str, value: str, times: int, message: str) -> None:
        """Make the card processor refuse the next ``times`` real calls of ``tool`` whose ``argument`` is ``value``
        (a deterministic outage for demos and tests)."""
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO processor_refusals VALUES (?, ?, ?, ?, ?)",
                (tool, argument, value, times, message),
            )

    def _stamp(self) -> str:
        moment = self._now()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def _one(self, sql: str, *params: Any) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self._db.execute(sql, params).fetchone()
        return row

    def _scalar(self, sql: str, *params: Any) -> Any:
        return self._db.execute(sql, params).fetchone()[0]

    def _all(self, sql: str, *params: Any) -> list[sqlite3.Row]:
        return self._db.execute(sql, params).fetchall()

    def _customer_row(self, customer_id: str) -> sqlite3.Row:
        row = self._one("SELECT * FROM customers WHERE id = ?", customer_id.upper())
        if row is None:
            raise BusinessRefusal(f"There is no customer {customer_id}.")
        return row

    def _order_row(self, order_id: str) -> sqlite3.Row:
        row = self._one("SELECT * FROM orders WHERE id = ?", order_id.upper())
        if row is None:
            raise BusinessRefusal(f"There is no order {order_id}.")
        return row

    def _next_id(self, table: str, prefix: str, first: int) -> str:
        highest = self._scalar(f"SELECT MAX(CAST(substr(id, {len(prefix) + 1}) AS INTEGER)) FROM {table}")
        return f"{prefix}{(highest or first - 1) + 1}"

    def _set(self, changes: list[Change], entity: str, table: str, entity_id: str, **values: Any) -> None:
        """Update columns of one row, recording each change as the rep will see it (timestamps aside)."""
        before = self._db.execute(f"SELECT * FROM {table} WHERE id = ?", (entity_id,)).fetchone()
        for column, after in values.items():
            if not column.endswith("_at"):
                shown_before, shown_after = _shown(column, before[column]), _shown(column, after)
                changes.append(_change(entity, entity_id, column, shown_before, shown_after))
        assignments = ", ".join(f"{column} = ?" for column in values)
        self._db.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*values.values(), entity_id))

    def _payments(self, order_id: str) -> list[sqlite3.Row]:
        return self._all("SELECT * FROM payments WHERE order_id = ? ORDER BY created_at, id", order_id)

    def _money_state(self, order_id: str) -> tuple[int, int]:
        """(captured, refunded) in cents: what a refund may still draw on is their difference."""
        captured = sum(p["amount_cents"] for p in self._payments(order_id) if p["status"] == "captured")
        refunded = self._scalar(
            "SELECT COALESCE(SUM(amount_cents), 0) FROM refunds WHERE order_id = ? AND status = 'issued'", order_id
        )
        return captured, int(refunded)

    def _issue_refund(
        self, changes: list[Change], order: sqlite3.Row, amount_cents: int, reason: str, source: str
    ) -> dict[str, Any]:
        payment = next(p for p in self._payments(order["id"]) if p["status"] == "captured")
        refund_id = self._next_id("refunds", "RF-", 7001)
        self._db.execute(
            "INSERT INTO refunds VALUES (?, ?, ?, ?, ?, ?, ?, 'issued', ?)",
            (refund_id, order["id"], payment["id"], amount_cents, order["currency"], reason, source, self._stamp()),
        )
        changes.append(_change("refund", refund_id, "status", None, "issued"))
        changes.append(_change("refund", refund_id, "amount", None, _amount(amount_cents)))
        return {
            "refund_id": refund_id,
            "amount": _amount(amount_cents),
            "currency": order["currency"],
            "to": _payment_method(payment),
        }

    # --- Read tools -------------------------------------------------------------------------

    def _find_customer(self, query: str) -> dict[str, Any]:
        """Exact id, email, order or full-name matches first, then names with a word starting so, then the rest."""
        escaped = _fold(query).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        rows = self._db.execute(
            """
            SELECT * FROM (
                SELECT c.*, CASE
                    WHEN c.id = upper(:q) OR lower(c.email) = lower(:q) OR fold(c.name) = fold(:q)
                         OR c.id IN (SELECT customer_id FROM orders WHERE id = upper(:q)) THEN 0
                    WHEN fold(c.name) LIKE :word_start ESCAPE '\\' OR fold(c.name) LIKE '% ' || :word_start ESCAPE '\\'
                         THEN 1
                    WHEN fold(c.name) LIKE :anywhere ESCAPE '\\' OR lower(c.email) LIKE :anywhere ESCAPE '\\' THEN 2
                END AS rank
                FROM customers c
            )
            WHERE rank IS NOT NULL
            ORDER BY rank, name, id
            LIMIT 10
            """,
            {"q": query, "word_start": escaped + "%", "anywhere": "%" + escaped + "%"},
        ).fetchall()
        return {"customers": [_customer_summary(row) for row in rows]}

    def _get_customer(self, customer_id: str) -> dict[str, Any]:
        row = self._customer_row(customer_id)
        recent = self._order_summaries(row["id"], 5)
        count = self._scalar("SELECT COUNT(*) FROM orders WHERE customer_id = ?", row["id"])
        return _customer_summary(row) | {
            "phone": row["phone"],
            "address": json.loads(row["address"]),
            "created_at": row["created_at"],
            "plus_renewed_at": row["plus_renewed_at"],
            "marketing_opt_in": bool(row["marketing_opt_in"]),
            "order_count": count,
            "recent_orders": recent,
        }

    def _get_order(self, order_id: str) -> dict[str, Any]:
        order = self._order_row(order_id)
        oid = order["id"]
        items = self._all("SELECT * FROM order_items WHERE order_id = ? ORDER BY line", oid)
        payments = self._payments(oid)
        primary = next((p for p in payments if p["status"] == "captured"), payments[-1])
        shipment = self._one("SELECT * FROM shipments WHERE order_id = ?", oid)
        refunds = self._all("SELECT * FROM refunds WHERE order_id = ? ORDER BY created_at, id", oid)
        captured, refunded = self._money_state(oid)
        return {
            "order_id": oid,
            "customer_id": order["customer_id"],
            "status": order["status"],
            "currency": order["currency"],
            "placed_at": order["placed_at"],
            "subtotal": _amount(order["subtotal_cents"]),
            "shipping": _amount(order["shipping_cents"]),
            "total": _amount(order["total_cents"]),
            "shipping_service": order["shipping_service"],
            "shipping_address": json.loads(order["shipping_address"]),
            "items": [
                {
                    "sku": i["sku"],
                    "name": i["name"],
                    "category": i["category"],
                    "quantity": i["quantity"],
                    "unit_price": _amount(i["unit_price_cents"]),
                }
                for i in items
            ],
            "payment": _payment_method(primary),
            "charges": [
                {
                    "payment_id": p["id"],
                    "status": p["status"],
                    "amount": _amount(p["amount_cents"]),
                    "created_at": p["created_at"],
                    "updated_at": p["updated_at"],
                }
                for p in payments
            ],
            "captured": _amount(captured),
            "refunded": _amount(refunded),
            "refundable": _amount(captured - refunded),
            "refunds": [
                {
                    "refund_id": r["id"],
                    "amount": _amount(r["amount_cents"]),
                    "reason": r["reason"],
                    "status": r["status"],
                    "created_at": r["created_at"],
                }
                for r in refunds
            ],
            "shipment": None
            if shipment is None
            else {
                "status": shipment["status"],
                "carrier": shipment["carrier"],
                "tracking": shipment["tracking"],
                "service": shipment["service"],
                "shipped_at": shipment["shipped_at"],
                "estimated_delivery": shipment["estimated_delivery"],
                "delivered_at": shipment["delivered_at"],
                "last_scan": shipment["last_scan"],
            },
            "cancelled_at": order["cancelled_at"],
            "returned_at": order["returned_at"],
        }

    def _list_orders(self, customer_id: str, limit: int = 10) -> dict[str, Any]:
        row = self._customer_row(customer_id)
        return {"customer_id": row["id"], "orders": self._order_summaries(row["id"], limit)}

    def _list_tickets(self, customer_id: str) -> dict[str, Any]:
        cid = self._customer_row(customer_id)["id"]
        tickets = self._all("SELECT * FROM tickets WHERE customer_id = ? ORDER BY created_at DESC, id DESC", cid)
        escalations = self._all(
            "SELECT * FROM escalations WHERE customer_id = ? ORDER BY created_at DESC, id DESC", cid
        )
        return {
            "customer_id": cid,
            "tickets": [
                {
                    "ticket_id": t["id"],
                    "order_id": t["order_id"],
                    "subject": t["subject"],
                    "body": t["body"],
                    "priority": t["priority"],
                    "status": t["status"],
                    "created_at": t["created_at"],
                }
                for t in tickets
            ],
            "escalations": [
                {
                    "escalation_id": e["id"],
                    "queue": e["queue"],
                    "summary": e["summary"],
                    "conversation_id": e["conversation_id"],
                    "status": e["status"],
                    "created_at": e["created_at"],
                }
                for e in escalations
            ],
        }

    def _list_payments(self, order_id: str) -> dict[str, Any]:
        order = self._order_row(order_id)
        oid = order["id"]
        payments = self._payments(oid)
        disputes = self._all("SELECT * FROM disputes WHERE order_id = ? ORDER BY created_at, id", oid)
        credits = self._all("SELECT * FROM provisional_credits WHERE order_id = ? ORDER BY created_at, id", oid)
        return {
            "order_id": oid,
            "customer_id": order["customer_id"],
            "currency": order["currency"],
            "payments": [
                {
                    "payment_id": p["id"],
                    "status": p["status"],
                    "amount": _amount(p["amount_cents"]),
                    **_payment_method(p),
                    "created_at": p["created_at"],
                    "updated_at": p["updated_at"],
                }
                for p in payments
            ],
            "duplicates": _duplicates(payments),
            "disputes": [
                {
                    "dispute_id": d["id"],
                    "payment_id": d["payment_id"],
                    "status": d["status"],
                    "processor_reference": d["processor_reference"],
                    "created_at": d["created_at"],
                }
                for d in disputes
            ],
            "provisional_credits": [
                {"credit_id": c["id"], "amount": _amount(c["amount_cents"]), "status": c["status"]} for c in credits
            ],
        }

    def _order_summaries(self, customer_id: str, limit: int) -> list[dict[str, Any]]:
        rows = self._all(
            """
            SELECT o.*, (SELECT SUM(quantity) FROM order_items i WHERE i.order_id = o.id) AS item_count
            FROM orders o WHERE customer_id = ? ORDER BY placed_at DESC, id DESC LIMIT ?
            """,
            customer_id,
            limit,
        )
        return [
            {
                "order_id": r["id"],
                "status": r["status"],
                "total": _amount(r["total_cents"]),
                "currency": r["currency"],
                "placed_at": r["placed_at"],
                "item_count": r["item_count"],
            }
            for r in rows
        ]

    # --- Write tools ------------------------------------------------------------------------

    def _cancel_order(self, changes: list[Change], order_id: str, reason: str) -> _Applied:
        order = self._order_row(order_id)
        oid, status = order["id"], order["status"]
        if status == "cancelled":
            raise BusinessRefusal(f"Order {oid} is already cancelled.")
        if status not in _CANCELLABLE:
            raise BusinessRefusal(f"Order {oid} {_STATUS_PHRASE[status]}; it can no longer be cancelled.")
        now = self._stamp()
        self._set(changes, "order", "orders", oid, status="cancelled", cancelled_at=now)
        voided = [p for p in self._payments(oid) if p["status"] == "authorized"]
        for payment in voided:
            self._set(changes, "payment", "payments", payment["id"], status="voided", updated_at=now)
        captured, refunded = self._money_state(oid)
        refund = None
        if captured > refunded:
            why = f"Order cancelled: {reason}"
            refund = self._issue_refund(changes, order, captured - refunded, why, "cancel_order")
        self._db.execute(
            "INSERT INTO cancellations VALUES (?, ?, ?, ?, ?, ?)",
            (oid, status, json.dumps([p["id"] for p in voided]), refund and refund["refund_id"], reason, now),
        )
        voided_cents = sum(p["amount_cents"] for p in voided)
        message = [f"Order {oid} is cancelled."]
        if voided_cents:
            message.append(
                f"The pending authorisation of {_format(voided_cents, order['currency'])} was voided; "
                "the bank releases it within 3 to 5 business days."
            )
        if refund:
            message.append(
                f"{_format(captured - refunded, order['currency'])} was refunded to the original payment method "
                f"({_payment_label(refund['to'])})."
            )
        if not voided_cents and not refund:
            message.append("Nothing had been charged.")
        return _Applied(
            oid,
            {
                "order_id": oid,
                "status": "cancelled",
                "previous_status": status,
                "voided_payments": [p["id"] for p in voided],
                "voided_amount": _amount(voided_cents),
                "refund": refund,
                "currency": order["currency"],
                "message": " ".join(message),
            },
        )

    def _reinstate_order(self, changes: list[Change], order_id: str) -> _Applied:
        order = self._order_row(order_id)
        oid = order["id"]
        if order["status"] != "cancelled":
            phrase = _STATUS_PHRASE[order["status"]]
            raise BusinessRefusal(f"Order {oid} {phrase}, not cancelled; there is nothing to reinstate.")
        cancellation = self._one("SELECT * FROM cancellations WHERE order_id = ?", oid)
        if cancellation is None:
            raise BusinessRefusal(
                f"Order {oid} was not cancelled through cancel_order, so it cannot be reinstated; "
                "the customer can place a new order."
            )
        now = self._stamp()
        self._set(changes, "order", "orders", oid, status=cancellation["previous_status"], cancelled_at=None)
        voided_ids = json.loads(cancellation["voided_payment_ids"])
        for payment_id in voided_ids:
            self._set(changes, "payment", "payments", payment_id, status="authorized", updated_at=now)
        message = [f"Order {oid} is {cancellation['previous_status']} again."]
        if voided_ids:
            message.append("The payment authorisation was placed again.")
        if cancellation["refund_id"]:
            self._set(changes, "refund", "refunds", cancellation["refund_id"], status="reversed")
            message.append(
                f"The cancellation refund {cancellation['refund_id']} was reversed, so the customer is charged again."
            )
        self._db.execute("DELETE FROM cancellations WHERE order_id = ?", (oid,))
        return _Applied(
            oid,
            {
                "order_id": oid,
                "status": cancellation["previous_status"],
                "reauthorised_payments": voided_ids,
                "reversed_refund": cancellation["refund_id"],
                "message": " ".join(message),
            },
        )

    def _refund_payment(self, changes: list[Change], order_id: str, amount: float, reason: str) -> _Applied:
        order = self._order_row(order_id)
        oid, currency = order["id"], order["currency"]
        if order["status"] == "cancelled":
            raise BusinessRefusal(f"Order {oid} is cancelled; its payment was already voided or refunded in full.")
        amount_cents = int(Decimal(str(amount)) * 100)
        captured, refunded = self._money_state(oid)
        if captured == 0:
            raise BusinessRefusal(
                f"Nothing has been charged on order {oid} yet (the payment is only authorised); "
                "cancel the order instead of refunding it."
            )
        remaining = captured - refunded
        if remaining == 0:
            raise BusinessRefusal(f"Order {oid} has already been refunded in full ({_format(refunded, currency)}).")
        if amount_cents > remaining:
            raise BusinessRefusal(
                f"A refund of {_format(amount_cents, currency)} is more than can still be refunded on order {oid}: "
                f"{_format(remaining, currency)} (charged {_format(captured, currency)}, "
                f"already refunded {_format(refunded, currency)})."
            )
        refund = self._issue_refund(changes, order, amount_cents, reason, "refund_payment")
        return _Applied(
            refund["refund_id"],
            {
                "order_id": oid,
                **refund,
                "refundable_after": _amount(remaining - amount_cents),
                "message": f"Refunded {_format(amount_cents, currency)} to the original payment method "
                f"({_payment_label(refund['to'])}). The bank may take 3 to 10 business days to show it.",
            },
        )

    def _update_shipping_address(self, changes: list[Change], order_id: str, address: dict[str, Any]) -> _Applied:
        order = self._order_row(order_id)
        oid, status = order["id"], order["status"]
        if status not in _CANCELLABLE:
            redirect = " The carrier can be asked to redirect the parcel, without a guarantee."
            raise BusinessRefusal(
                f"Order {oid} {_STATUS_PHRASE[status]}; its delivery address can no longer be changed."
                + (redirect if status == "shipped" else "")
            )
        new = {k: v for k, v in address.items() if v}
        old = json.loads(order["shipping_address"])
        if new == old:
            raise BusinessRefusal(f"Order {oid} already ships to that address.")
        self._set(changes, "order", "orders", oid, shipping_address=json.dumps(new, ensure_ascii=False))
        return _Applied(
            oid,
            {
                "order_id": oid,
                "previous_address": old,
                "shipping_address": new,
                "message": f"Order {oid} will ship to {_one_line(new)}.",
            },
        )

    def _create_ticket(
        self,
        changes: list[Change],
        customer_id: str,
        subject: str,
        body: str,
        priority: str,
        order_id: str | None = None,
    ) -> _Applied:
        cid = self._customer_row(customer_id)["id"]
        oid = self._owned_order(cid, order_id)
        ticket_id = self._next_id("tickets", "TK-", 5001)
        now = self._stamp()
        self._db.execute(
            "INSERT INTO tickets VALUES (?, ?, ?, ?, ?, ?, 'open', ?)",
            (ticket_id, cid, oid, subject, body, priority, now),
        )
        changes.append(_change("ticket", ticket_id, "status", None, "open"))
        return _Applied(
            ticket_id,
            {
                "ticket_id": ticket_id,
                "customer_id": cid,
                "order_id": oid,
                "subject": subject,
                "priority": priority,
                "status": "open",
                "created_at": now,
                "message": f"Ticket {ticket_id} is open with {priority} priority.",
            },
        )

    def _escalate_to_queue(
        self,
        changes: list[Change],
        customer_id: str,
        queue: str,
        summary: str,
        conversation_id: str | None = None,
    ) -> _Applied:
        cid = self._customer_row(customer_id)["id"]
        escalation_id = self._next_id("escalations", "ESC-", 3001)
        now = self._stamp()
        self._db.execute(
            "INSERT INTO escalations VALUES (?, ?, ?, ?, ?, 'open', ?)",
            (escalation_id, cid, queue, summary, conversation_id, now),
        )
        changes.append(_change("escalation", escalation_id, "status", None, "open"))
        position = self._scalar("SELECT COUNT(*) FROM escalations WHERE queue = ? AND status = 'open'", queue)
        return _Applied(
            escalation_id,
            {
                "escalation_id": escalation_id,
                "customer_id": cid,
                "queue": queue,
                "conversation_id": conversation_id,
                "status": "open",
                "position": position,
                "created_at": now,
                "message": f"Escalated to the {queue} queue as {escalation_id} (position {position}).",
            },
        )

    def _issue_provisional_credit(self, changes: list[Change], order_id: str, amount: float, reason: str) -> _Applied:
        order = self._order_row(order_id)
        oid, currency = order["id"], order["currency"]
        cents = int(Decimal(str(amount)) * 100)
        captured, _ = self._money_state(oid)
        if cents > captured:
            raise BusinessRefusal(
                f"A provisional credit of {_format(cents, currency)} is more than order {oid} charged "
                f"({_format(captured, currency)})."
            )
        open_credit = self._one("SELECT id FROM provisional_credits WHERE order_id = ? AND status = 'issued'", oid)
        if open_credit is not None:
            raise BusinessRefusal(
                f"Order {oid} already has provisional credit {open_credit['id']}; reverse it before issuing another."
            )
        customer = self._customer_row(order["customer_id"])
        credit_id = self._next_id("provisional_credits", "PC-", 9001)
        self._db.execute(
            "INSERT INTO provisional_credits VALUES (?, ?, ?, ?, ?, ?, 'issued', ?)",
            (credit_id, customer["id"], oid, cents, currency, reason, self._stamp()),
        )
        changes.append(_change("provisional_credit", credit_id, "status", None, "issued"))
        balance = self._add_store_credit(changes, customer, cents)
        return _Applied(
            credit_id,
            {
                "credit_id": credit_id,
                "order_id": oid,
                "customer_id": customer["id"],
                "amount": _amount(cents),
                "currency": currency,
                "status": "issued",
                "store_credit": _amount(balance),
                "message": f"Provisional credit {credit_id} of {_format(cents, currency)} added to the customer's "
                f"store credit while the dispute is looked into.",
            },
        )

    def _reverse_provisional_credit(self, changes: list[Change], credit_id: str) -> _Applied:
        credit = self._one("SELECT * FROM provisional_credits WHERE id = ?", credit_id.upper())
        if credit is None:
            raise BusinessRefusal(f"There is no provisional credit {credit_id}.")
        cid, currency = credit["id"], credit["currency"]
        if credit["status"] != "issued":
            raise BusinessRefusal(f"Provisional credit {cid} was already reversed.")
        customer = self._customer_row(credit["customer_id"])
        if customer["store_credit_cents"] < credit["amount_cents"]:
            raise BusinessRefusal(
                f"The customer has already spent part of provisional credit {cid} "
                f"(store credit left: {_format(customer['store_credit_cents'], currency)}); "
                "it cannot be taken back here."
            )
        self._set(changes, "provisional_credit", "provisional_credits", cid, status="reversed")
        balance = self._add_store_credit(changes, customer, -credit["amount_cents"])
        return _Applied(
            cid,
            {
                "credit_id": cid,
                "status": "reversed",
                "store_credit": _amount(balance),
                "message": f"Provisional credit {cid} of {_format(credit['amount_cents'], currency)} was reversed.",
            },
        )

    def _file_dispute(self, changes: list[Change], order_id: str, payment_id: str, reason: str) -> _Applied:
        order = self._order_row(order_id)
        oid = order["id"]
        payment = self._one("SELECT * FROM payments WHERE id = ?", payment_id.upper())
        if payment is None or payment["order_id"] != oid:
            raise BusinessRefusal(f"Payment {payment_id} is not one of order {oid}'s payments.")
        pid = payment["id"]
        filed = self._one("SELECT id FROM disputes WHERE payment_id = ? AND status = 'filed'", pid)
        if filed is not None:
            raise BusinessRefusal(f"Payment {pid} is already disputed ({filed['id']}).")
        dispute_id = self._next_id("disputes", "DP-", 4001)
        reference = f"PRC-{dispute_id[3:]}-{pid[3:]}"
        self._db.execute(
            "INSERT INTO disputes VALUES (?, ?, ?, ?, ?, 'filed', ?)",
            (dispute_id, oid, pid, reason, reference, self._stamp()),
        )
        changes.append(_change("dispute", dispute_id, "status", None, "filed"))
        amount = _format(payment["amount_cents"], payment["currency"])
        return _Applied(
            dispute_id,
            {
                "dispute_id": dispute_id,
                "order_id": oid,
                "payment_id": pid,
                "amount": _amount(payment["amount_cents"]),
                "currency": payment["currency"],
                "status": "filed",
                "processor_reference": reference,
                "message": f"Dispute {dispute_id} about the {amount} payment {pid} ({payment['status']}) was filed "
                f"with the card processor, reference {reference}.",
            },
        )

    def _withdraw_dispute(self, changes: list[Change], dispute_id: str) -> _Applied:
        dispute = self._one("SELECT * FROM disputes WHERE id = ?", dispute_id.upper())
        if dispute is None:
            raise BusinessRefusal(f"There is no dispute {dispute_id}.")
        if dispute["status"] != "filed":
            raise BusinessRefusal(f"Dispute {dispute['id']} was already withdrawn.")
        self._set(changes, "dispute", "disputes", dispute["id"], status="withdrawn")
        return _Applied(
            dispute["id"],
            {
                "dispute_id": dispute["id"],
                "status": "withdrawn",
                "message": f"Dispute {dispute['id']} was withdrawn.",
            },
        )

    def _send_confirmation(
        self, changes: list[Change], customer_id: str, subject: str, body: str, order_id: str | None = None
    ) -> _Applied:
        customer = self._customer_row(customer_id)
        oid = self._owned_order(customer["id"], order_id)
        message_id = self._next_id("notifications", "MSG-", 6001)
        self._db.execute(
            "INSERT INTO notifications VALUES (?, ?, ?, ?, ?, ?, ?)",
            (message_id, customer["id"], oid, customer["email"], subject, body, self._stamp()),
        )
        changes.append(_change("notification", message_id, "to", None, customer["email"]))
        return _Applied(
            message_id,
            {
                "message_id": message_id,
                "to": customer["email"],
                "subject": subject,
                "message": f"Confirmation {message_id} sent to {customer['email']}.",
            },
        )

    def _schedule_followup(
        self, changes: list[Change], customer_id: str, due_date: str, note: str, order_id: str | None = None
    ) -> _Applied:
        customer = self._customer_row(customer_id)
        oid = self._owned_order(customer["id"], order_id)
        try:
            due = date.fromisoformat(due_date).isoformat()
        except ValueError:
            raise ValueError(f"due_date: {due_date!r} is not a date (YYYY-MM-DD)") from None
        followup_id = self._next_id("followups", "FU-", 8001)
        self._db.execute(
            "INSERT INTO followups VALUES (?, ?, ?, ?, ?, 'scheduled', ?)",
            (followup_id, customer["id"], oid, due, note, self._stamp()),
        )
        changes.append(_change("followup", followup_id, "due_date", None, due))
        return _Applied(
            followup_id,
            {
                "followup_id": followup_id,
                "customer_id": customer["id"],
                "due_date": due,
                "status": "scheduled",
                "message": f"Follow-up {followup_id} scheduled for {due}.",
            },
        )

    def _cancel_followup(self, changes: list[Change], followup_id: str) -> _Applied:
        followup = self._one("SELECT * FROM followups WHERE id = ?", followup_id.upper())
        if followup is None:
            raise BusinessRefusal(f"There is no follow-up {followup_id}.")
        if followup["status"] != "scheduled":
            raise BusinessRefusal(f"Follow-up {followup['id']} was already cancelled.")
        self._set(changes, "followup", "followups", followup["id"], status="cancelled")
        return _Applied(
            followup["id"],
            {"followup_id": followup["id"], "status": "cancelled", "message": f"Follow-up {followup['id']} cancelled."},
        )

    def _add_store_credit(self, changes: list[Change], customer: sqlite3.Row, cents: int) -> int:
        """Change the customer's store credit by ``cents``, recorded in the currency's units; the new balance."""
        balance = int(customer["store_credit_cents"]) + cents
        self._db.execute("UPDATE customers SET store_credit_cents = ? WHERE id = ?", (balance, customer["id"]))
        before, after = _amount(customer["store_credit_cents"]), _amount(balance)
        changes.append(_change("customer", customer["id"], "store_credit", before, after))
        return balance

    def _owned_order(self, customer_id: str, order_id: str | None) -> str | None:
        """The id of ``order_id`` when given, refused unless it is the customer's."""
        if order_id is None:
            return None
        order = self._order_row(order_id)
        if order["customer_id"] != customer_id:
            raise BusinessRefusal(f"Order {order['id']} does not belong to customer {customer_id}.")
        return str(order["id"])


def open_store(path: Path) -> DemoStore:
    """Open (creating and seeding if new) the demo store at ``path`` with the real clock."""
    return DemoStore(path)


# --- Helpers ----------------------------------------------------------------------------------


def _validated(tool: str, arguments: object) -> dict[str, Any]:
    """Strip every string, then check the schema; the first problem becomes a ValueError naming the argument."""
    if not isinstance(arguments, dict):
        raise ValueError("arguments: must be a JSON object")
    args: dict[str, Any] = _stripped(arguments)
    error = jsonschema.exceptions.best_match(_VALIDATORS[tool].iter_errors(args))
    if error is not None:
        where = ".".join(str(part) for part in error.absolute_path)
        raise ValueError(f"{where}: {error.message}" if where else error.message)
    if "amount" in args:
        _check_amount(args["amount"])
    return args


def _check_amount(amount: float) -> None:
    """Money has cents: 9.99 is an amount, 9.999 and infinity are not."""
    if not math.isfinite(amount):
        raise ValueError("amount: must be a finite number")
    exponent = Decimal(str(amount)).as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2:
        raise ValueError("amount: at most 2 decimal places")


def _stripped(value: Any) -> Any:
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, dict):
        return {k: _stripped(v) for k, v in value.items()}
    return value


def _statements(script: str) -> list[str]:
    """Split DDL into statements, so they run inside our transaction (executescript would commit)."""
    statements, pending = [], ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statements.append(pending)
            pending = ""
    return statements


def _fold(text: str) -> str:
    """Lower case without accents, so that 'lucia fernandez' finds 'Lucía Fernández'."""
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)).lower()


def _change(entity: str, entity_id: str, field: str, before: Any, after: Any) -> Change:
    return {"entity": entity, "id": entity_id, "field": field, "before": before, "after": after}


def _shown(column: str, value: Any) -> Any:
    """A column value as a tool result shows it: addresses as objects, the rest as stored."""
    return json.loads(value) if column == "shipping_address" and value is not None else value


def _amount(cents: int) -> float:
    return cents / 100


def _format(cents: int, currency: str) -> str:
    return f"{cents / 100:,.2f} {currency}"


def _payment_method(payment: sqlite3.Row) -> dict[str, Any]:
    """Method, brand and last 4 digits only: the store never holds or returns a full card number."""
    return {"method": payment["method"], "brand": payment["brand"], "last4": payment["last4"]}


def _payment_label(method: Mapping[str, Any]) -> str:
    """'Visa ending 4417', or just 'PayPal'."""
    return method["brand"] if method["last4"] is None else f"{method['brand']} ending {method['last4']}"


def _duplicates(payments: list[sqlite3.Row]) -> list[str]:
    """The ids of payments that repeat another of the same amount on the order: of each amount, every one but
    the first captured (or, none captured, the first); a second charge, or a hold the bank may still show."""
    duplicates: list[str] = []
    for cents in dict.fromkeys(p["amount_cents"] for p in payments):
        same = [p for p in payments if p["amount_cents"] == cents]
        kept = next((p for p in same if p["status"] == "captured"), same[0])
        duplicates += [p["id"] for p in same if p is not kept]
    return duplicates


def _jurisdiction(country: str, region: str | None) -> str:
    if country == "US":
        return f"US-{region}" if region else "US"
    return "UK" if country == "UK" else f"EU-{country}"


def _customer_summary(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "customer_id": row["id"],
        "name": row["name"],
        "email": row["email"],
        "country": row["country"],
        "jurisdiction": _jurisdiction(row["country"], row["region"]),
        "currency": row["currency"],
        "plus_member": bool(row["plus_member"]),
        "store_credit": _amount(row["store_credit_cents"]),
    }


def _one_line(address: Mapping[str, str]) -> str:
    parts = ("name", "line1", "line2", "postal_code", "city", "region", "country")
    return ", ".join(address[p] for p in parts if address.get(p))
