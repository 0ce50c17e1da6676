"""A guardrail's verdict on one proposed call: what the rep reads, the rule, and the clause it enforces."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

VerdictKind = Literal["allowed", "needs_approval", "blocked"]


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    reason: str = ""
    """What the rep reads, in plain words; empty for a plain ``allowed``."""
    rule: str = ""
    clause: str = ""
    """The clause id the rule enforces (shown as a citation when a pack provides it)."""
    approver_role: str = ""
    """For ``needs_approval``: the role whose second approval is required."""
    lookup: str = ""
    """For a record nobody has read yet: the read-only call that reads it, as JSON ``[tool, arguments]``."""

    @property
    def lookup_call(self) -> tuple[str, dict[str, Any]] | None:
        """The read-only call that would supply the missing record, or None."""
        if not self.lookup:
            return None
        tool, arguments = json.loads(self.lookup)
        return str(tool), dict(arguments)


ALLOWED = Verdict("allowed")
