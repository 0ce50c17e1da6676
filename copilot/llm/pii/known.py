"""Values the company's systems hold about the customer: redacted by value wherever they appear in a text.

A name has no shape a pattern could find, and a street or phone number may be written in a form no detector
expects; but the CRM record says exactly what they are. So every name, email, phone number, address line,
postcode and private record id from the conversation's header and its tool results is looked for as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, fields
from typing import Any

import phonenumbers

from copilot.action_policy import ActionPolicy
from copilot.conversation.state import Conversation
from copilot.llm.pii.span import Span, digits

_NAME_KEYS = frozenset(
    [
        "full_name",
        "customer_name",
        "first_name",
        "last_name",
        "given_name",
        "family_name",
        "surname",
        "middle_name",
        "contact_name",
        "recipient",
        "recipient_name",
        "cardholder",
        "cardholder_name",
        "account_holder",
        "billing_name",
    ]
)
_PERSON_KEYS = frozenset(
    ["email", "phone", "customer_id", "line1", "postal_code", "date_of_birth", "first_name", "last_name"]
)
"""Keys that make a record a person's (or an address's): then its ``name`` is a person's name, while the ``name``
of an order line is a product's."""
_PHONE_KEYS = frozenset(
    ["phone", "mobile", "telephone", "phone_number", "tel", "cell", "mobile_phone", "home_phone", "work_phone"]
)
_ADDRESS_PARTS = frozenset(
    [
        "line1",
        "line2",
        "line3",
        "street",
        "street_address",
        "address1",
        "address2",
        "postal_code",
        "postcode",
        "zip",
        "zip_code",
    ]
)
_BIRTH_KEYS = frozenset(["date_of_birth", "dob", "birth_date", "birthdate"])
_RUN = re.compile(r"(?<![\w+])[+(]?\d[\d ().\-/]{4,24}\d(?!\w)")
_SHORTEST_PHONE = 6
"""Digits of a known phone number's national part below which a match by value would hit too much."""


@dataclass(frozen=True)
class PrivateValues:
    """What the systems know about this customer, redacted wherever it appears, and where they live."""

    names: tuple[str, ...] = ()
    """Full names; each word of two letters or more is redacted on its own too ("Thanks Lauren")."""
    emails: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()
    """As the record writes them; found in a text by their digits, however the customer spaces them."""
    addresses: tuple[str, ...] = ()
    """Street lines and postcodes (a whole one-line address is split at its commas)."""
    ids: tuple[str, ...] = ()
    """Ids of records the pack says belong to a customer (systems.toml ``owner``), dates of birth."""
    regions: tuple[str, ...] = ()
    """Phone regions of the customer (ISO 3166 codes, from the conversation's jurisdiction), tried first."""

    def __or__(self, other: PrivateValues) -> PrivateValues:
        """Both sets of values, each kept once."""
        return PrivateValues(
            **{f.name: tuple(dict.fromkeys((*getattr(self, f.name), *getattr(other, f.name)))) for f in fields(self)}
        )


def known_spans(text: str, private: PrivateValues) -> Iterator[Span]:
    """Every occurrence of a private value in ``text``."""
    parts = {part for name in private.names for part in (name, *name.split()) if len(part) > 1}
    yield from _occurrences(text, parts, "NAME", loose=False)
    yield from _occurrences(text, private.emails, "EMAIL", loose=True)
    yield from _occurrences(text, _address_parts(private.addresses), "ADDRESS", loose=True)
    yield from _occurrences(text, private.ids, "ORDER", loose=True)
    yield from _phones(text, private.phones, private.regions)


def _occurrences(text: str, values: Iterable[str], kind: str, loose: bool) -> Iterator[Span]:
    """Whole-word occurrences, longest value first. Names as written (a customer called Will must not take
    "will" out of every sentence); the rest ignoring case and spacing, as customers retype them."""
    ordered = sorted({v.strip() for v in values if v.strip()}, key=len, reverse=True)
    if not ordered:
        return
    if loose:
        alternatives = [r"\s{0,2}".join(re.escape(ch) for ch in value if not ch.isspace()) for value in ordered]
    else:
        alternatives = [re.escape(value) for value in ordered]
    pattern = re.compile(rf"(?<!\w)(?:{'|'.join(alternatives)})(?!\w)", re.IGNORECASE if loose else re.NOFLAG)
    yield from (Span(m.start(), m.end(), kind) for m in pattern.finditer(text))


