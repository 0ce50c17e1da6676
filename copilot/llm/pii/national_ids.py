"""National ids, checked where a library knows the checksum, and passport numbers after a cue word.

US SSN, Spanish DNI/NIE, German tax id (IdNr) and tax number (Steuernummer) and French NIR are checked by
python-stdnum; the UK National Insurance number has no checksum (and python-stdnum has no module for it), so
its letter rules are checked here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from stdnum.de import idnr, stnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.us import ssn

from copilot.llm.pii.cues import after
from copilot.llm.pii.span import Span, matched

_EDGE = r"(?<![A-Za-z0-9])"
_END = r"(?![A-Za-z0-9])"
_CHECKED: tuple[tuple[re.Pattern[str], Callable[[str], bool]], ...] = (
    (re.compile(rf"{_EDGE}\d{{3}}([ -])\d{{2}}\1\d{{4}}{_END}"), ssn.is_valid),
    (re.compile(rf"{_EDGE}\d{{8}}[ -]?[A-Za-z]{_END}"), dni.is_valid),
    (re.compile(rf"{_EDGE}[XYZxyz][ -]?\d{{7}}[ -]?[A-Za-z]{_END}"), nie.is_valid),
    (re.compile(rf"{_EDGE}\d{{2}} ?\d{{3}} ?\d{{3}} ?\d{{3}}{_END}"), idnr.is_valid),
    (re.compile(rf"{_EDGE}\d{{2,3}}/\d{{3,4}}/\d{{4,5}}{_END}"), stnr.is_valid),
    (re.compile(rf"{_EDGE}[12] ?\d{{2}} ?\d{{2}} ?(?:\d{{2}}|2[ABab]) ?\d{{3}} ?\d{{3}} ?\d{{2}}{_END}"), nir.is_valid),
)
"""(shape, checksum) pairs: a run of the shape is an id only when its checksum is right."""

_NINO = re.compile(
    rf"{_EDGE}(?!BG|GB|KN|NK|NT|TN|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{{2}} ?\d{{2}} ?\d{{2}} ?[A-D]{_END}"
)
"""A UK National Insurance number by HMRC's letter rules (no D, F, I, Q, U, V first; no O second)."""
_CUED = (
    after(r"national\sinsurance(?:\snumber)?|ni\s(?:number|no\.?)|nino", r"[A-Za-z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-Da-d]"),
    after(
        r"ssn|social\ssecurity(?:\snumber)?|sozialversicherungsnummer|seguridad\ssocial|s[ée]curit[ée]\ssociale",
        r"\d{3}[ -]?\d{2}[ -]?\d{4}(?!\d)",
    ),
    after(r"steuer-?id|steuernummer|st\.-nr\.|steueridentifikationsnummer", r"\d[\d /]{8,14}\d(?!\d)"),
    after(r"dni|nie|nif", r"[XYZxyz]?[ -]?\d{7,8}[ -]?[A-Za-z](?![A-Za-z0-9])"),
)
"""After its name, an id is taken without its checksum (a typo) or letter rules (HMRC's example QQ123456C)."""
_PASSPORT = after(
    r"passport(?:\s(?:no\.?|number|#))?|reisepass(?:nummer|-nr\.?)?|passnummer|personalausweis(?:nummer|-nr\.?)?"
    r"|ausweis(?:nummer|-nr\.?)?|(?:num[ée]ro\sde\s)?passeport|carte\sd'identit[ée]|(?:n[uú]mero\sde\s)?pasaporte"
    r"|id\scard(?:\snumber)?",
    r"(?=[A-Za-z]{0,3}\d)[A-Za-z0-9]{6,10}(?![A-Za-z0-9])",
)


def national_ids(text: str) -> Iterator[Span]:
    """SSNs, NI numbers, DNI/NIE, German tax ids and French NIRs, by shape and checksum or after their name."""
    for pattern, valid in _CHECKED:
        yield from (Span(m.start(), m.end(), "IDNUMBER") for m in pattern.finditer(text) if valid(m.group()))
    yield from matched(_NINO, text, "IDNUMBER")
    for pattern in _CUED:
        yield from matched(pattern, text, "IDNUMBER")


def passports(text: str) -> Iterator[Span]:
    """Passport and identity card numbers after their name (their formats differ by country, with no checksum)."""
    yield from matched(_PASSPORT, text, "PASSPORT")
