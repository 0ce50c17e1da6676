"""PII redaction: personal data becomes placeholders before text leaves the machine, and comes back after.

Detection leans to over-redaction: a card-like digit run that is not a card costs the LLM a little
context, a missed card number is a leak. Emails, phones and order ids start from what
`copilot.reasoning.signals.extract_entities` finds, so redaction and the rules agree on them; the forms it misses and
the rest (any 13-19 digit run, IBANs, account numbers, addresses, given names) are matched here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from copilot.reasoning.signals import extract_entities

_PLACEHOLDER = re.compile(r"\[[A-Z]+_\d+\]")
_PLACEHOLDER_PREFIX = re.compile(r"\[[A-Z]*(?:_\d*)?")
"""What the start of a placeholder looks like while its end has not arrived yet."""
_LONGEST_PLACEHOLDER = 24

_CARD = re.compile(r"(?<![\d-])\d(?:[ -]?\d){12,18}(?![\d-])")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
_ACCOUNT = re.compile(r"\b(?:account|acct|a/c)\s*(?:no\.?|number|#)?\s*[:#]?\s*(?P<id>\d{6,12})\b", re.IGNORECASE)
# signals only knows a few prefixed ids (ORD-12345); "order #4471923" is as personal and more common in chat.
_PREFIXED_ID = re.compile(r"\b[A-Z]{2,4}-\d{4,12}\b", re.IGNORECASE)
"""A letters-dash-digits id (an order, a case, a customer number): personal enough to keep from an LLM."""
_ORDER = re.compile(r"\border\s*(?:no\.?|number|id)?\s*[:#]?\s*(?P<id>[A-Z]{0,4}-?\d{4,12})\b", re.IGNORECASE)
# signals wants 3-4 digit groups and misses "+44 20 7946 0958" and unseparated "07700900123".
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[ .-]?)?(?:\(\d{1,4}\)[ .-]?)?\d{2,4}(?:[ .-]?\d{2,4}){1,5}(?!\w)")
_UK_POSTCODE = re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]? ?\d[A-Z]{2}\b")
_STREET = re.compile(
    r"\b\d{1,5}(?: [A-Z][a-z]+){1,3} (?:Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr"
    r"|Court|Ct|Way|Place|Pl|Terrace|Close|Crescent)\b\.?"
)
_US_ZIP = re.compile(r"\b[A-Z]{2} \d{5}(?:-\d{4})?\b")


@dataclass(frozen=True)
class Redaction:
    """A redacted text and how to undo it."""

    text: str
    """The text with every piece of personal data replaced by a placeholder."""
    mapping: dict[str, str]
    """Placeholder (``[EMAIL_1]``) -> the original it stands for."""

    def restore(self, text: str) -> str:
        """Put the originals back; placeholders the mapping does not know (a model's invention) stay."""
        return _PLACEHOLDER.sub(lambda m: self.mapping.get(m.group(), m.group()), text)


def redact(text: str, known: Redaction | None = None, names: tuple[str, ...] = ()) -> Redaction:
    """Replace personal data in ``text``; with ``known``, an original seen before keeps its placeholder."""
    mapping = dict(known.mapping) if known else {}
    placeholder_of = {original: placeholder for placeholder, original in mapping.items()}
    parts: list[str] = []
    end = 0
    for start, stop, kind in _spans(text, names):
        original = text[start:stop]
        if original not in placeholder_of:
            number = sum(p.startswith(f"[{kind}_") for p in mapping) + 1
            placeholder_of[original] = f"[{kind}_{number}]"
            mapping[placeholder_of[original]] = original
        parts += [text[end:start], placeholder_of[original]]
        end = stop
    parts.append(text[end:])
    return Redaction("".join(parts), mapping)


def _spans(text: str, names: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, stop, kind) spans; where two detectors overlap, the one listed first wins."""
    entities = extract_entities(text)
    name_parts = {part for name in names for part in (name, *name.split()) if len(part) > 1}
    found = [
        *_located(text, entities.emails, "EMAIL"),
        *_matched(_IBAN, text, "IBAN"),
        *_matched(_CARD, text, "CARD"),
        *_located(text, entities.order_ids, "ORDER"),
        *_matched(_ORDER, text, "ORDER"),
        *_matched(_PREFIXED_ID, text, "ORDER"),
        *_matched(_ACCOUNT, text, "ACCOUNT"),
        *_located(text, entities.phones, "PHONE"),
        *_phones(text),
        *_matched(_STREET, text, "ADDRESS"),
        *_matched(_UK_POSTCODE, text, "POSTCODE"),
        *_matched(_US_ZIP, text, "ZIP"),
        # Longest first, so "Jane Doe" is one name rather than "Jane" and "Doe".
        # As written, not ignoring case: a customer called Will must not take "will" out of every sentence.
        *_located(text, sorted(name_parts, key=len, reverse=True), "NAME", re.NOFLAG),
    ]
    taken: list[tuple[int, int, str]] = []
    for start, stop, kind in found:
        if all(stop <= s or start >= e for s, e, _ in taken):
            taken.append((start, stop, kind))
    return sorted(taken)


def _matched(pattern: re.Pattern[str], text: str, kind: str) -> Iterator[tuple[int, int, str]]:
    """Spans of a pattern's ``id`` group where it has one (the number, not the words before it)."""
    group = "id" if "id" in pattern.groupindex else 0
    yield from ((m.start(group), m.end(group), kind) for m in pattern.finditer(text))


def _phones(text: str) -> Iterator[tuple[int, int, str]]:
    """Phone-shaped runs with enough digits; an unseparated run needs ten, so a 9-digit id is left alone."""
    for m in _PHONE.finditer(text):
        digits = sum(ch.isdigit() for ch in m.group())
        if (10 if m.group().isdigit() else 9) <= digits <= 15:
            yield m.start(), m.end(), "PHONE"


def _located(
    text: str, values: Iterable[str], kind: str, flags: re.RegexFlag = re.IGNORECASE
) -> Iterator[tuple[int, int, str]]:
    """Every occurrence of the values, found loosely: signals upper-cases order ids and drops their spaces."""
    for value in values:
        loose = r"\s?".join(re.escape(ch) for ch in value if not ch.isspace())
        pattern = re.compile(rf"(?<!\w){loose}(?!\w)", flags)
        yield from ((m.start(), m.end(), kind) for m in pattern.finditer(text))


class StreamRestorer:
    """Restores placeholders in streamed text, holding back a placeholder split across chunks ("[EMA" + "IL_1]")."""

    def __init__(self, redaction: Redaction) -> None:
        self._redaction = redaction
        self._pending = ""

    def feed(self, chunk: str) -> str:
        """The part of the text so far that is safe to show, restored."""
        text = self._pending + chunk
        cut = text.rfind("[")
        if cut >= 0 and len(text) - cut < _LONGEST_PLACEHOLDER and _PLACEHOLDER_PREFIX.fullmatch(text, cut):
            self._pending = text[cut:]
            text = text[:cut]
        else:
            self._pending = ""
        return self._redaction.restore(text)

    def flush(self) -> str:
        """Whatever was held back, at the end of the stream (an unfinished "[EMA" is shown as it is)."""
        text, self._pending = self._pending, ""
        return self._redaction.restore(text)
