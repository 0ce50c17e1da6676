"""Phone numbers: linear candidate runs, each parsed and validated by ``phonenumbers`` for the regions that fit.

``phonenumbers.PhoneNumberMatcher`` does the same search itself, but it scans the text once per region and
took 2-7 s per region set on a 50 KB message here; so the runs are found once by a bounded pattern and only
they are handed to libphonenumber, which decides with its per-region metadata whether each is a number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber

from copilot.llm.pii.cues import after
from copilot.llm.pii.span import Span, digits

DEFAULT_REGIONS = ("US", "GB", "DE", "FR", "ES")
"""Regions tried for a number written without its country code, after the conversation's own."""

_RUN = re.compile(r"(?<![\w+/])(?:\+|00)?\(?\d[\d ().\-/]{4,24}\d(?![\w])")
"""A run of digits with the separators phone numbers are written with; long runs are cut to numbers below."""
_GROUP = re.compile(r"\d+")
_DATE = re.compile(r"\d{4}([-./])\d{1,2}\1\d{1,2}|\d{1,2}([-./])\d{1,2}\2\d{2,4}")
_SHORTEST, _LONGEST = 7, 15
"""Digits in the shortest local number worth taking and in the longest number E.164 allows."""
_MOST_TRIES = 4
"""Pieces of one run handed to libphonenumber at most: a run holds one or two numbers, found in the first
tries; a run of digit pairs ("01 23 01 23 …") would otherwise cost dozens of parses."""
_CUED = after(
    r"phone|tel\.?|telephone|mobile|cell|call\s(?:me\s)?(?:on|at)|text|whatsapp|number|nummer|handy|telefon"
    r"|festnetz|mobil|rufnummer|t[ée]l[ée]phone|portable|num[ée]ro|tel[ée]fono|m[óo]vil|fijo|ll[áa]mame\s(?:al)?",
    r"(?:\+|00)?\(?\d[\d ().\-/]{4,24}\d(?!\w)",
)


def phones(text: str, regions: Sequence[str] = DEFAULT_REGIONS) -> Iterator[Span]:
    """Runs that libphonenumber calls valid in one of ``regions`` (or anywhere, with a ``+``); after a phone word,
    any run of phone length that is a possible number."""
    cued = {m.start("v") for m in _CUED.finditer(text)}
    for m in _RUN.finditer(text):
        for start, stop in _numbers(m.group(), regions, possible=m.start() in cued):
            yield Span(m.start() + start, m.start() + stop, "PHONE")


def _numbers(run: str, regions: Sequence[str], possible: bool) -> Iterator[tuple[int, int]]:
    """Where in ``run`` numbers stand: the whole run, else the longest pieces of whole digit groups."""
    if _DATE.fullmatch(run):
        return
    groups = [(g.start(), g.end()) for g in _GROUP.finditer(run)]
    first, tries = 0, 0
    while first < len(groups) and tries < _MOST_TRIES:
        for last in range(len(groups) - 1, first - 1, -1):
            start, stop = (0 if first == 0 else groups[first][0]), groups[last][1]
            piece = run[start:stop]
            if not _SHORTEST <= len(digits(piece)) <= _LONGEST:
                continue
            tries += 1
            if _is_number(piece, regions, possible):
                yield start, stop
                first = last + 1
                break
            if tries >= _MOST_TRIES:
                return
        else:
            first += 1


def _is_number(piece: str, regions: Sequence[str], possible: bool) -> bool:
    """Valid in one of ``regions``; a number without its country code is tried only in the regions whose national
    numbers it could be (their trunk prefix ``0`` where they have one, and a length they allow), so most runs
    cost one parse or none."""
    written = piece.lstrip("(")
    if written.startswith(("+", "00")):
        number = _parsed("+" + written.removeprefix("00").lstrip("+"), "ZZ")
        return number is not None and (phonenumbers.is_valid_number(number) or possible)
    number_digits = digits(piece)
    for region in regions:
        if not possible and not _fits(number_digits, region):
            continue
        number = _parsed(piece, region)
        if number is not None and (
            phonenumbers.is_valid_number(number) or (possible and phonenumbers.is_possible_number(number))
        ):
            return True
    return False


def _fits(number_digits: str, region: str) -> bool:
    """Whether digits written without a country code can be a national number of ``region``: with the region's
    trunk prefix when it is ``0`` (GB, DE, FR write it; the US's ``1`` is optional) and of a length it allows."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region(region)
    if metadata is None or metadata.general_desc is None:
        return False
    significant = number_digits
    if metadata.national_prefix == "0":
        if not significant.startswith("0"):
            return False
        significant = significant[1:]
    elif metadata.national_prefix and significant.startswith(metadata.national_prefix):
        significant = significant[len(metadata.national_prefix) :]
    return len(significant) in (metadata.general_desc.possible_length or ())


def _parsed(piece: str, region: str) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(piece, region)
    except NumberParseException:
        return None
