"""What the customer wants: a playbook intent, read by the topic tracker (copilot/reasoning/topics.py)
against the topics the conversation already has, never from one message alone."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Intent:
    id: str
    """A playbook intent, or ``unknown`` below the pack's intent floor."""
    confidence: float
    seq: int
    """The customer turn the intent was read from (-1 when unknown)."""
    example: str = ""

    @property
    def known(self) -> bool:
        return self.id != "unknown"
