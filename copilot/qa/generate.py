"""Seeded records to measure QA on: the card rows of conversations as the panel records them (sent drafts, flags,
escalations, topics) over a span of days, made from a pack's own rule, category and intent ids, with one rule's
flags jumping on one day so the anomaly detector has something to find. ``copilot bench --qa`` writes them into
a records database."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from copilot.qa.policy import QaPolicy
from copilot.qa.transcript import LOOKS

DAYS = 60
"""Days the conversations spread over, ending with the spike."""
BATCH = 2_000
"""Conversations written per transaction."""
START = datetime(2026, 1, 1, 9, tzinfo=UTC)

_OPENINGS = (
    "Hi {name}, thanks for getting in touch. Let me look into this for you.",
    "Hello {name}, I'm sorry to hear that. Could you give me the order number?",
)
_DISCLOSED = "Hi {name}, just so you know, I'm using an AI assistant to help draft some of my replies."
_MIDDLES = (
    "I've refunded 25.00 to your original payment method; you'll receive it within 5 business days.",
    "Thanks, I can see the order here and it is on its way.",
    "I'll refund the difference of 999.99 today.",
    "I've passed this to our specialist team, and a team lead will contact you within 2 days.",
    "Correction: I misspoke earlier, let me correct that.",
)
_CLOSING = "Is there anything else I can help with today?"
_ESCALATION_OUTCOMES = ("displayed", "inserted", "sent", "rejected", "ignored")


def _cards(rng: random.Random, number: int, policy: QaPolicy, spike: bool) -> Iterator[dict[str, Any]]:
    """The card rows of conversation ``number``."""
    conversation = f"gen-{number:07d}"
    day = START + timedelta(days=DAYS - 1 if spike else rng.randrange(DAYS - 1), minutes=rng.randrange(600))
    intents = [p.intent for p in policy.guidance.playbooks] or ["unknown"]
    rules = [r.id for r in policy.guidance.rules]
    categories = [c.id for c in policy.guidance.categories]
    topic = rng.choice(intents)
    name = rng.choice(("Ana", "Tom", "Mia", "Sam", "Lea"))
    texts = [(_DISCLOSED if rng.random() < 0.7 else rng.choice(_OPENINGS)).format(name=name)]
    texts += [*rng.sample(_MIDDLES, rng.randint(1, 3)), _CLOSING]
    for seq, text in enumerate(texts, start=1):
        at = day + timedelta(minutes=seq)
        yield _row(conversation, seq * 2, "draft", "reply", text, topic, at, "sent", text)
        if rules and rng.random() < (0.5 if spike else 0.04):
            rule = rules[0] if spike else rng.choice(rules)
            yield _row(conversation, seq * 2, "flag", rule, f"{rule} flagged", topic, at, "ignored")
    if categories and rng.random() < 0.1:
        category = rng.choice(categories)
        yield _row(conversation, 1, "escalation", category, "queue", topic, day, rng.choice(_ESCALATION_OUTCOMES))


def _row(
    conversation: str,
    seq: int,
    kind: str,
    key: str,
    text: str,
    topic: str,
    at: datetime,
    outcome: str,
    sent: str = "",
) -> dict[str, Any]:
    decided = outcome not in LOOKS
    return {
        "conversation_id": conversation,
        "seq": seq,
        "kind": kind,
        "key": key,
        "text": text,
        "citations": [],
        "packs": [],
        "latency_ms": 40.0,
        "topic": topic,
        "rep": "bench",
        "shown_at": at,
        "outcome": outcome,
        "decided_at": at if decided else None,
        "decision_ms": 1000 if decided else None,
        "sent_text": sent or None,
        "diff": None,
        "edit_ratio": 0.0 if sent else None,
        "reason": None,
        "thumb": None,
    }


def generate(policy: QaPolicy, conversations: int, seed: int) -> Iterator[list[dict[str, Any]]]:
    """The card rows (columns of the records' ``cards``) of ``conversations`` seeded conversations, BATCH
    conversations at a time; one in 200 lands on the last day with half its messages flagged by the pack's
    first rule (the spike)."""
    rng = random.Random(seed)
    for start in range(0, conversations, BATCH):
        yield [
            row
            for number in range(start, min(start + BATCH, conversations))
            for row in _cards(rng, number, policy, spike=number % 200 == 0)
        ]
