"""The demo conversations end right: what the panel would draft at their last customer messages, and the
handoff of the bereavement demo, through the real pipeline with the demo pack."""

from __future__ import annotations

import pytest

from copilot.conversation.state import Conversation
from copilot.handoff import build_handoff
from copilot.pipeline import Insight, Pipeline
from copilot.replay import replay_states
from copilot.workspace import Workspace
from tests.conftest import demo_conversation


@pytest.fixture
def pipeline(workspace: Workspace) -> Pipeline:
    return Pipeline(workspace)


def at(pipeline: Pipeline, name: str, seq: int) -> tuple[Conversation, Insight]:
    """The conversation as of message ``seq`` and the insight the panel shows for it."""
    states, _ = replay_states(demo_conversation(name))
    conversation = next(c for c, s in states if s == seq)
    return conversation, pipeline.run(conversation, seq)


def test_the_accessibility_demo_ends_with_a_closing_reply(pipeline: Pipeline) -> None:
    conversation, insight = at(pipeline, "accessibility", 11)
    assert conversation.turns[-1].text == "yes that's fine, thank you"
    reply = insight.advice.reply
    assert reply.source == "closing" and "Which format" not in reply.text and "?" not in reply.text
    assert "AI assistant" not in reply.text  # the disclosure led the first reply only
    _, earlier = at(pipeline, "accessibility", 7)  # HTML was agreed at message 5: the format is not asked again
    assert "Which format" not in earlier.advice.reply.text and earlier.advice.reply.source == "template"


def test_the_bereavement_demo_ends_without_a_delivery_draft_and_its_handoff_names_the_case(pipeline: Pipeline) -> None:
    conversation, insight = at(pipeline, "bereavement", 13)
    reply = insight.advice.reply
    assert insight.advice.intent.id == "bereavement"
    assert reply.source == "closing" and "[" not in reply.text and "delivery" not in reply.text
    handoff = build_handoff(conversation, insight).markdown("Bereavement")
    assert "Topic: account of a customer who has died." in handoff and "late delivery" not in handoff
    assert "store credit $35.00" in handoff and "35.0," not in handoff  # amounts as people write them
    assert "find_customer" not in handoff


def test_the_cancellation_demos_follow_ups_stay_in_their_case(pipeline: Pipeline) -> None:
    for seq in (6, 8):  # "will I get the money back right away?", "how long does that take usually"
        _, insight = at(pipeline, "cancellation", seq)
        assert insight.advice.intent.id == "cancel_order"
        assert insight.advice.suggestions[0].title == "Cancel before it ships"
        assert "3 to 5 business days" in insight.advice.reply.text  # the answer, from the case's clause
    _, insight = at(pipeline, "cancellation", 14)  # "nope, nothing" to the rep's question about benefits
    assert insight.advice.suggestions[0].title == "Cancel and refund the recent, unused renewal"
    assert "Have you used any Plus benefits" not in insight.advice.reply.text
