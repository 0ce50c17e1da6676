"""Cards (Luhn), IBANs (mod 97, per-country length) and bank account numbers after a cue word."""

from __future__ import annotations

import re
from collections.abc import Iterator

from stdnum import iban, luhn

from copilot.llm.pii.cues import after
from copilot.llm.pii.span import Span, digits, matched

_CARD_RUN = re.compile(r"(?<![\d.,-])\d(?:[ .-]?\d){12,18}(?![\d])")
"""13 to 19 digits with single spaces, dots or dashes between them (``4111.1111.1111.1111``)."""
_CARD_CUE = re.compile(
    r"(?i:card|karte|carte|tarjeta|visa|mastercard|amex|maestro|cb|kreditkarte|número|numéro|nummer)\W{0,12}$"
)
"""A card word just before a digit run: then a run that fails Luhn (a typo) is still a card number."""
_IBAN_RUN = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}\d{2}(?: ?[A-Za-z0-9]){11,30}(?![A-Za-z0-9])")
_IBAN_CUE = re.compile(r"(?i:iban)\W{0,6}$")
_SHORTEST_IBAN = 15
"""Norway's: the shortest IBAN of any country."""

_ACCOUNT_WORDS = (
    r"account(?:\s(?:no\.?|number|#))?|acct\.?(?:\s(?:no\.?|#))?|a/c|konto(?:nummer)?|kto\.?(?:-nr\.?)?"
    r"|num[ée]ro de compte|compte|n[uú]mero de cuenta|cuenta"
)
_ACCOUNT = after(_ACCOUNT_WORDS, r"\d{6,12}(?![\d])")
_SORT_CODE = after(r"sort\s?code", r"\d{2}[ -]?\d{2}[ -]?\d{2}(?!\d)")
_ROUTING = after(r"routing(?:\snumber)?|aba(?:\snumber)?|rtn", r"\d{9}(?!\d)")
_BLZ = after(r"blz|bankleitzahl", r"\d{3}\s?\d{3}\s?\d{2}(?!\d)")


def cards(text: str) -> Iterator[Span]:
    """Digit runs that pass Luhn, trailing groups dropped until one does; any run of the length after a card word."""
    for m in _CARD_RUN.finditer(text):
        cued = _CARD_CUE.search(text, max(0, m.start() - 30), m.start()) is not None
        stop = _luhn_prefix(m.group())
        if stop:
            yield Span(m.start(), m.start() + stop, "CARD")
        elif cued:
            yield Span(m.start(), m.end(), "CARD")


def _luhn_prefix(run: str) -> int:
    """Length of the longest prefix of ``run`` ending at a group edge that has 13+ digits and passes Luhn; 0 if none."""
    ends = [i for i in range(1, len(run) + 1) if i == len(run) or not run[i].isdigit()]
    for end in reversed(ends):
        number = digits(run[:end])
        if len(number) >= 13 and luhn.is_valid(number):
            return end
    return 0


def ibans(text: str) -> Iterator[Span]:
    """IBAN-shaped runs whose check digits are right for their country's length; after "IBAN", any such run."""
    for m in _IBAN_RUN.finditer(text):
        run = m.group()
        cued = _IBAN_CUE.search(text, max(0, m.start() - 12), m.start()) is not None
        for end in range(len(run), 0, -1):
            if run[end - 1] != " " and len(run[:end].replace(" ", "")) >= _SHORTEST_IBAN and iban.is_valid(run[:end]):
                yield Span(m.start(), m.start() + end, "IBAN")
                break
        else:
            if cued:
                yield Span(m.start(), m.end(), "IBAN")


def bank_accounts(text: str) -> Iterator[Span]:
    """Account numbers, UK sort codes, US routing numbers and German bank codes, each after its word."""
    for pattern in (_ACCOUNT, _SORT_CODE, _ROUTING, _BLZ):
        yield from matched(pattern, text, "ACCOUNT")
