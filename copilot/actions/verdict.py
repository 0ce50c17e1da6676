"""A guardrail's verdict on one proposed call: what the rep reads, the rule, and the clause it enforces."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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


ALLOWED = Verdict("allowed")
