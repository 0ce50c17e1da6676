"""People's names where a cue says one follows ("my name is", "je m'appelle", "Frau", "Hi"); other names only
by value (copilot.llm.pii.known), since a name has no shape a pattern could tell from any capitalised word."""

from __future__ import annotations

import re
from collections.abc import Iterator

from copilot.llm.pii.span import Span

_WORD = r"[A-ZÀ-ÖØ-Ý][a-zà-öø-ÿß'’-]{1,24}"
_TITLES = r"mr|mrs|ms|dr|frau|herr|madame|monsieur|mme|mlle|señora|señor|sra|sr|doña|don"
_STRONG = (
    r"my\sname\sis|name\sis|my\snames\sis|her\sname\sis|his\sname\sis|name\son\sthe\s(?:order|account|card|parcel)"
    r"|signed|regards|ask\sfor|ich\sheiße|ich\sheisse|mein\sname\sist|je\sm'appelle|je\sm’appelle|mon\snom\sest"
    rf"|me\sllamo|mi\snombre\ses|{_TITLES}"
)
"""Cues after which one capitalised word is already a name ("Frau Schmidt", "ask for Mr. Hargreaves")."""
_WEAK = r"i'm|i\sam|this\sis|it's|ich\sbin|hier\sist|hier\sspricht|je\ssuis|c'est|moi\sc'est|soy|aqu[íi]"
"""Cues that precede many other things ("I'm Sorry"): a name only as two capitalised words ("I'm Siobhan Murphy")."""
_GREETING = (
    r"hi|hello|hey|dear|thanks|thank\syou|hallo|liebe|lieber|danke|bonjour|salut|merci|cher|chère|hola|gracias"
    r"|estimad[oa]"
)
_NOT_NAMES = frozenset(
    [
        "There",
        "Team",
        "All",
        "Everyone",
        "Support",
        "Sir",
        "Madam",
        "Madame",
        "Monsieur",
        "Customer",
        "Service",
        "Again",
        "Guys",
        "Folks",
        "Friend",
        "Zusammen",
        "Kunde",
        "Kundin",
        "Tout",
        "Todos",
        "Equipo",
        "Good",
        "Morning",
        "Afternoon",
        "Evening",
        "Tag",
        "Abend",
    ]
)
"""Capitalised words that follow a greeting without being a name."""
_CUED = re.compile(
    rf"(?<!\w)(?:(?i:{_STRONG})\.?,?:?\s{{1,3}}(?:(?i:{_TITLES})\.?\s{{1,3}})?(?P<strong>{_WORD}(?:\s{_WORD}){{0,2}})"
    rf"|(?i:{_WEAK}),?\s{{1,3}}(?P<weak>{_WORD}\s{_WORD}(?:\s{_WORD})?)"
    rf"|(?i:{_GREETING}),?\s{{1,3}}(?P<greeted>{_WORD}(?:\s{_WORD})?)(?=\s?[,.!:;\n]|$))"
)


def names(text: str) -> Iterator[Span]:
    """Names after a cue; a greeting's word that is a common salutation ("Hi Team") is not one."""
    for m in _CUED.finditer(text):
        group = next(g for g in ("strong", "weak", "greeted") if m.group(g) is not None)
        if group == "greeted" and m.group(group).split()[0] in _NOT_NAMES:
            continue
        yield Span(m.start(group), m.end(group), "NAME")
