"""What changed between two versions of a pack: clauses added, removed and changed, word by word."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from retrieval.catalog import Catalog, StoredClause


@dataclass(frozen=True)
class ClauseChange:
    """One clause that differs between two versions."""

    clause_id: str
    kind: str
    """``added``, ``removed`` or ``changed``."""
    old: StoredClause | None
    new: StoredClause | None

    @property
    def words(self) -> str:
        """The change inline: ``[-removed words-]{+added words+}`` in the title and text."""
        old = f"{self.old.title}: {self.old.text}" if self.old else ""
        new = f"{self.new.title}: {self.new.text}" if self.new else ""
        return word_diff(old, new)


def word_diff(old: str, new: str) -> str:
    """A word-level diff of two texts, marked inline as ``[-old-]`` and ``{+new+}``."""
    a, b = old.split(), new.split()
    parts: list[str] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=a, b=b, autojunk=False).get_opcodes():
        if op == "equal":
            parts.append(" ".join(a[i1:i2]))
            continue
        if i2 > i1:
            parts.append("[-" + " ".join(a[i1:i2]) + "-]")
        if j2 > j1:
            parts.append("{+" + " ".join(b[j1:j2]) + "+}")
    return " ".join(parts)


def diff_versions(catalog: Catalog, name: str, old: str, new: str) -> list[ClauseChange]:
    """Changes from ``old`` to ``new``, in clause id order."""
    catalog.get(name, old)
    catalog.get(name, new)
    before = {c.clause_id: c for c in catalog.clauses_of([f"{name}@{old}"])}
    after = {c.clause_id: c for c in catalog.clauses_of([f"{name}@{new}"])}
    changes: list[ClauseChange] = []
    for clause_id in sorted(before.keys() | after.keys()):
        a, b = before.get(clause_id), after.get(clause_id)
        if a is None:
            changes.append(ClauseChange(clause_id, "added", None, b))
        elif b is None:
            changes.append(ClauseChange(clause_id, "removed", a, None))
        elif (a.title, a.text, a.jurisdictions) != (b.title, b.text, b.jurisdictions):
            changes.append(ClauseChange(clause_id, "changed", a, b))
    return changes
