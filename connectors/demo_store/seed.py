"""Deterministic seed data: the demo conversations' own records first, then ~1,000 random orders.

The store must agree with what the bundled conversations (``resources/conversations``) say and
with the northwind-retail policy pack, so the records those conversations mention are written out
by hand in the STORY tables below; everything else comes from ``random.Random(SEED)`` against the
fixed reference time ``REFERENCE_NOW``. Nothing here reads the real clock, so two fresh files
seed to identical rows.
"""

from __future__ import annotations

import json
import random
import sqlite3
import unicodedata
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

SEED = 20261120
REFERENCE_NOW = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
"""The seeded world's "now": the morning of 2026-11-20, before the demo chats start at 10:00."""

CURRENCY = {"US": "USD", "UK": "GBP"}
"""Currency by country; every other (EU) country pays in EUR."""

FREE_SHIPPING_FROM = {"USD": 5000, "GBP": 4000, "EUR": 5000}
STANDARD_FEE = {"USD": 499, "GBP": 399, "EUR": 499}
EXPRESS_FEE = {"USD": 1299, "GBP": 999, "EUR": 1299}
RETURN_FEE = {"USD": 595, "GBP": 495, "EUR": 595}
"""Fees in cents, as the policy pack's shipping.costs and returns.shipping-fee clauses state them."""


@dataclass(frozen=True)
class Item:
    """One line of an order."""

    sku: str
    name: str
    category: str
    unit_price_cents: int
    quantity: int = 1


@dataclass(frozen=True)
class Payment:
    """How an order was paid: method, brand, and the last 4 digits where there are any."""

    method: str
    brand: str
    last4: str | None


@dataclass(frozen=True)
class StoryCustomer:
    """A customer a bundled conversation talks about, written out by hand."""

    conversation: str
    customer_id: str
    name: str
    email: str
    country: str
    region: str | None
    line1: str
    city: str
    postal_code: str
    plus_renewed_at: str | None = None
    store_credit: str = "0.00"


@dataclass
class Order:
    """One order's whole life, from which all its rows are written: the story orders and the random ones alike.

    Story orders are written out in STORY_ORDERS; random ones are built up by ``_random_order`` and ``_ship``.
    """

    order_id: str
    customer_id: str
    status: str
    placed_at: datetime
    items: tuple[Item, ...]
    payment: Payment
    service: str = "standard"
    carrier: str | None = None
    tracking: str | None = None
    """Drawn from the seed's random stream when the order is seeded (story orders leave it None)."""
    shipped_at: datetime | None = None
    estimated_delivery: date | None = None
    delivered_at: datetime | None = None
    last_scan: str | None = None
    returned_at: datetime | None = None
    cancelled_at: datetime | None = None
    reauthorised_at: datetime | None = None
    """When the order was edited: the first authorisation is voided and a new one taken."""
    refund: tuple[int, str, datetime] | None = None
    """(amount in cents, reason, when) of the refund that followed a return."""

    @property
    def subtotal_cents(self) -> int:
        return sum(item.unit_price_cents * item.quantity for item in self.items)

    def shipping_cents(self, currency: str) -> int:
        """The fee in the customer's currency: express always, standard below the free-shipping amount."""
        if self.service == "express":
            return EXPRESS_FEE[currency]
        return 0 if self.subtotal_cents >= FREE_SHIPPING_FROM[currency] else STANDARD_FEE[currency]

    def total_cents(self, currency: str) -> int:
        return self.subtotal_cents + self.shipping_cents(currency)


@dataclass(frozen=True)
class StoryTicket:
    """A support ticket a bundled conversation refers to."""

    customer_id: str
    order_id: str | None
    subject: str
    body: str
    priority: str
    status: str
    created_at: str


def _item(sku: str, name: str, category: str, price: str, quantity: int = 1) -> Item:
    return Item(sku, name, category, int(Decimal(price) * 100), quantity)


