"""Tables of the Northwind demo back office.

Money is stored in integer cents so that refunds add up exactly; addresses are JSON objects because
the tools read and write them whole. Every timestamp is an ISO 8601 UTC string ending in ``Z``.
``SCHEMA_VERSION`` goes into ``PRAGMA user_version``: a file at version 0 is new and gets seeded; a file
at an older version gets the tables of each ``MIGRATIONS`` entry above its version (and their seed rows).
"""

from __future__ import annotations

SCHEMA_VERSION = 2

DDL = """
CREATE TABLE customers (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE,
    phone TEXT NOT NULL,
    country TEXT NOT NULL,              -- ISO 3166 alpha-2, UK for the United Kingdom
    region TEXT,                        -- US state, for jurisdictions such as US-CA
    currency TEXT NOT NULL,
    address TEXT NOT NULL,              -- JSON billing address
    created_at TEXT NOT NULL,
    plus_member INTEGER NOT NULL,
    plus_renewed_at TEXT,
    store_credit_cents INTEGER NOT NULL,
    marketing_opt_in INTEGER NOT NULL
);

CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    status TEXT NOT NULL CHECK (status IN ('pending', 'processing', 'shipped', 'delivered', 'cancelled', 'returned')),
    currency TEXT NOT NULL,
    placed_at TEXT NOT NULL,
    subtotal_cents INTEGER NOT NULL,
    shipping_cents INTEGER NOT NULL,
    total_cents INTEGER NOT NULL,
    shipping_service TEXT NOT NULL CHECK (shipping_service IN ('standard', 'express')),
    shipping_address TEXT NOT NULL,     -- JSON
    cancelled_at TEXT,
    returned_at TEXT
);
CREATE INDEX orders_by_customer ON orders(customer_id, placed_at);

CREATE TABLE order_items (
    order_id TEXT NOT NULL REFERENCES orders(id),
    line INTEGER NOT NULL,
    sku TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    quantity INTEGER NOT NULL,
    unit_price_cents INTEGER NOT NULL,
    PRIMARY KEY (order_id, line)
);

-- One row per authorisation or charge; a card is authorised at checkout and captured when it ships.
CREATE TABLE payments (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    method TEXT NOT NULL CHECK (method IN ('card', 'paypal', 'gift_card')),
    brand TEXT NOT NULL,
    last4 TEXT,
    status TEXT NOT NULL CHECK (status IN ('authorized', 'captured', 'voided')),
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX payments_by_order ON payments(order_id);

CREATE TABLE refunds (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    source TEXT NOT NULL CHECK (source IN ('refund_payment', 'cancel_order', 'return')),
    status TEXT NOT NULL CHECK (status IN ('issued', 'reversed')),
    created_at TEXT NOT NULL
);
CREATE INDEX refunds_by_order ON refunds(order_id);

CREATE TABLE shipments (
    order_id TEXT PRIMARY KEY REFERENCES orders(id),
    carrier TEXT NOT NULL,
    tracking TEXT NOT NULL,
    service TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_transit', 'delivered')),
    shipped_at TEXT NOT NULL,
    estimated_delivery TEXT NOT NULL,   -- date
    delivered_at TEXT,
    last_scan TEXT
);

-- What cancel_order undid, so that reinstate_order can put it back; seeded cancellations have none.
CREATE TABLE cancellations (
    order_id TEXT PRIMARY KEY REFERENCES orders(id),
    previous_status TEXT NOT NULL,
    voided_payment_ids TEXT NOT NULL,   -- JSON list
    refund_id TEXT REFERENCES refunds(id),
    reason TEXT NOT NULL,
    cancelled_at TEXT NOT NULL
);

CREATE TABLE tickets (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    order_id TEXT REFERENCES orders(id),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    priority TEXT NOT NULL CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    status TEXT NOT NULL CHECK (status IN ('open', 'pending', 'solved')),
    created_at TEXT NOT NULL
);
CREATE INDEX tickets_by_customer ON tickets(customer_id, created_at);

CREATE TABLE escalations (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    queue TEXT NOT NULL,
    summary TEXT NOT NULL,
    conversation_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    created_at TEXT NOT NULL
);
CREATE INDEX escalations_by_customer ON escalations(customer_id, created_at);

-- One row per applied write: tests count these to prove a retried call changed nothing twice.
CREATE TABLE effects (
    id INTEGER PRIMARY KEY,
    tool TEXT NOT NULL,
    idempotency_key TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    at TEXT NOT NULL
);

CREATE TABLE idempotency (
    key TEXT PRIMARY KEY,
    tool TEXT NOT NULL,
    arguments_json TEXT NOT NULL,
    result_json TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

DISPUTES_DDL = """
-- Store credit given while a disputed charge is investigated; reversed if the dispute goes the other way.
CREATE TABLE provisional_credits (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    order_id TEXT NOT NULL REFERENCES orders(id),
    amount_cents INTEGER NOT NULL,
    currency TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('issued', 'reversed')),
    created_at TEXT NOT NULL
);
CREATE INDEX provisional_credits_by_order ON provisional_credits(order_id);

-- A charge or hold disputed with the card processor.
CREATE TABLE disputes (
    id TEXT PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    payment_id TEXT NOT NULL REFERENCES payments(id),
    reason TEXT NOT NULL,
    processor_reference TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('filed', 'withdrawn')),
    created_at TEXT NOT NULL
);
CREATE INDEX disputes_by_order ON disputes(order_id);

-- Messages sent to customers (to the email on file).
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    order_id TEXT REFERENCES orders(id),
    address TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);

-- Reminders for the support team to get back to a customer on a date.
CREATE TABLE followups (
    id TEXT PRIMARY KEY,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    order_id TEXT REFERENCES orders(id),
    due_date TEXT NOT NULL,
    note TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('scheduled', 'cancelled')),
    created_at TEXT NOT NULL
);

-- The card processor refuses the next ``refusals_left`` real calls of ``tool`` whose ``argument`` is ``value``
-- (a deterministic outage for demos and tests; dry runs never reach the processor).
CREATE TABLE processor_refusals (
    tool TEXT NOT NULL,
    argument TEXT NOT NULL,
    value TEXT NOT NULL,
    refusals_left INTEGER NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (tool, argument, value)
);
"""

MIGRATIONS: tuple[tuple[int, str], ...] = ((2, DISPUTES_DDL),)
"""(version, the tables it adds) after the first version's ``DDL``, oldest first."""
