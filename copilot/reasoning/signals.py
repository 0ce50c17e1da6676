"""Per-message signals: entities (order ids, emails, money, dates, card-like numbers, phones) and sentiment.

Each is a pure function of one text, remembered (``functools.lru_cache``): a turn is read once when it
arrives, however many stages and later messages look at it again.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from copilot.conversation.state import Conversation

_ORDER = re.compile(r"\bORD(?:ER)?[-#]?\s?\d{4,8}\b", re.IGNORECASE)
"""Order numbers written as such (``ORD-12345``); a company's own id formats come from its pack (systems.toml)."""
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_NUMBER = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?"
_MONEY = re.compile(
    rf"(?:(?P<sym>[$£€])\s?(?P<a>{_NUMBER})|(?P<b>{_NUMBER})\s?(?P<code>USD|GBP|EUR|dollars|pounds|euros)\b)",
    re.IGNORECASE,
)
_DATE = re.compile(
    r"\b(?:\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}(?:/\d{2,4})?|(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+\d{1,2}(?:st|nd|rd|th)?|\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*|"
    r"the\s+\d{1,2}(?:st|nd|rd|th)(?!\s+(?:time|attempt|call|contact|floor|item|order|one|person|chat|email)))\b",
    re.IGNORECASE,
)
_CARD = re.compile(r"\b(?:\d[ -]?){13,19}\b")
_PHONE = re.compile(
    r"(?<![\w-])(?:\+\d{1,3}[\s-]?)?(?:\(\d{2,4}\)[\s-]?)?\d{3,4}[\s-]\d{3,4}(?:[\s-]\d{2,4})?(?![\w-])"
)
_CURRENCY = {
    "$": "USD",
    "£": "GBP",
    "€": "EUR",
    "usd": "USD",
    "gbp": "GBP",
    "eur": "EUR",
    "dollars": "USD",
    "pounds": "GBP",
    "euros": "EUR",
}


@dataclass(frozen=True)
class Money:
    """An amount with its currency, as written."""

    amount: Decimal
    currency: str
    text: str


@dataclass(frozen=True)
class Entities:
    """What a message names that systems and rules care about."""

    order_ids: tuple[str, ...] = ()
    emails: tuple[str, ...] = ()
    money: tuple[Money, ...] = ()
    dates: tuple[str, ...] = ()
    card_numbers: tuple[str, ...] = ()
    """Digit runs that pass the Luhn check: a full card number, never to be shown or sent."""
    phones: tuple[str, ...] = ()


def luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


TEXTS_REMEMBERED = 4096
"""Texts whose analysis is kept: many conversations' worth of turns, clause sentences and drafts."""


def rx(*alternatives: str) -> re.Pattern[str]:
    """One case-insensitive pattern that matches any of ``alternatives`` (the detectors' phrase lists)."""
    return re.compile("|".join(f"(?:{p})" for p in alternatives), re.IGNORECASE)


def _bare(char: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))


_SAME = {"\u2019": "'", "\u2018": "'", "\u02bc": "'"}
"""Typographic apostrophes read as the plain one (``c’est``, ``mir reicht’s``)."""


def _fold_char(char: str) -> str:
    bare = _SAME.get(char) or _bare(char).lower()
    return bare if len(bare) == 1 else char.lower()


@lru_cache(maxsize=TEXTS_REMEMBERED * 4)
def fold(text: str) -> str:
    """``text`` lowercased and without accents (``Ärger, très`` → ``arger, tres``), one character for one, so
    a match in the folded text is at the same place in the original: a pack's phrases match however a
    customer types accents, and the evidence shown is still the customer's own words."""
    return "".join(_fold_char(c) for c in text)


@lru_cache(maxsize=1024)
def pack_pattern(phrases: tuple[str, ...], patterns: tuple[str, ...] = ()) -> re.Pattern[str] | None:
    """One pattern for a pack's phrases and regular expressions, to search in ``fold``-ed text (None when
    there are none): phrases are whole words, and a ``*`` at either end stands for the rest of the word
    (``verstorben*`` also finds ``verstorbene``, ``*anwalt`` finds ``Rechtsanwalt``); the expressions are
    case-insensitive and lose their accents as the text does (``fallecí`` finds ``falleci``)."""
    parts = [
        (r"\w*" if p.startswith("*") else r"\b")
        + re.escape(fold(p.strip("*")))
        + (r"\w*" if p.endswith("*") else r"\b")
        for p in phrases
    ]
    parts += ["".join(c if len(bare := _bare(c)) != 1 else bare for c in p) for p in patterns]
    return re.compile("|".join(f"(?:{p})" for p in parts), re.IGNORECASE) if parts else None


@lru_cache(maxsize=TEXTS_REMEMBERED * 8)
def found(pattern: re.Pattern[str], text: str) -> re.Match[str] | None:
    """``pattern.search(text)``, remembered: the rules read the same draft sentences and earlier turns
    again on every message of a conversation, and a scan of their long phrase lists holds the GIL."""
    return pattern.search(text)


@lru_cache(maxsize=TEXTS_REMEMBERED)
def extract_entities(text: str) -> Entities:
    cards = tuple(
        m.group().strip()
        for m in _CARD.finditer(text)
        if 13 <= len(d := re.sub(r"\D", "", m.group())) <= 19 and luhn(d)
    )
    money = []
    for m in _MONEY.finditer(text):
        raw = (m.group("a") or m.group("b") or "").replace(",", "")
        unit = (m.group("sym") or m.group("code") or "").lower()
        money.append(Money(Decimal(raw), _CURRENCY.get(unit, unit.upper()), m.group().strip()))
    phones = tuple(
        p.group().strip()
        for p in _PHONE.finditer(text)
        if not any(p.group().strip() in c for c in cards) and len(re.sub(r"\D", "", p.group())) >= 9
    )
    return Entities(
        tuple(m.group().upper().replace(" ", "") for m in _ORDER.finditer(text)),
        tuple(_EMAIL.findall(text)),
        tuple(money),
        tuple(m.group() for m in _DATE.finditer(text)),
        cards,
        phones,
    )


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n")


@lru_cache(maxsize=TEXTS_REMEMBERED)
def sentences(text: str) -> tuple[str, ...]:
    """The non-empty sentences (and lines) of a message, as written: rules and triggers judge one at a time."""
    return tuple(s for s in _SENTENCE_END.split(text) if s.strip())


_analyzer_lock = threading.Lock()
_analyzer = None


@lru_cache(maxsize=TEXTS_REMEMBERED)
def sentiment(text: str) -> float:
    """VADER compound score in [-1, 1]: below about -0.5 reads as clearly negative."""
    global _analyzer
    with _analyzer_lock:
        if _analyzer is None:
            from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

            _analyzer = SentimentIntensityAnalyzer()
        return float(_analyzer.polarity_scores(text)["compound"])


@dataclass(frozen=True)
class SentimentTrend:
    """The customer's mood: the newest score and how it moved over their recent messages."""

    score: float
    trend: str
    """``rising``, ``falling`` or ``steady`` (falling = getting more negative)."""


def customer_sentiment(conversation: Conversation, seq: int, window: int = 3) -> SentimentTrend:
    scores = [sentiment(t.text) for t in conversation.turns_upto(seq) if t.role == "customer"][-window:]
    if not scores:
        return SentimentTrend(0.0, "steady")
    change = scores[-1] - scores[0]
    trend = "falling" if change <= -0.3 else "rising" if change >= 0.3 else "steady"
    return SentimentTrend(round(scores[-1], 3), trend)