def _at(text: str) -> datetime:
    """A UTC moment written as in the conversations: 2026-11-20T08:14:00Z."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


VISA, MASTERCARD, AMEX = "Visa", "Mastercard", "American Express"

# fmt: off
STORY_CUSTOMERS: tuple[StoryCustomer, ...] = (
    StoryCustomer("cancellation", "C-1001", "Marcus Bell", "marcus.bell@example.com", "US", "TX",
                  "2208 Barton Springs Rd", "Austin", "78704", plus_renewed_at="2026-11-17T09:00:00Z"),
    StoryCustomer("accessibility", "C-1002", "Siobhan Murphy", "siobhan.murphy@example.com", "IE", None,
                  "14 Leeson Park", "Dublin 6", "D06 X9K2"),
    StoryCustomer("address-change", "C-1003", "Tom Becker", "tom.becker@example.com", "DE", None,
                  "Invalidenstraße 44", "Berlin", "10115"),
    StoryCustomer("bereavement", "C-1004", "Helen Carter", "helen.carter@example.com", "US", "CA",
                  "3120 Land Park Dr", "Sacramento", "95818"),
    StoryCustomer("bereavement", "CU-20731", "Margaret Carter", "margaret.carter@example.com", "US", "CA",
                  "718 Alhambra Blvd", "Sacramento", "95816", plus_renewed_at="2026-11-05T09:00:00Z",
                  store_credit="35.00"),
    StoryCustomer("chargeback-threat", "C-1005", "Derek Olsen", "derek.olsen@example.com", "US", "NY",
                  "241 Prospect Park W", "Brooklyn", "11215"),
    StoryCustomer("damaged-item", "C-1006", "Oliver Hughes", "oliver.hughes@example.com", "UK", None,
                  "27 Burton Road", "Manchester", "M20 1HH"),
    StoryCustomer("data-access-request", "C-1007", "Daan de Vries", "daan.devries@example.com", "NL", None,
                  "Kerkstraat 118", "Amsterdam", "1017 GP"),
    StoryCustomer("double-charge", "C-1008", "Priya Natarajan", "priya.n@example.com", "US", "NY",
                  "410 W 57th St, Apt 9C", "New York", "10019"),
    StoryCustomer("exchange-size", "C-1009", "Keisha Thompson", "keisha.thompson@example.com", "US", "NY",
                  "88 Halsey St", "Brooklyn", "11216"),
    StoryCustomer("late-delivery-uk", "C-1010", "Amara Okafor", "amara.okafor@example.com", "UK", None,
                  "5 Elm Grove", "London", "SE15 5DE"),
    StoryCustomer("order-status", "C-1011", "Camille Laurent", "camille.laurent@example.com", "FR", None,
                  "12 rue Lesdiguières", "Grenoble", "38000"),
    StoryCustomer("refund-outside-window", "C-1012", "Ana Ruiz", "ana.ruiz@example.com", "US", "CA",
                  "1540 Fulton St", "San Francisco", "94117"),
    StoryCustomer("spanish-speaker", "C-1013", "Lucía Fernández", "lucia.fernandez@example.com", "ES", None,
                  "Calle de Toledo 45", "Madrid", "28005"),
    StoryCustomer("subscription-renewal", "C-1014", "Jenna Park", "jenna.park@example.com", "US", "CA",
                  "2150 Sunset Blvd", "Los Angeles", "90026", plus_renewed_at="2026-11-18T06:00:00Z"),
)

STORY_ORDERS: tuple[Order, ...] = (
    # cancellation: placed this morning and not shipped: cancel_order must succeed and void the card authorisation.
    Order("NW-11730", "C-1001", "processing", _at("2026-11-20T08:14:00Z"),
          (_item("KT-SKL-10", "Cast iron skillet, 10 in", "kitchen", "42.00"),
           _item("HM-TWL-3", "Linen tea towels, set of 3", "home", "18.50"),
           _item("KT-BCB-L", "Bamboo cutting board, large", "kitchen", "26.00")),
          Payment("card", VISA, "4417")),
    # accessibility: delivered three days ago: inside the 14-day EU withdrawal period.
    Order("NW-14021", "C-1002", "delivered", _at("2026-11-10T19:22:00Z"),
          (_item("HM-ASH-BK", "Ashby oak bookshelf", "home", "189.00"),),
          Payment("card", MASTERCARD, "8830"), carrier="DHL", shipped_at=_at("2026-11-12T14:00:00Z"),
          estimated_delivery=date(2026, 11, 18), delivered_at=_at("2026-11-17T11:40:00Z")),
    # address-change: still processing, so the address can change; the card ends 5521 and the billing postcode is 10115.
    Order("NW-18220", "C-1003", "processing", _at("2026-11-19T18:40:00Z"),
          (_item("HM-MWT-GRY", "Merino wool throw, grey", "home", "64.90"),
           _item("KT-MUG-2", "Stoneware mugs, set of 2", "kitchen", "10.00")),
          Payment("card", MASTERCARD, "5521")),
    # bereavement: the "refund pending from a return" her daughter mentions: received, not yet refunded.
    Order("NW-13977", "CU-20731", "returned", _at("2026-10-02T16:05:00Z"),
          (_item("AP-WCD-NVY-M", "Wool-blend cardigan, navy, M", "apparel", "68.00"),),
          Payment("card", VISA, "2290"), carrier="UPS", shipped_at=_at("2026-10-03T18:00:00Z"),
          estimated_delivery=date(2026, 10, 8), delivered_at=_at("2026-10-08T15:30:00Z"),
          returned_at=_at("2026-10-24T10:00:00Z")),
    # chargeback-threat: headphones returned inside the 15-day electronics window, received on Oct 28, never refunded.
    Order("NW-15588", "C-1005", "returned", _at("2026-10-10T15:05:00Z"),
          (_item("EL-STH-BLK", "Northwind Studio wireless headphones, black", "electronics", "149.00"),),
          Payment("card", AMEX, "1009"), carrier="FedEx", shipped_at=_at("2026-10-12T17:00:00Z"),
          estimated_delivery=date(2026, 10, 15), delivered_at=_at("2026-10-15T13:10:00Z"),
          returned_at=_at("2026-10-28T11:00:00Z")),
    # damaged-item: delivered yesterday with a cracked base: inside the 7-day damage report window.
    Order("NW-12257", "C-1006", "delivered", _at("2026-11-16T20:10:00Z"),
          (_item("HM-LMP-CER", "Ceramic table lamp, sand", "home", "64.00"),),
          Payment("card", VISA, "6634"), carrier="Royal Mail", shipped_at=_at("2026-11-17T15:00:00Z"),
          estimated_delivery=date(2026, 11, 19), delivered_at=_at("2026-11-19T13:25:00Z")),
    # double-charge: edited after checkout: one authorisation voided, one charge captured, both on Nov 17.
    Order("NW-13408", "C-1008", "shipped", _at("2026-11-17T08:05:00Z"),
          (_item("KT-CWS-8", "Nonstick cookware set, 8 pieces", "kitchen", "189.90"),
           _item("KT-UTN-6", "Silicone utensil set, 6 pieces", "kitchen", "22.50")),
          Payment("card", VISA, "1111"), carrier="UPS", shipped_at=_at("2026-11-17T21:30:00Z"),
          estimated_delivery=date(2026, 11, 23), last_scan="2026-11-19 Secaucus NJ hub",
          reauthorised_at=_at("2026-11-17T09:12:00Z")),
    # exchange-size: delivered Nov 2: inside the 30-day exchange window (until Dec 2).
    Order("NW-24490", "C-1009", "delivered", _at("2026-10-27T12:30:00Z"),
          (_item("AP-FRJ-OLV-M", "Fairview rain jacket, olive, M", "apparel", "98.00"),),
          Payment("card", VISA, "7781"), carrier="USPS", shipped_at=_at("2026-10-28T18:00:00Z"),
          estimated_delivery=date(2026, 11, 2), delivered_at=_at("2026-11-02T16:45:00Z")),
    # late-delivery-uk: express promised for Nov 16, delivered Nov 19: the £9.99 express fee is refundable.
    Order("NW-19067", "C-1010", "delivered", _at("2026-11-13T07:45:00Z"),
          (_item("HM-CND-GS", "Scented candle gift set", "home", "32.00"),),
          Payment("card", MASTERCARD, "3158"), service="express", carrier="DPD",
          shipped_at=_at("2026-11-13T16:00:00Z"), estimated_delivery=date(2026, 11, 16),
          delivered_at=_at("2026-11-19T12:10:00Z")),
    # order-status: in transit, last scanned Nov 10, estimate Nov 12: more than 5 business days late, so a trace.
    Order("NW-16102", "C-1011", "shipped", _at("2026-11-05T10:20:00Z"),
          (_item("HM-RUG-BRB", "Berber wool rug, 160 x 230 cm", "home", "229.00"),),
          Payment("card", VISA, "4026"), carrier="EuroPost", shipped_at=_at("2026-11-06T09:00:00Z"),
          estimated_delivery=date(2026, 11, 12), last_scan="2026-11-10 Lyon hub"),
    # refund-outside-window: delivered Oct 10, 41 days before the chat: outside the 30-day window,
    # inside the 60-day exception.
    Order("NW-10482", "C-1012", "delivered", _at("2026-10-05T18:00:00Z"),
          (_item("BL-200", "PowerBlend 200 blender", "kitchen", "129.00"),),
          Payment("card", VISA, "9012"), carrier="UPS", shipped_at=_at("2026-10-06T20:00:00Z"),
          estimated_delivery=date(2026, 10, 9), delivered_at=_at("2026-10-10T15:20:00Z")),
    # spanish-speaker: delivered two months ago: covered by the 2-year EU legal guarantee.
    Order("NW-17345", "C-1013", "delivered", _at("2026-09-13T11:00:00Z"),
          (_item("KT-KTL-GL", "Glass electric kettle, 1.7 L", "kitchen", "59.90"),),
          Payment("card", VISA, "5127"), carrier="GLS", shipped_at=_at("2026-09-14T15:00:00Z"),
          estimated_delivery=date(2026, 9, 18), delivered_at=_at("2026-09-18T10:30:00Z")),
)

STORY_TICKETS: tuple[StoryTicket, ...] = (
    # Derek's first two contacts: the chat is his third.
    StoryTicket("C-1005", "NW-15588", "Refund for returned headphones",
                "I sent the headphones back last week, when will the refund arrive?", "normal", "pending",
                "2026-11-04T17:20:00Z"),
    StoryTicket("C-1005", "NW-15588", "Still no refund for NW-15588",
                "Second time asking. The return was delivered to you on Oct 28 and I have no refund.", "high",
                "open", "2026-11-12T19:05:00Z"),
)
# fmt: on

# --- The random world -------------------------------------------------------------------------

CUSTOMER_COUNT = 200
RANDOM_ORDER_COUNT = 990
RANDOM_TICKET_COUNT = 70

_NAMES = {
    "US": (
        "James Mary Robert Patricia Michael Jennifer David Linda Daniel Sarah Kevin Emily Brian Jessica Jason "
        "Ashley Ryan Megan Carlos Maria Tyler Nicole Aaron Rachel Andre Lauren Noah Olivia Ethan Grace Luis Hannah",
        "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Wilson Anderson Taylor Thomas "
        "Moore Jackson Lee Harris Clark Lewis Walker Young Allen King Wright Scott Nguyen Hill Adams Baker Nelson "
        "Rivera Campbell Mitchell Roberts Chen Patel Kim",
    ),
    "UK": (
        "Oliver Amelia George Isla Harry Ava Jack Emily Charlie Sophie Thomas Poppy William Chloe Alfie Jessica "
        "Freddie Lily Archie Evie Henry Ruby",
        "Smith Jones Taylor Brown Davies Evans Wilson Thomas Roberts Johnson Walker Wright Robinson Thompson White "
        "Hughes Edwards Green Hall Wood Harris Clarke Patel Khan",
    ),
    "DE": (
        "Lukas Anna Jonas Lena Leon Marie Felix Laura Paul Julia Maximilian Sophie Finn Lea Jan Hannah Tim "
        "Katharina Niklas Sarah",
        "Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Schulz Hoffmann Koch Richter Klein Wolf "
        "Schröder Neumann Schwarz Zimmermann Braun Krüger",
    ),
    "FR": (
        "Camille Léa Louis Manon Hugo Chloé Lucas Inès Jules Sarah Gabriel Emma Arthur Jade Théo Louise Nathan "
        "Zoé Antoine Clara",
        "Martin Bernard Dubois Thomas Robert Richard Petit Durand Leroy Moreau Simon Laurent Lefebvre Michel "
        "Garcia David Bertrand Roux Vincent Fournier",
    ),
    "ES": (
        "Lucía Hugo Martina Mateo Sofía Pablo María Daniel Paula Alejandro Julia Álvaro Carmen Javier Elena Diego "
        "Sara Adrián Laura Manuel",
        "García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Martín Jiménez Ruiz Hernández "
        "Díaz Moreno Muñoz Álvarez Romero Navarro Torres",
    ),
}
_COUNTRY_WEIGHTS = {"US": 45, "UK": 20, "DE": 12, "FR": 12, "ES": 11}

# (city, region, postal-code prefix); the generator pads the prefix with digits or a UK inward code.
_CITIES = {
    "US": (
        ("Austin", "TX", "787"),
        ("Houston", "TX", "770"),
        ("San Diego", "CA", "921"),
        ("Los Angeles", "CA", "900"),
        ("San Jose", "CA", "951"),
        ("Seattle", "WA", "981"),
        ("Portland", "OR", "972"),
        ("Denver", "CO", "802"),
        ("Chicago", "IL", "606"),
        ("Boston", "MA", "021"),
        ("Brooklyn", "NY", "112"),
        ("Buffalo", "NY", "142"),
        ("Miami", "FL", "331"),
        ("Atlanta", "GA", "303"),
        ("Phoenix", "AZ", "850"),
        ("Minneapolis", "MN", "554"),
    ),
    "UK": (
        ("London", None, "N16"),
        ("London", None, "SE22"),
        ("Leeds", None, "LS6"),
        ("Bristol", None, "BS7"),
        ("Glasgow", None, "G12"),
        ("Cardiff", None, "CF24"),
        ("Brighton", None, "BN1"),
        ("Norwich", None, "NR2"),
    ),
    "DE": (
        ("Berlin", None, "10"),
        ("Hamburg", None, "20"),
        ("München", None, "80"),
        ("Köln", None, "50"),
        ("Leipzig", None, "04"),
        ("Frankfurt am Main", None, "60"),
    ),
    "FR": (
        ("Paris", None, "750"),
        ("Lyon", None, "6900"),
        ("Marseille", None, "130"),
        ("Toulouse", None, "310"),
        ("Nantes", None, "440"),
        ("Bordeaux", None, "330"),
    ),
    "ES": (
        ("Madrid", None, "280"),
        ("Barcelona", None, "080"),
        ("Valencia", None, "460"),
        ("Sevilla", None, "410"),
        ("Bilbao", None, "480"),
        ("Málaga", None, "290"),
    ),
}
_STREETS = {
    "US": ("{n} {s} {k}", "Maple Oak Cedar Pine Lincoln Washington Park Lake Hill Highland Walnut", "St Ave Rd"),
    "UK": ("{n} {s} {k}", "Church Victoria Station Mill Queens Kings Manor Grove Albert", "Road Street Lane Avenue"),
    "DE": ("{s}{k} {n}", "Haupt Linden Schiller Goethe Garten Berg Bahnhof Kirch", "straße weg"),
    "FR": ("{n} {k} {s}", "Victor-Hugo Pasteur Jean-Jaurès des-Lilas du-Moulin de-la-Paix", "rue avenue"),
    "ES": ("{k} {s} {n}", "Mayor del-Sol de-Alcalá de-la-Luna Real San-Vicente", "Calle Avenida"),
}
_PHONE = {
    "US": "+1 {a} 555-{b:04d}",
    "UK": "+44 7700 900{c:03d}",
    "DE": "+49 30 {d:07d}",
    "FR": "+33 6 {d:08d}",
    "ES": "+34 6{d:08d}",
    "IE": "+353 87 {d:07d}",
    "NL": "+31 6 {d:08d}",
}
_CARRIERS = {"US": ("UPS", "FedEx", "USPS"), "UK": ("Royal Mail", "DPD", "Evri"), "EU": ("DHL", "EuroPost", "GLS")}
_HUBS = {
    "US": ("Louisville KY hub", "Memphis TN hub", "Secaucus NJ hub", "Ontario CA hub"),
    "UK": ("Coventry hub", "Warrington hub", "Heathrow hub"),
    "EU": ("Leipzig hub", "Lyon hub", "Madrid hub"),
}
_TRANSIT_DAYS = {"US": (3, 5), "UK": (2, 4), "EU": (4, 8)}
"""Standard delivery in business days from shipping (shipping.delivery-times); express is 1 to 2."""

# (sku, name, category, USD price); apparel names are completed by colour and size.
_CATALOG = (
    ("KT-SKL-10", "Cast iron skillet, 10 in", "kitchen", "42.00"),
    ("KT-BCB-L", "Bamboo cutting board, large", "kitchen", "26.00"),
    ("BL-200", "PowerBlend 200 blender", "kitchen", "129.00"),
    ("KT-KTL-GL", "Glass electric kettle, 1.7 L", "kitchen", "64.00"),
    ("KT-CWS-8", "Nonstick cookware set, 8 pieces", "kitchen", "189.90"),
    ("KT-UTN-6", "Silicone utensil set, 6 pieces", "kitchen", "22.50"),
    ("KT-MUG-2", "Stoneware mugs, set of 2", "kitchen", "24.00"),
    ("KT-FRP-12", "French press, 12 cup", "kitchen", "34.00"),
    ("KT-KNF-3", "Chef's knife set, 3 pieces", "kitchen", "89.00"),
    ("KT-DNR-16", "Ceramic dinnerware set, 16 pieces", "kitchen", "119.00"),
    ("KT-STG-4", "Glass food storage set, 4 containers", "kitchen", "29.50"),
    ("HM-TWL-3", "Linen tea towels, set of 3", "home", "18.50"),
    ("HM-MWT-GRY", "Merino wool throw, grey", "home", "79.00"),
    ("HM-ASH-BK", "Ashby oak bookshelf", "home", "219.00"),
    ("HM-LMP-CER", "Ceramic table lamp, sand", "home", "79.00"),
    ("HM-CND-GS", "Scented candle gift set", "home", "39.00"),
    ("HM-RUG-BRB", "Berber wool rug, 160 x 230 cm", "home", "259.00"),
    ("HM-CSH-2", "Velvet cushion covers, set of 2", "home", "32.00"),
    ("HM-BDS-Q", "Percale bed sheet set, queen", "home", "95.00"),
    ("HM-MIR-60", "Round wall mirror, 60 cm", "home", "110.00"),
    ("HM-PLT-3", "Ceramic planters, set of 3", "home", "44.00"),
    ("AP-FRJ", "Fairview rain jacket", "apparel", "98.00"),
    ("AP-WCD", "Wool-blend cardigan", "apparel", "68.00"),
    ("AP-CTS", "Organic cotton T-shirt", "apparel", "24.00"),
    ("AP-CHN", "Stretch chinos", "apparel", "58.00"),
    ("AP-FLC", "Recycled fleece pullover", "apparel", "64.00"),
    ("EL-STH-BLK", "Northwind Studio wireless headphones, black", "electronics", "149.00"),
    ("EL-EBD-WHT", "True wireless earbuds, white", "electronics", "89.00"),
    ("EL-SPK-MIN", "Portable Bluetooth speaker", "electronics", "59.00"),
    ("EL-CHG-65", "65 W USB-C charger", "electronics", "39.00"),
    ("EL-PLG-2", "Smart plugs, pack of 2", "electronics", "29.00"),
    ("EL-LMP-SM", "Smart LED desk lamp", "electronics", "69.00"),
)
_COLOURS = {"olive": "OLV", "navy": "NVY", "black": "BLK", "oat": "OAT", "white": "WHT", "grey": "GRY"}
_SIZES = ("XS", "S", "M", "L", "XL")
_PRICE_FACTOR = {"USD": Decimal("1"), "GBP": Decimal("0.8"), "EUR": Decimal("0.92")}

_TICKET_TEMPLATES = {
    "pending": (("Change to order {order}", "Can I still add something to this order?", "normal"),),
    "processing": (("When will {order} ship?", "I'd like to know when my order leaves the warehouse.", "low"),),
    "shipped": (("Where is my order {order}?", "Tracking hasn't updated for a couple of days.", "normal"),),
    "delivered": (
        ("Question about the {item}", "How should I clean it? The leaflet doesn't say.", "low"),
        ("Return for {order}", "How do I send back the {item}? It isn't what I expected.", "normal"),
    ),
    "returned": (("Refund for {order}", "I sent the return back, when will I see the refund?", "normal"),),
    "cancelled": (("Cancellation of {order}", "Please confirm that my order was cancelled.", "low"),),
}


@dataclass(frozen=True)
class _Customer:
    customer_id: str
    name: str
    email: str
    country: str
    region: str | None
    address: dict[str, str]

    @property
    def currency(self) -> str:
        return CURRENCY.get(self.country, "EUR")

    @property
    def zone(self) -> str:
        """Shipping zone: US, UK or EU."""
        return self.country if self.country in ("US", "UK") else "EU"


PROCESSOR_REFUSALS: tuple[tuple[str, str, str, int, str], ...] = (
    # double-charge: the card processor is busy the first time a dispute about NW-13408 is filed, so the
    # disputed-charge plan stops at that step in the demo and goes through when the rep retries it.
    (
        "file_dispute",
        "order_id",
        "NW-13408",
        1,
        "The card processor did not accept the dispute (PRC-503: service busy); nothing was filed. "
        "Try again in a minute.",
    ),
)
"""(tool, argument, value, how many real calls, message) the card processor refuses (docs/demo-store.md)."""


def seed_added(conn: sqlite3.Connection, version: int) -> None:
    """The seed rows of the tables schema ``version`` adds (the caller owns the transaction)."""
    if version == 2:
        conn.executemany("INSERT INTO processor_refusals VALUES (?,?,?,?,?)", PROCESSOR_REFUSALS)


def seed(conn: sqlite3.Connection) -> None:
    """Insert the whole demo world into an empty schema (the caller owns the transaction)."""
    rng = random.Random(SEED)
    story_customers = {c.customer_id: _story_customer(c) for c in STORY_CUSTOMERS}
    customers = [*story_customers.values(), *_random_customers(rng, {c.email for c in STORY_CUSTOMERS})]
    # Copies, so the table itself never changes; tracking numbers are drawn here, between the random
    # customers and the random orders, which keeps every later draw (and so every row) where it was.
    orders = [replace(o, tracking=_tracking(rng) if o.carrier else None) for o in STORY_ORDERS]
    orders += _random_orders(rng, customers[len(story_customers) :], taken={o.order_id for o in STORY_ORDERS})
    orders.sort(key=lambda order: order.order_id)
    _write_customers(conn, customers, rng)
    _write_orders(conn, orders, {c.customer_id: c for c in customers})
    _write_tickets(conn, rng, orders)


# --- Story records ----------------------------------------------------------------------------


def _story_customer(story: StoryCustomer) -> _Customer:
    address = _address(story.name, story.line1, story.city, story.region, story.postal_code, story.country)
    return _Customer(story.customer_id, story.name, story.email, story.country, story.region, address)


# --- Random customers and orders --------------------------------------------------------------


def _random_customers(rng: random.Random, used_emails: set[str]) -> list[_Customer]:
    """Unique first.last emails; ids continue after the story customers' C- ids."""
    countries = list(_COUNTRY_WEIGHTS)
    weights = list(_COUNTRY_WEIGHTS.values())
    customers: list[_Customer] = []
    number = 1 + max(int(c.customer_id[2:]) for c in STORY_CUSTOMERS if c.customer_id.startswith("C-"))
    while len(customers) < CUSTOMER_COUNT - len(STORY_CUSTOMERS):
        country = rng.choices(countries, weights)[0]
        firsts, lasts = (names.split() for names in _NAMES[country])
        name = f"{rng.choice(firsts)} {rng.choice(lasts)}"
        email = f"{_ascii(name).replace(' ', '.')}@example.com".lower()
        if email in used_emails:
            continue
        used_emails.add(email)
        city, region, prefix = rng.choice(_CITIES[country])
        address = _address(name, _street(rng, country), city, region, _postcode(rng, country, prefix), country)
        customers.append(_Customer(f"C-{number}", name, email, country, region, address))
        number += 1
    return customers


