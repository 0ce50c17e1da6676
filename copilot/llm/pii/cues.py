"""Cue words: a value counts as personal when a word before it says what it is ("PIN 4821", "mot de passe : x")."""

from __future__ import annotations

import re

LINK = r"(?:\s{0,3}[:=#]\s{0,3}|\s{1,3})(?:(?:is|was|would be|ist|lautet|war|est|c'est|es|era|:)\s{1,3}){0,2}"
"""What stands between a cue and its value: a colon or spaces, then at most two linking words in
English, German, French or Spanish ("is", "lautet", "c'est", "es")."""
STRICT_LINK = r"(?:\s{0,3}[:=]\s{0,3}|\s{1,3}(?:is|was|would be|ist|lautet|war|est|c'est|es|era)\s{1,3})"
"""A link that must be there: for values of any shape (a password), "password reset" is not a password."""


def after(cues: str, value: str, link: str = LINK) -> re.Pattern[str]:
    """A pattern whose ``v`` group is ``value`` written after one of ``cues`` (matched ignoring case, the value
    as written). Cues start at a word boundary; every quantifier is bounded."""
    return re.compile(rf"(?<!\w)(?i:(?:{cues}){link})(?P<v>{value})")
