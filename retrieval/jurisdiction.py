"""Which regions a pack or clause covers: ``US`` covers ``US-CA``, and an empty scope covers all."""

from __future__ import annotations

from collections.abc import Iterable


def covers(scopes: Iterable[str], jurisdiction: str) -> bool:
    """Whether a scope list covers ``jurisdiction``; an unknown (empty) jurisdiction is covered by every scope."""
    scopes = tuple(scopes)
    if not scopes or not jurisdiction:
        return True
    return any(jurisdiction == s or jurisdiction.startswith(s + "-") for s in scopes)