def _random_orders(rng: random.Random, customers: list[_Customer], taken: set[str]) -> list[Order]:
    """Orders skewed towards recent weeks, so that every status is represented; ids follow placement time."""
    placed = sorted(
        (REFERENCE_NOW - timedelta(minutes=int(min(rng.expovariate(1 / 40), 180) * 1440) + 1), index)
        for index in range(RANDOM_ORDER_COUNT)
    )
    orders: list[Order] = []
    number = 10000
    for placed_at, _ in placed:
        while f"NW-{number}" in taken:
            number += 1
        orders.append(_random_order(rng, f"NW-{number}", rng.choice(customers), placed_at))
        number += rng.randint(1, 20)
    return orders


def _random_order(rng: random.Random, order_id: str, customer: _Customer, placed_at: datetime) -> Order:
    order = Order(
        order_id=order_id,
        customer_id=customer.customer_id,
        status="processing",
        placed_at=placed_at,
        items=tuple(_random_item(rng, customer.currency) for _ in range(rng.choices((1, 2, 3, 4), (50, 30, 15, 5))[0])),
        payment=_random_payment(rng),
        service="express" if rng.random() < 0.12 else "standard",
    )
    age = REFERENCE_NOW - placed_at
    if rng.random() < 0.04 and age > timedelta(hours=1):
        order.status = "cancelled"
        order.cancelled_at = placed_at + min(age / 2, timedelta(minutes=rng.randint(10, 1440)))
        return order
    shipped_at = placed_at + timedelta(minutes=rng.randint(6 * 60, 44 * 60))
    if shipped_at > REFERENCE_NOW:
        order.status = "pending" if age < timedelta(hours=6) and rng.random() < 0.5 else "processing"
        return order
    _ship(rng, order, customer, shipped_at)
    return order


