"""Dates of birth: a date after a birth word. Other dates (an order's, a refund's) are what the model needs."""

from __future__ import annotations

from collections.abc import Iterator

from copilot.llm.pii.cues import after
from copilot.llm.pii.span import Span, matched

_MONTH = r"[A-Za-zÀ-ÿ]{3,10}\.?"
_DATE = (
    r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th|er|º)?\.?\s(?:de\s)?{_MONTH}\s(?:de\s)?\d{{4}}|{_MONTH}\s\d{{1,2}}(?:st|nd|rd|th)?,?\s\d{{4}}"
)
_BIRTH = after(
    r"date\sof\sbirth|d\.?o\.?b\.?|born(?:\son)?|birthday|geboren(?:\sam)?|geburtsdatum|geb\.|geburtstag"
    r"|n[ée]e?\sle|date\sde\snaissance|fecha\sde\snacimiento|nac[íi]\sel|nacid[oa]\sel|cumpleaños",
    _DATE,
)


def birth_dates(text: str) -> Iterator[Span]:
    """Dates written after "date of birth", "geboren am", "né le", "fecha de nacimiento" and the like."""
    yield from matched(_BIRTH, text, "DOB")