def _address_parts(addresses: Iterable[str]) -> set[str]:
    """The parts of one-line addresses that hold a digit (street line, postcode): a town alone is kept."""
    return {part.strip() for address in addresses for part in address.split(",") if any(c.isdigit() for c in part)}


def _phones(text: str, phones: Sequence[str], regions: Sequence[str]) -> Iterator[Span]:
    """Digit runs that end with a known number's national part ("0117 496 0123" for "+44 117 496 0123")."""
    nationals = {n for n in (_national(phone, regions) for phone in phones) if len(n) >= _SHORTEST_PHONE}
    if not nationals:
        return
    for m in _RUN.finditer(text):
        written = digits(m.group())
        if any(written.endswith(n) for n in nationals):
            yield Span(m.start(), m.end(), "PHONE")


def _national(phone: str, regions: Sequence[str]) -> str:
    """The national significant number, without country code or trunk prefix; the digits as a last resort."""
    try:
        return str(phonenumbers.parse(phone, regions[0] if regions else "US").national_number)
    except phonenumbers.NumberParseException:
        return digits(phone).lstrip("0")


def private_values(conversation: Conversation, policy: ActionPolicy | None = None) -> PrivateValues:
    """The customer's values from the conversation's header and every tool result it holds; with ``policy``,
    also the ids of the record kinds its systems.toml says belong to a customer."""
    id_fields = tuple(
        kind.id_path.rsplit(".", 1)[-1] for kind in (policy.kinds.values() if policy else ()) if kind.owner
    )
    found = from_records(conversation.results(), id_fields)
    header = PrivateValues(names=(conversation.customer_name,) if conversation.customer_name else ())
    return header | found | PrivateValues(regions=_regions(conversation.jurisdiction))


def from_records(records: Iterable[Mapping[str, Any]], id_fields: Sequence[str] = ()) -> PrivateValues:
    """Names, emails, phones, address parts, dates of birth and the ``id_fields`` values of records, at any depth."""
    values: dict[str, list[str]] = {f.name: [] for f in fields(PrivateValues)}
    for record in records:
        _collect(record, values, frozenset(id_fields))
    return PrivateValues(**{name: tuple(dict.fromkeys(found)) for name, found in values.items()})


def _collect(record: Mapping[str, Any], values: dict[str, list[str]], id_fields: frozenset[str]) -> None:
    person = bool(_PERSON_KEYS & record.keys())
    for key, value in record.items():
        if isinstance(value, Mapping):
            _collect(value, values, id_fields)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    _collect(item, values, id_fields)
        elif isinstance(value, str | int) and not isinstance(value, bool) and str(value).strip():
            _put(key.lower(), str(value), person, values, id_fields)


def _put(key: str, value: str, person: bool, values: dict[str, list[str]], id_fields: frozenset[str]) -> None:
    """File one field's value under the kind its key names."""
    if key in _NAME_KEYS or (key == "name" and person):
        values["names"].append(value)
    elif "email" in key and "@" in value:
        values["emails"].append(value)
    elif key in _PHONE_KEYS:
        values["phones"].append(value)
    elif key in _ADDRESS_PARTS or ("address" in key and any(c.isdigit() for c in value)):
        values["addresses"].append(value)
    elif key in _BIRTH_KEYS or key in id_fields:
        values["ids"].append(value)


def _regions(jurisdiction: str) -> tuple[str, ...]:
    """Phone regions of a jurisdiction code: ``US-CA`` → US, ``EU-DE`` → DE, ``UK`` → GB."""
    code = jurisdiction.upper().removeprefix("EU-").split("-")[0]
    code = {"UK": "GB", "EL": "GR"}.get(code, code)
    return (code,) if code in phonenumbers.SUPPORTED_REGIONS else ()