def _ship(rng: random.Random, order: Order, customer: _Customer, shipped_at: datetime) -> None:
    zone = customer.zone
    low, high = (1, 2) if order.service == "express" else _TRANSIT_DAYS[zone]
    order.carrier = rng.choice(_CARRIERS[zone])
    order.tracking = _tracking(rng)
    order.shipped_at = shipped_at
    order.estimated_delivery = _add_business_days(shipped_at.date(), rng.randint(low, high))
    late_days = rng.randint(1, 3) if rng.random() < 0.1 else 0
    delivered_at = datetime.combine(order.estimated_delivery, datetime.min.time(), UTC) + timedelta(
        days=late_days, minutes=rng.randint(9 * 60, 19 * 60)
    )
    if delivered_at > REFERENCE_NOW:
        order.status = "shipped"
        scanned = min(shipped_at + timedelta(days=1), REFERENCE_NOW)
        order.last_scan = f"{scanned.date().isoformat()} {rng.choice(_HUBS[zone])}"
        return
    order.status = "delivered"
    order.delivered_at = delivered_at
    order.last_scan = f"{delivered_at.date().isoformat()} delivered"
    returned_at = delivered_at + timedelta(days=rng.randint(5, 25), minutes=rng.randint(0, 600))
    if rng.random() < 0.07 and returned_at < REFERENCE_NOW:
        order.status = "returned"
        order.returned_at = returned_at
        refunded_at = returned_at + timedelta(days=rng.randint(1, 4))
        if refunded_at < REFERENCE_NOW:
            faulty = rng.random() < 0.3
            fee = 0 if faulty else RETURN_FEE[customer.currency]
            reason = "Return received: faulty item" if faulty else "Return received, return shipping fee deducted"
            order.refund = (order.total_cents(customer.currency) - fee, reason, refunded_at)


