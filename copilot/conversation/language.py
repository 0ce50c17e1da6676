"""Is the customer writing English? Retrieval and suggestions cover English only for now, so say so."""

from __future__ import annotations

import re
import threading
from functools import lru_cache

from copilot.conversation.state import Conversation

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


@lru_cache(maxsize=4096)
def detect_non_english(text: str) -> str | None:
    """The language name when ``text`` is confidently not English; None when English or too short to tell.

    Remembered per text (the seeded detector answers the same every time): each message reads the
    customer's last few turns again."""
    words = _WORD.findall(text.lower())
    if len(words) < _MIN_WORDS:
        return None
    if sum(w in _ENGLISH_COMMON for w in words) / len(words) >= 0.2:
        return None
    from langdetect import DetectorFactory, detect_langs
    from langdetect.lang_detect_exception import LangDetectException

    with _lock:  # langdetect's factory is global state; the seed makes answers repeatable
        DetectorFactory.seed = 0
        try:
            best = detect_langs(text)[0]
        except LangDetectException:
            return None
    if best.lang == "en" or best.prob < 0.8:
        return None
    return NAMES.get(best.lang, str(best.lang))


RECENT_CUSTOMER_TURNS = 3


def customer_language(conversation: Conversation, seq: int) -> str | None:
    """A language other than English that the customer used in one of their last few messages."""
    turns = [t for t in conversation.turns_upto(seq) if t.role == "customer"][-RECENT_CUSTOMER_TURNS:]
    for turn in reversed(turns):
        language = detect_non_english(turn.text)
        if language:
            return language
    return None
