"""Email addresses, written plainly or spelled out to slip past filters ("ana at example dot com")."""

from __future__ import annotations

import re
from collections.abc import Iterator

from copilot.llm.pii.span import Span

_PLAIN = re.compile(r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_AT = r"(?:\s?[(\[{<]\s?(?:at|arobase|arroba|@)\s?[)\]}>]\s?|\s(?:at|arobase|arroba)\s)"
_WORD_DOT = r"(?:\s?[(\[{<]\s?(?:dot|punkt|point|punto|\.)\s?[)\]}>]\s?|\s(?:dot|punkt|point|punto)\s)"
_DOT = rf"(?:{_WORD_DOT}|\.)"
_SPELLED = re.compile(
    rf"(?<![\w.+-])[\w.+-]{{1,64}}(?:(?i:{_WORD_DOT})[\w+-]{{1,64}}){{0,3}}(?i:{_AT})[\w-]{{1,63}}(?:(?i:{_DOT})[\w-]{{1,63}}){{0,3}}(?i:{_DOT})"
    r"(?P<tld>[A-Za-z]{2,6})(?!\w)"
)
"""The words for @ and . in English, German, French and Spanish, bare or in brackets, in the name as in the
domain ("ana dot souza at gmail dot com", "ana(at)gmail.com"); a bare "." only in the domain, where the name's
characters cannot also take it, so no run can be split two ways."""
_TLDS = frozenset(
    [
        "com",
        "org",
        "net",
        "edu",
        "gov",
        "mil",
        "int",
        "info",
        "biz",
        "io",
        "co",
        "me",
        "uk",
        "us",
        "ca",
        "de",
        "fr",
        "es",
        "it",
        "nl",
        "be",
        "ch",
        "at",
        "ie",
        "pt",
        "eu",
        "dk",
        "se",
        "no",
        "fi",
        "pl",
        "cz",
        "gr",
        "mx",
        "ar",
        "br",
        "au",
        "nz",
        "jp",
        "cn",
        "in",
        "ru",
        "tv",
        "app",
        "dev",
        "online",
        "shop",
        "email",
        "mail",
    ]
)
"""Top-level domains a spelled-out address may end in: "meet at noon dot" is not an address, "… dot com" is."""


def emails(text: str) -> Iterator[Span]:
    """Plain addresses (a domain ending in letters, so ``pack@2025.4#clause`` is no address) and spelled-out ones."""
    for m in _PLAIN.finditer(text):
        if m.group().rsplit(".", 1)[-1].isalpha():
            yield Span(m.start(), m.end(), "EMAIL")
    for m in _SPELLED.finditer(text):
        if m.group("tld").lower() in _TLDS:
            yield Span(m.start(), m.end(), "EMAIL")