def _random_item(rng: random.Random, currency: str) -> Item:
    sku, name, category, usd = rng.choice(_CATALOG)
    if category == "apparel":
        colour = rng.choice(list(_COLOURS))
        size = rng.choice(_SIZES)
        sku, name = f"{sku}-{_COLOURS[colour]}-{size}", f"{name}, {colour}, {size}"
    price = Decimal(usd) * _PRICE_FACTOR[currency]
    cents = int(price * 100) if currency == "USD" else int(price.quantize(Decimal(1))) * 100 - 1
    return Item(sku, name, category, cents, rng.choices((1, 2), (85, 15))[0])


def _random_payment(rng: random.Random) -> Payment:
    method = rng.choices(("card", "paypal", "gift_card"), (78, 16, 6))[0]
    if method == "paypal":
        return Payment("paypal", "PayPal", None)
    last4 = f"{rng.randrange(10000):04d}"
    if method == "gift_card":
        return Payment("gift_card", "Northwind gift card", last4)
    return Payment("card", rng.choices((VISA, MASTERCARD, AMEX), (50, 35, 15))[0], last4)


# --- Writing rows -----------------------------------------------------------------------------


def _write_customers(conn: sqlite3.Connection, customers: list[_Customer], rng: random.Random) -> None:
    stories = {c.customer_id: c for c in STORY_CUSTOMERS}
    rows = []
    for customer in customers:
        story = stories.get(customer.customer_id)
        plus_renewed_at = story.plus_renewed_at if story else _maybe_plus(rng)
        credit = int(Decimal(story.store_credit) * 100) if story else rng.choice((0, 0, 0, 0, 0, 0, 500, 1000, 2500))
        created = REFERENCE_NOW - timedelta(days=rng.randint(200, 2000), minutes=rng.randint(0, 1439))
        rows.append(
            (
                customer.customer_id,
                customer.name,
                customer.email,
                _phone(rng, customer.country),
                customer.country,
                customer.region,
                customer.currency,
                json.dumps(customer.address, ensure_ascii=False),
                _iso(created),
                int(plus_renewed_at is not None),
                plus_renewed_at,
                credit,
                int(rng.random() < 0.6),
            )
        )
    conn.executemany("INSERT INTO customers VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def _write_orders(conn: sqlite3.Connection, orders: list[Order], customers: dict[str, _Customer]) -> None:
    payment_ids = iter(range(20001, 10**6))
    refund_ids = iter(range(7001, 10**6))
    for order in orders:
        customer = customers[order.customer_id]
        currency = customer.currency
        total = order.total_cents(currency)
        conn.execute(
            "INSERT INTO orders VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                order.order_id,
                order.customer_id,
                order.status,
                currency,
                _iso(order.placed_at),
                order.subtotal_cents,
                order.shipping_cents(currency),
                total,
                order.service,
                json.dumps(customer.address, ensure_ascii=False),
                _iso(order.cancelled_at) if order.cancelled_at else None,
                _iso(order.returned_at) if order.returned_at else None,
            ),
        )
        conn.executemany(
            "INSERT INTO order_items VALUES (?,?,?,?,?,?,?)",
            [
                (order.order_id, line, i.sku, i.name, i.category, i.quantity, i.unit_price_cents)
                for line, i in enumerate(order.items, start=1)
            ],
        )
        for status, created, updated in _payment_history(order):
            payment_id = f"PM-{next(payment_ids)}"
            conn.execute(
                "INSERT INTO payments VALUES (?,?,?,?,?,?,?,?,?,?)",
                (
                    payment_id,
                    order.order_id,
                    order.payment.method,
                    order.payment.brand,
                    order.payment.last4,
                    status,
                    total,
                    currency,
                    _iso(created),
                    _iso(updated),
                ),
            )
        refund = _refund(order, total)
        if refund:
            amount, reason, source, at = refund
            conn.execute(
                "INSERT INTO refunds VALUES (?,?,?,?,?,?,?,'issued',?)",
                (f"RF-{next(refund_ids)}", order.order_id, payment_id, amount, currency, reason, source, _iso(at)),
            )
        if order.shipped_at:
            conn.execute(
                "INSERT INTO shipments VALUES (?,?,?,?,?,?,?,?,?)",
                (
                    order.order_id,
                    order.carrier,
                    order.tracking,
                    order.service,
                    "delivered" if order.delivered_at else "in_transit",
                    _iso(order.shipped_at),
                    order.estimated_delivery.isoformat() if order.estimated_delivery else None,
                    _iso(order.delivered_at) if order.delivered_at else None,
                    order.last_scan,
                ),
            )


