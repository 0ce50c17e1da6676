"""Escalation categories fire on the serious reading and stay quiet on idioms and near-misses."""

from __future__ import annotations

import pytest

from copilot.conversation.state import Conversation, Turn
from copilot.reasoning.escalation import detect


def categories(*texts: str) -> list[str]:
    turns = tuple(Turn(i + 1, "customer" if i % 2 == 0 else "rep", t) for i, t in enumerate(texts))
    return [e.category for e in detect(Conversation("c", turns=turns))]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My mother passed away last month and I need to close her account", ["bereavement"]),
        ("since dad died the emails keep coming", ["bereavement"]),
        ("I'm blind and use a screen reader, the PDF doesn't work for me", ["accessibility"]),
        ("I lost my job and honestly can't afford the next instalment", ["vulnerability"]),
        ("If this isn't fixed I'll be speaking to a lawyer", ["legal_threat"]),
        ("There's a $349 charge on my card and I never ordered anything", ["fraud_dispute"]),
        ("This is my third message about the same broken lamp", ["repeat_contact"]),
        ("You people are useless. Absolutely pathetic.", ["anger"]),
        ("Can I speak to a supervisor please?", ["human_request"]),
    ],
)
def test_each_category_fires(text: str, expected: list[str]) -> None:
    assert categories(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "the wait is murder lol, any news on my sofa?",
        "my battery is dead, can I get a charger?",
        "I'm dying to get the new kettle",
        "my lawyer friend recommended your shop",
        "I'm a bit annoyed but it's fine",
        "it's the second time I order from you, love the towels",
        "oh right, I recognise this charge now, thanks",
        "I'm blind to why this lamp costs double",
        "the plant arrived dead, can I get a replacement?",
        "Please check with your manager about stock on the blue chair",
    ],
)
def test_near_misses_stay_quiet(text: str) -> None:
    assert categories(text) == []


def test_judged_over_the_whole_conversation_with_the_triggering_turn() -> None:
    turns = (
        Turn(1, "customer", "My husband died in March."),
        Turn(2, "rep", "I'm so sorry."),
        Turn(3, "customer", "ok, what documents do you need?"),
    )
    found = detect(Conversation("c", turns=turns))
    assert [(e.category, e.seq) for e in found] == [("bereavement", 1)]


def test_large_disputed_amounts_raise_severity() -> None:
    big = detect(Conversation("c", turns=(Turn(1, "customer", "I did not authorise this charge of $1,200"),)))
    small = detect(Conversation("c", turns=(Turn(1, "customer", "I did not authorise this charge of $12"),)))
    assert (big[0].severity, small[0].severity) == ("high", "normal")


def test_customer_sentiment_trend_follows_the_customers_messages() -> None:
    from copilot.reasoning.signals import customer_sentiment

    turns = (
        Turn(1, "customer", "Hi, thanks for the quick help last time!"),
        Turn(2, "rep", "Happy to help."),
        Turn(3, "customer", "The new one is broken too. This is awful and I'm really upset."),
    )
    mood = customer_sentiment(Conversation("c", turns=turns), 3)
    assert mood.trend == "falling" and mood.score < -0.3
    assert customer_sentiment(Conversation("c"), 1).trend == "steady"
