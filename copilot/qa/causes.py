"""Root causes from the pack's taxonomy (qa.toml ``[[root_cause]]``), suggested from what a conversation was
about: its cases (intents), the escalations and flags raised, and the customer's words. Wrap-up offers them
to the rep; QA counts them per day for anomalies."""

from __future__ import annotations

from collections.abc import Iterable

from copilot.qa.policy import QaPolicy

WEIGHTS = {"intent": 3, "category": 2, "rule": 1, "words": 1}
"""How much each kind of sign counts towards a root cause: the case itself most, a customer's word least."""


def suggest_causes(
    policy: QaPolicy,
    intents: Iterable[str],
    categories: Iterable[str],
    rules: Iterable[str],
    customer_texts: Iterable[str],
) -> list[tuple[str, int]]:
    """(root cause id, score) of every cause with a sign in the conversation, best first (the taxonomy's order
    breaks ties); ``customer_texts`` are ``fold``-ed."""
    intents, categories, rules = set(intents), set(categories), set(rules)
    folded = list(customer_texts)
    found: list[tuple[str, int]] = []
    for cause in policy.file.root_cause:
        words = policy.words[f"cause:{cause.id}"]
        score = (
            WEIGHTS["intent"] * len(intents & set(cause.intents))
            + WEIGHTS["category"] * len(categories & set(cause.categories))
            + WEIGHTS["rule"] * len(rules & set(cause.rules))
            + (WEIGHTS["words"] if words is not None and any(words.search(t) for t in folded) else 0)
        )
        if score:
            found.append((cause.id, score))
    return sorted(found, key=lambda c: -c[1])