def _payment_history(order: Order) -> list[tuple[str, datetime, datetime]]:
    """(status, created, updated) per payment row: cards are captured when they ship, others at checkout."""
    history: list[tuple[str, datetime, datetime]] = []
    authorised_at = order.placed_at
    if order.reauthorised_at:
        history.append(("voided", order.placed_at, order.reauthorised_at))
        authorised_at = order.reauthorised_at
    if order.payment.method != "card":
        history.append(("captured", authorised_at, authorised_at))
    elif order.cancelled_at:
        history.append(("voided", authorised_at, order.cancelled_at))
    elif order.shipped_at:
        history.append(("captured", authorised_at, order.shipped_at))
    else:
        history.append(("authorized", authorised_at, authorised_at))
    return history


def _refund(order: Order, total_cents: int) -> tuple[int, str, str, datetime] | None:
    """A cancelled order paid at checkout was refunded in full; a received return as _ship decided."""
    if order.cancelled_at and order.payment.method != "card":
        return total_cents, "Order cancelled at the customer's request", "cancel_order", order.cancelled_at
    if order.refund:
        amount, reason, at = order.refund
        return amount, reason, "return", at
    return None


def _write_tickets(conn: sqlite3.Connection, rng: random.Random, orders: list[Order]) -> None:
    story_ids = {c.customer_id for c in STORY_CUSTOMERS}
    random_orders = [o for o in orders if o.customer_id not in story_ids]
    rows = [(t.customer_id, t.order_id, t.subject, t.body, t.priority, t.status, t.created_at) for t in STORY_TICKETS]
    for order in rng.sample(random_orders, RANDOM_TICKET_COUNT):
        subject, body, priority = rng.choice(_TICKET_TEMPLATES[order.status])
        item = order.items[0].name.split(",")[0]
        created = order.placed_at + (REFERENCE_NOW - order.placed_at) * rng.random()
        age = REFERENCE_NOW - created
        status = "solved" if age > timedelta(days=7) else rng.choice(("open", "pending"))
        rows.append(
            (
                order.customer_id,
                order.order_id,
                subject.format(order=order.order_id, item=item),
                body.format(item=item),
                priority,
                status,
                _iso(created),
            )
        )
    rows.sort(key=lambda row: row[-1])
    conn.executemany(
        "INSERT INTO tickets VALUES (?,?,?,?,?,?,?,?)",
        [(f"TK-{5001 + n}", *row) for n, row in enumerate(rows)],
    )


