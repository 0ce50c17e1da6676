"""The verification layer: every amount, percentage and duration in rep text must be backed by a policy
clause about the same thing, or by a figure already in the conversation; what is not is flagged.

"Backed" is arithmetic, not judgement: a clause saying "up to $25" backs $20 but not $50; "3 to 10
business days" backs 5 days but not 2; the customer's own "$129" backs the rep repeating it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from functools import lru_cache

from copilot.reasoning.signals import TEXTS_REMEMBERED, extract_entities, sentences

_DURATION = re.compile(
    r"\b(\d+(?:\.\d+)?)(?:\s*(?:-|–|to|or)\s*(\d+(?:\.\d+)?))?\s*(?:business |working |calendar )?"
    r"[-\s]?(hour|day|week|month|year)s?\b",
    re.IGNORECASE,
)
_PERCENT = re.compile(r"\b(\d+(?:\.\d+)?)\s?(?:%|percent\b)", re.IGNORECASE)
_UPPER = re.compile(
    r"(?:up to|at most|maximum of|max(?:imum)?|no more than|not more than|under|below|less than|"
    r"limit of|capped at)\s*(?:[$£€]\s?\d[\d.,]*\s*(?:/|or|,)\s*)*$",
    re.IGNORECASE,
)
"""Words that make a policy amount a ceiling ("up to $25 / £20 / €25"); durations stay exact promises."""
_NEEDS_APPROVAL = re.compile(r"\b(?:approv\w*|team lead|lead'?s|manager|supervisor|sign[- ]off)\b", re.IGNORECASE)
"""A policy figure in a sentence like this is a limit someone else must approve: it backs nothing a rep says."""
_WORDS = {
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "fourteen": 14,
    "thirty": 30,
    "sixty": 60,
}


@dataclass(frozen=True)
class Quantity:
    """A number with its unit (a currency code, ``day``/``week``/..., or ``%``), or a range of them."""

    low: Decimal
    high: Decimal
    unit: str
    text: str


def _numbers_as_digits(text: str) -> str:
    return re.sub(
        r"\b(" + "|".join(_WORDS) + r")\b(?=\s*-?\s*(?:business |working )?(?:day|week|month|hour|year))",
        lambda m: str(_WORDS[m.group(1).lower()]),
        text,
        flags=re.IGNORECASE,
    )


@lru_cache(maxsize=TEXTS_REMEMBERED)
def quantities(text: str, *, ranges: bool) -> tuple[Quantity, ...]:
    """Amounts, durations and percentages; with ``ranges``, "up to X" reads as 0..X (how policy states limits).

    Remembered per text: clause texts and earlier turns are read on every message."""
    text = _numbers_as_digits(text)
    found: list[Quantity] = []

    def add(match: re.Match[str], low: Decimal, high: Decimal, unit: str) -> None:
        if ranges and unit.isupper() and _UPPER.search(text[max(0, match.start() - 40) : match.start()]):
            low = Decimal(0)
        found.append(Quantity(low, high, unit, match.group()))

    for money in extract_entities(text).money:
        for match in re.finditer(re.escape(money.text), text):
            add(match, money.amount, money.amount, money.currency)
    for match in _DURATION.finditer(text):
        low = Decimal(match.group(1))
        high = Decimal(match.group(2)) if match.group(2) else low
        add(match, low, high, match.group(3).lower())
    for match in _PERCENT.finditer(text):
        add(match, Decimal(match.group(1)), Decimal(match.group(1)), "%")
    return tuple(found)


def backed(claim: Quantity, support: Sequence[Quantity]) -> bool:
    return any(s.unit == claim.unit and s.low <= claim.low and claim.high <= s.high for s in support)


ClauseFinder = Callable[[str, str], Sequence[str]]
"""(sentence, jurisdiction) → texts of the policy clauses that govern it."""


FINDER_CLAUSES = 6
"""Clauses consulted per sentence: the governing clause is usually, not always, the nearest one."""


_MONTHS = {
    m: i
    for i, m in enumerate(("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), start=1)
}


def _day(text: str) -> tuple[int, int] | None:
    """(month, day) of a written date; day-first for d/m forms, as the demo regions outside the US write them."""
    iso = re.match(r"(\d{4})-(\d{2})-(\d{2})", text)
    if iso:
        return int(iso.group(2)), int(iso.group(3))
    slash = re.match(r"(\d{1,2})/(\d{1,2})", text)
    if slash:
        return int(slash.group(2)), int(slash.group(1))
    month = next((n for m, n in _MONTHS.items() if m in text.lower()), None)
    day = re.search(r"\d{1,2}", text)
    if day and not month and text.lower().startswith("the "):
        return 0, int(day.group())  # "by the 18th": the month is implied
    return (month, int(day.group())) if month and day else None


@lru_cache(maxsize=TEXTS_REMEMBERED)
def dates(text: str) -> tuple[tuple[str, tuple[int, int]], ...]:
    """Written dates of ``text`` with their (month, day)."""
    return tuple((d, when) for d in extract_entities(text).dates if (when := _day(d)))


@dataclass(frozen=True)
class Unsupported:
    """A span of rep text that nothing cited backs, with the reason in plain words."""

    start: int
    end: int
    text: str
    reason: str


def policy_figures(clauses: Sequence[str]) -> list[Quantity]:
    """The figures clauses state (ranges included), except in sentences about what needs an approval."""
    return [
        q
        for clause in clauses
        for part in re.split(r"(?<=[.!?])\s+", clause)
        if not _NEEDS_APPROVAL.search(part)
        for q in quantities(part, ranges=True)
    ]


def verify(
    text: str,
    cited: Sequence[str],
    known: Sequence[str],
    jurisdiction: str = "",
    find_clauses: ClauseFinder | None = None,
) -> list[Unsupported]:
    """Every amount, percentage, duration and date in ``text`` not backed by a cited clause (``cited``,
    plus the clauses ``find_clauses`` finds for its sentence) or by a known fact (``known``: the
    conversation and system data). Promises are judged by the commitment rule, not here.
    """
    facts = [q for t in known for q in quantities(t, ranges=False)]
    known_days = {when for t in [*known, *cited] for _, when in dates(t)}
    known_days |= _deadlines(known, cited)
    policy = policy_figures(cited)
    found: list[Unsupported] = []
    offset = 0
    for sentence in sentences(text):
        at = text.find(sentence, offset)
        offset = at + len(sentence)
        claims = quantities(sentence, ranges=False)
        written = dates(sentence)
        if not claims and not written:
            continue
        # The clauses found for the sentence are searched for only when a figure needs them.
        found_policy: list[Quantity] | None = None
        for claim in claims:
            if _elapsed(_numbers_as_digits(sentence), claim.text) or backed(claim, policy) or backed(claim, facts):
                continue
            if found_policy is None:
                found_policy = policy_figures(find_clauses(sentence, jurisdiction)) if find_clauses else []
            if not backed(claim, found_policy):
                found.append(
                    _span(
                        text,
                        sentence,
                        at,
                        claim.text,
                        f"“{claim.text}” is not backed by a cited clause or a system fact",
                    )
                )
        for written_date, when in written:
            if when not in known_days and not (when[0] == 0 and any(day == when[1] for _, day in known_days)):
                found.append(
                    _span(
                        text,
                        sentence,
                        at,
                        written_date,
                        f"the date “{written_date}” is not in a cited clause or a system record",
                    )
                )
    return found


def _elapsed(sentence: str, claim: str) -> bool:
    """ "41 days ago", "it's been 3 weeks": time that has passed is a fact about the case, not a promise."""
    at = sentence.find(claim)
    return at >= 0 and bool(
        re.match(r"\s*(?:ago|since|late|overdue)\b", sentence[at + len(claim) :])
        or re.search(
            r"\b(?:been|waited|waiting|for the (?:past|last)|(?:stopped working|broke|failed|lasted|had it|used it)"
            r"(?: \w+)? (?:after|for))\s*$",
            sentence[:at],
        )
    )


def _deadlines(known: Sequence[str], cited: Sequence[str]) -> set[tuple[int, int]]:
    """Dates a policy period yields from a recorded date: delivered 2026-11-02 + 30 days → December 2."""
    starts = [date.fromisoformat(m) for t in known for m in re.findall(r"\b\d{4}-\d{2}-\d{2}\b", t)]
    periods = {
        int(q.high) * {"day": 1, "week": 7}[q.unit]
        for t in cited
        for q in quantities(t, ranges=False)
        if q.unit in ("day", "week") and q.low == q.high
    }
    found = set()
    for start in starts:
        for days in periods:
            end = start + timedelta(days=days)
            found.add((end.month, end.day))
    return found


def _span(text: str, sentence: str, at: int, claim: str, reason: str) -> Unsupported:
    inside = sentence.find(claim)
    if inside < 0:  # written in words ("five days"): mark the sentence
        return Unsupported(at, at + len(sentence), sentence, reason)
    return Unsupported(at + inside, at + inside + len(claim), claim, reason)
