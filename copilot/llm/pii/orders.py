"""Order and customer ids: after an order word, or letters-dash-digits ids (``AB-12345``) that no product word names.

An order id is not sensitive by itself, but it finds the customer in the company's systems, so it is kept
from the model like the rest; the model copies the placeholder, and the rep sees the id again.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from copilot.llm.pii.cues import after
from copilot.llm.pii.span import Span, matched

_ORDER = after(
    r"order|ord\.|bestellung|bestellnummer|auftrag(?:snummer)?|commande|pedido|n[uú]mero\sde\spedido"
    r"|customer\s(?:id|number)|kundennummer|num[ée]ro\sclient|n[uú]mero\sde\scliente",
    r"(?:(?:no\.?|number|nr\.?|n[°º]\.?|num(?:ber|[ée]ro)|id)\s{0,2}[:#]?\s{0,2})?#?\s?"
    r"(?P<id>[A-Z]{0,4}[-#]?\d{4,12})(?![\w-])",
)
_PREFIXED = re.compile(r"(?<![\w-])[A-Z]{2,4}[-#]\d{4,12}(?![\w-])")
"""Letters, a dash and digits, as written (``AB-12345``, ``ORD-20931``)."""
_PRODUCT = re.compile(
    r"(?i:model|modell|modèle|modelo|sku|item|part|art\.|artikel(?:nummer)?|ref\.?|r[ée]f[ée]rence|referencia"
    r"|product|produkt|produit|producto|isbn|ean|batch|lot|charge)\W{0,4}$"
)
"""A product word before the id: then it names a thing, not a customer's order."""


def orders(text: str) -> Iterator[Span]:
    """Ids after an order or customer word, and letters-dash-digits ids not named as a product."""
    for m in _ORDER.finditer(text):
        yield Span(m.start("id"), m.end("id"), "ORDER")
    for span in matched(_PREFIXED, text, "ORDER"):
        if not _PRODUCT.search(text, max(0, span.start - 16), span.start):
            yield span
