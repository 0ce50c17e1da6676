"""The verification layer: every amount, percentage and duration in rep text must be backed by a policy
clause about the same thing, or by a figure already in the conversation; what is not is flagged.

"Backed" is arithmetic, not judgement: a clause saying "up to $25" backs $20 but not $50; "3 to 10
business days" backs 5 days but not 2; the customer's own "$129" backs the rep repeating it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from copilot.rules import Draft, Flag
from copilot.signals import extract_entities
from copilot.workspace import Workspace

_DURATION = re.compile(r"\b(\d+(?:\.\d+)?)(?:\s*(?:-|–|to|or)\s*(\d+(?:\.\d+)?))?\s*(?:business |working |calendar )?"
                       r"(hour|day|week|month|year)s?\b", re.IGNORECASE)
_PERCENT = re.compile(r"\b(\d+(?:\.\d+)?)\s?(?:%|percent\b)", re.IGNORECASE)
_UPPER = re.compile(r"(?:up to|at most|maximum of|max(?:imum)?|no more than|not more than|under|below|less than|"
                    r"limit of|capped at)\s*(?:[$£€]\s?\d[\d.,]*\s*(?:/|or|,)\s*)*$", re.IGNORECASE)
"""Words that make a policy amount a ceiling ("up to $25 / £20 / €25"); durations stay exact promises."""
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
          "fourteen": 14, "thirty": 30, "sixty": 60}


@dataclass(frozen=True)
class Quantity:
    """A number with its unit (a currency code, ``day``/``week``/..., or ``%``), or a range of them."""

    low: Decimal
    high: Decimal
    unit: str
    text: str


def _numbers_as_digits(text: str) -> str:
    return re.sub(r"\b(" + "|".join(_WORDS) + r")\b(?=\s*(?:business |working )?(?:day|week|month|hour|year))",
                  lambda m: str(_WORDS[m.group(1).lower()]), text, flags=re.IGNORECASE)


def quantities(text: str, *, ranges: bool) -> list[Quantity]:
    """Amounts, durations and percentages; with ``ranges``, "up to X" reads as 0..X (how policy states limits)."""
    text = _numbers_as_digits(text)
    found: list[Quantity] = []

    def add(match: re.Match[str], low: Decimal, high: Decimal, unit: str) -> None:
        if ranges and unit.isupper() and _UPPER.search(text[max(0, match.start() - 40):match.start()]):
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
    return found


def backed(claim: Quantity, support: Sequence[Quantity]) -> bool:
    return any(s.unit == claim.unit and s.low <= claim.low and claim.high <= s.high for s in support)


ClauseFinder = Callable[[str, str], Sequence[str]]
"""(sentence, jurisdiction) → texts of the policy clauses that govern it."""


FINDER_CLAUSES = 6
"""Clauses consulted per sentence: the governing clause is usually, not always, the nearest one."""


def workspace_clauses(workspace: Workspace) -> ClauseFinder:
    """A ClauseFinder over the workspace's active pack versions, ranked without a floor."""

    def find(sentence: str, jurisdiction: str) -> list[str]:
        keys = [v.key for v in workspace.catalog.active_versions()]
        return [h.text for h in workspace.searcher.search(sentence, (), keys, jurisdiction, k=FINDER_CLAUSES,
                                                          floor=0.0).hits]

    return find


def claim_rule(find_clauses: ClauseFinder) -> Callable[[Draft], list[Flag]]:
    """The unverified-claim rule, given a way to find the clauses a sentence is about."""

    def unverified(draft: Draft) -> list[Flag]:
        context = [q for t in draft.context for q in quantities(t.text, ranges=False)]
        for sentence in re.split(r"(?<=[.!?])\s+|\n", draft.text):
            claims = quantities(sentence, ranges=False)
            if not claims:
                continue
            policy = [q for clause in find_clauses(sentence, draft.jurisdiction) for q in quantities(clause, ranges=True)]
            for claim in claims:
                if not backed(claim, policy) and not backed(claim, context):
                    return [Flag("verify-figures", "unverified_claim",
                                 f"“{claim.text}” is not backed by a cited clause or a system fact: check it or take it out.",
                                 claim.text, "conduct.no-guarantees")]
        return []

    return unverified
