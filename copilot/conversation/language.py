"""Which language is the customer writing? A pack's phrases and drafts in that language apply; retrieval covers
English only for now, so a notice says so."""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from functools import lru_cache

from copilot.conversation.state import Conversation, Turn

_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
_ENGLISH_COMMON = frozenset(
    [
        "the",
        "a",
        "an",
        "and",
        "or",
        "but",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "i",
        "you",
        "he",
        "she",
        "it",
        "we",
        "they",
        "my",
        "your",
        "our",
        "their",
        "me",
        "him",
        "her",
        "us",
        "them",
        "this",
        "that",
        "these",
        "those",
        "to",
        "of",
        "in",
        "on",
        "at",
        "for",
        "with",
        "from",
        "by",
        "about",
        "as",
        "not",
        "no",
        "do",
        "does",
        "did",
        "have",
        "has",
        "had",
        "can",
        "could",
        "will",
        "would",
        "should",
        "please",
        "thanks",
        "thank",
        "hi",
        "hello",
        "yes",
        "ok",
        "okay",
        "order",
        "refund",
        "item",
        "what",
        "when",
        "where",
        "why",
        "how",
    ]
)
_MIN_WORDS = 4
_lock = threading.Lock()

NAMES = {
    "es": "Spanish",
    "fr": "French",
    "de": "German",
    "it": "Italian",
    "pt": "Portuguese",
    "nl": "Dutch",
    "pl": "Polish",
    "sv": "Swedish",
    "da": "Danish",
    "fi": "Finnish",
    "ro": "Romanian",
    "ca": "Catalan",
}


def load_detector() -> None:
    """Read the detector's language profiles now (a quarter of a second, ~90,000 objects) instead of in the
    first message's analysis, where the allocations set off garbage collections that pause every thread."""
    from langdetect.detector_factory import init_factory

    with _lock:
        init_factory()


@lru_cache(maxsize=4096)
def detect_language(text: str) -> str | None:
    """The ISO 639-1 code of the language ``text`` is written in (``de``, ``en``...); None when it is too short
    to tell or the detector is unsure.

    Remembered per text (the seeded detector answers the same every time): each message reads the
    customer's last few turns again."""
    if len(_WORD.findall(text)) < _MIN_WORDS:
        return None
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    with _lock:  # langdetect's factory is global state; the seed makes answers repeatable
        DetectorFactory.seed = 0
        try:
            best = detect_langs(text)[0]
        except LangDetectException:
            return None
    return str(best.lang) if best.prob >= 0.8 else None


def non_english_code(text: str) -> str | None:
    """The code of the language when ``text`` is confidently not English: a text with many common English
    words is English whatever the detector says (names and ids mislead it)."""
    words = _WORD.findall(text.lower())
    if len(words) < _MIN_WORDS or sum(w in _ENGLISH_COMMON for w in words) / len(words) >= 0.2:
        return None
    code = detect_language(text)
    return None if code == "en" else code


def detect_non_english(text: str) -> str | None:
    """The language name when ``text`` is confidently not English; None when English or too short to tell."""
    code = non_english_code(text)
    return NAMES.get(code, code) if code else None


def reading_languages(text: str, languages: tuple[str, ...]) -> tuple[str, ...]:
    """Which of a pack's other languages (``languages``: the pack's, its default first) ``text`` is read in
    beside the default: the one it is written in; none when it is in the default language; all of them when
    it is too short to tell or in a language the pack does not declare (short texts fool the detector)."""
    others = languages[1:]
    code = detect_language(text) if others else None
    if code == languages[0]:
        return ()
    return (code,) if code in others else others


RECENT_CUSTOMER_TURNS = 3


def customer_language_code(turns: Sequence[Turn]) -> str | None:
    """The code of a language other than English that the customer used in one of their last few ``turns``."""
    recent = [t for t in turns if t.role == "customer"][-RECENT_CUSTOMER_TURNS:]
    return next((code for turn in reversed(recent) if (code := non_english_code(turn.text))), None)


def customer_language(conversation: Conversation, seq: int) -> str | None:
    """The name of a language other than English that the customer used in one of their last few messages."""
    code = customer_language_code(conversation.turns_upto(seq))
    return NAMES.get(code, code) if code else None