# --- Small helpers ----------------------------------------------------------------------------


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()


def _address(name: str, line1: str, city: str, region: str | None, postal_code: str, country: str) -> dict[str, str]:
    """The address object the tools read and write (update_shipping_address takes the same shape)."""
    address = {"name": name, "line1": line1, "city": city}
    if region:
        address["region"] = region
    return address | {"postal_code": postal_code, "country": country}


def _add_business_days(start: date, days: int) -> date:
    current = start
    while days:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def _tracking(rng: random.Random) -> str:
    return f"{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.choice('ABCDEFGHJKLMNPRSTUVWXYZ')}{rng.randrange(10**10):010d}"


def _street(rng: random.Random, country: str) -> str:
    pattern, names, kinds = _STREETS[country]
    street = pattern.format(n=rng.randint(1, 240), s=rng.choice(names.split()), k=rng.choice(kinds.split()))
    return street.replace("-", " ") if country in ("FR", "ES") else street


def _postcode(rng: random.Random, country: str, prefix: str) -> str:
    if country == "UK":
        return f"{prefix} {rng.randint(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
    width = 5 - len(prefix)
    return f"{prefix}{rng.randrange(10**width):0{width}d}"


def _phone(rng: random.Random, country: str) -> str:
    return _PHONE[country].format(
        a=rng.randint(201, 989), b=rng.randrange(10000), c=rng.randrange(1000), d=rng.randrange(10**7)
    )


def _maybe_plus(rng: random.Random) -> str | None:
    if rng.random() >= 0.25:
        return None
    return _iso(REFERENCE_NOW - timedelta(days=rng.randint(0, 29), hours=rng.randint(0, 23)))
