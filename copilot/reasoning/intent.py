"""What the customer wants: the playbook intent whose examples are closest to their recent messages.

A short reply ("yes please", "it's order 10422") carries no intent of its own, so when the newest message
is below the floor the customer's previous messages are read, a little less for each step back; a clear
new request always wins over them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from copilot.conversation.state import Conversation
from copilot.reasoning.examples import ExampleIndex

LOOKBACK = 6
DECAY = 0.92


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


def classify(
    conversation: Conversation, seq: int, index: ExampleIndex, vector: Callable[[str], np.ndarray], floor: float
) -> Intent:
    """The newest customer message with a clear intent decides; earlier ones count a little less per step back."""
    turns = [t for t in conversation.turns_upto(seq) if t.role == "customer"][-LOOKBACK:]
    best_seen = 0.0
    for back, turn in enumerate(reversed(turns)):
        matches = index.best(vector(turn.text))
        if not matches:
            break
        score = round(matches[0].score * DECAY**back, 4)
        if score >= floor:
            return Intent(matches[0].label, score, turn.seq, matches[0].example)
        best_seen = max(best_seen, score)
    return Intent("unknown", best_seen, -1)
