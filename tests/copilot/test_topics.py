"""Topic tracking on the demo pack: follow-ups stay in their topic, new requests open one, the panel is told."""

from __future__ import annotations

from copilot.handoff import build_handoff
from copilot.pipeline import Pipeline
from copilot.replay import replay_states
from copilot.workspace import Workspace
from tests.conftest import demo_conversation
from tests.copilot.test_reasoning import chat


def _customer_turns(pipeline: Pipeline, name: str) -> dict[int, tuple[str, str, str]]:
    """(intent, topic change, notices) per customer message of a demo conversation."""
    seen: dict[int, tuple[str, str, str]] = {}
    states, _ = replay_states(demo_conversation(name))
    for conversation, seq in states:
        turn = conversation.turn(seq)
        if turn is not None and turn.role == "customer":
            insight = pipeline.run(conversation, seq)
            seen[seq] = (insight.advice.intent.id, insight.advice.topics.change, " ".join(insight.notices))
    return seen


def test_follow_ups_stay_in_their_topic_and_a_new_request_opens_one(workspace: Workspace) -> None:
    pipeline = Pipeline(workspace)
    cancellation = _customer_turns(pipeline, "cancellation")
    # "will I get the money back right away?" and "how long does that take usually" were read as a refund
    # status and order tracking when each message was read alone.
    assert [cancellation[s][:2] for s in (1, 6, 8)] == [("cancel_order", "")] * 3
    intent, change, notices = cancellation[10]  # "also I want to cancel my Northwind Plus"
    assert (intent, change) == ("plus_membership", "opened")
    assert "New topic: Northwind Plus renewal or cancellation. Still open: Cancel an order." in notices
    assert [cancellation[s][:2] for s in (12, 14, 16)] == [("plus_membership", "")] * 3
    assert {intent for intent, _, _ in _customer_turns(pipeline, "double-charge").values()} == {"double_charge"}
    assert {intent for intent, _, _ in _customer_turns(pipeline, "bereavement").values()} == {"bereavement"}


def test_going_back_to_an_earlier_topic_resumes_it(workspace: Workspace) -> None:
    pipeline = Pipeline(workspace)
    conversation = chat(
        ("customer", "I need to cancel an order I placed this morning, NW-10001"),
        ("rep", "I can help with that."),
        ("customer", "also I want to cancel my Northwind Plus membership, it renewed yesterday"),
        ("rep", "Sure, I'll look at the membership too."),
        ("customer", "ok. and has my order NW-10001 shipped yet? I still want it cancelled before it ships"),
    )
    opened = pipeline.run(conversation, 3).advice.topics
    resumed = pipeline.run(conversation, 5).advice.topics
    assert (opened.change, opened.intent.id) == ("opened", "plus_membership")
    assert (resumed.change, resumed.intent.id, resumed.topic and resumed.topic.number) == ("resumed", "cancel_order", 1)
    assert [t.messages for t in resumed.topics] == [(1, 5), (3,)]


def test_a_clear_first_request_after_an_unclear_opening_sharpens_the_same_topic(workspace: Workspace) -> None:
    pipeline = Pipeline(workspace)
    conversation = chat(("customer", "hi there"), ("rep", "Hi! How can I help?"), ("customer", "I was charged twice"))
    topics = pipeline.run(conversation, 3).advice.topics
    assert (len(topics.topics), topics.change, topics.intent.id) == (1, "", "double_charge")


def test_the_handoff_names_every_topic(workspace: Workspace) -> None:
    states, _ = replay_states(demo_conversation("cancellation"))
    conversation, seq = states[-1]
    summary = build_handoff(conversation, Pipeline(workspace).run(conversation, seq)).summary
    assert "Topics: cancel an order; northwind plus renewal or cancellation (the latest)." in summary
