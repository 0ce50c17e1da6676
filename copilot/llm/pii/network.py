"""IP addresses, IPv4 and IPv6, validated by the ``ipaddress`` module; a version number is not an address."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator

from copilot.llm.pii.span import Span

_V4 = re.compile(r"(?<![\w.])\d{1,3}(?:\.\d{1,3}){3}(?![\w]|\.\d)")
_V6 = re.compile(
    r"(?<![\w:])(?=[0-9A-Fa-f:]{0,39}:[0-9A-Fa-f]{0,4}:)[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}(?![\w:])"
)
_VERSION = re.compile(r"(?i:version|ver\.?|v|build|firmware|release|update|os|windows|ios|android)\W{0,3}$")
"""Words that make a dotted quad a version ("firmware 4.2.1.7"), not an address."""


def ip_addresses(text: str) -> Iterator[Span]:
    """Every valid IPv4 and IPv6 address that does not follow a version word."""
    for pattern in (_V4, _V6):
        for m in pattern.finditer(text):
            if _VERSION.search(text, max(0, m.start() - 12), m.start()):
                continue
            try:
                ipaddress.ip_address(m.group())
            except ValueError:
                continue
            yield Span(m.start(), m.end(), "IP")
