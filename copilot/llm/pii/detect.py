"""All the detectors over one text: their spans merged, protected text left out."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from copilot.llm.pii.addresses import addresses, postcodes
from copilot.llm.pii.birth_dates import birth_dates
from copilot.llm.pii.credentials import secrets, tokens
from copilot.llm.pii.emails import emails
from copilot.llm.pii.known import PrivateValues, known_spans
from copilot.llm.pii.names import names
from copilot.llm.pii.national_ids import national_ids, passports
from copilot.llm.pii.network import ip_addresses
from copilot.llm.pii.orders import orders
from copilot.llm.pii.payment import bank_accounts, cards, ibans
from copilot.llm.pii.phones import DEFAULT_REGIONS, phones
from copilot.llm.pii.protected import outside, protected
from copilot.llm.pii.span import Span

DETECTORS: tuple[Callable[[str], Iterable[Span]], ...] = (
    secrets,
    tokens,
    emails,
    ibans,
    cards,
    national_ids,
    passports,
    bank_accounts,
    ip_addresses,
    birth_dates,
    addresses,
    postcodes,
    orders,
    names,
)
"""In order of precedence: where spans overlap, the merged span takes the kind of the first ("CVV 123" is a
secret, not an order number). Phones come after these, with the regions of the request."""


def find(text: str, private: PrivateValues | None = None, quoted: Sequence[tuple[int, int]] = ()) -> list[Span]:
    """Sorted, non-overlapping spans of personal data in ``text``; none inside a citation or a ``quoted`` range.

    Overlapping finds are merged into one span, so no part of a value is left out because two detectors
    each saw part of it.
    """
    private = private or PrivateValues()
    regions = tuple(dict.fromkeys((*private.regions, *DEFAULT_REGIONS)))
    found: list[Span] = list(known_spans(text, private))
    for detector in DETECTORS:
        found += detector(text)
    found += phones(text, regions)
    keep = protected(text, quoted)
    pieces = sorted(
        (Span(start, stop, span.kind), order)
        for order, span in enumerate(found)
        for start, stop in outside(span.start, span.stop, keep)
    )
    merged: list[tuple[Span, int]] = []
    for span, order in pieces:
        if merged and span.start < merged[-1][0].stop:
            last, last_order = merged[-1]
            kind = last.kind if last_order <= order else span.kind
            merged[-1] = (Span(last.start, max(last.stop, span.stop), kind), min(last_order, order))
        else:
            merged.append((span, order))
    return [span for span, _ in merged]
