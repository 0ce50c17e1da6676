"""How big a pack may be: the bounds a pack is checked against while it is read, before anything is stored.

A pack comes from whoever wrote it, so every size is bounded while it is read (a zip's entries are
counted as they are decompressed, never trusted from its directory) and every failure is a PackError
naming the file and the setting that raises the bound. An admin sets them in the data folder's
settings.json (copilot/settings.py); docs/policy-packs.md lists them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

from base.errors import PackError

MB = 1_000_000


@dataclass(frozen=True)
class PackLimits:
    """The bounds of one pack; each field is also the name of its setting in settings.json."""

    pack_max_bytes: int = 100 * MB
    """The pack as given: a folder's files together, a .zip archive, or a document file."""
    pack_max_unpacked_bytes: int = 100 * MB
    """A .zip's entries together, counted while they are decompressed (a zip bomb stops here)."""
    pack_max_entries: int = 10_000
    """Entries of a .zip, or files of a pack folder."""
    pack_max_clauses: int = 50_000
    """Clauses in one pack version."""
    pack_max_clause_chars: int = 100_000
    """Characters of one clause, its title and text together (about 15,000 words)."""

    def __post_init__(self) -> None:
        for field in fields(self):
            value = getattr(self, field.name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{field.name} must be a positive whole number, not {value!r}")

    def exceeded(self, where: str, line: int | None, what: str, setting: str, fix: str) -> PackError:
        """The error for a pack over the bound ``setting``: what is too big, and the two ways out."""
        return PackError(
            where,
            line,
            f"{what} (the limit is {getattr(self, setting):,}, setting {setting})",
            f"{fix}, or have an admin raise {setting} in settings.json in the data folder",
        )


DEFAULT_LIMITS = PackLimits()
"""The bounds when settings.json names none."""
