"""Intent, paths, drafts, verification and flags on real conversations with the demo pack."""

from __future__ import annotations

from datetime import datetime

import pytest

from copilot.conversation.state import Conversation, Turn
from copilot.pipeline import Insight, Pipeline
from copilot.reasoning.claims import verify
from copilot.reasoning.classifier import Utterance
from copilot.reasoning.escalation import Taxonomy, detect
from copilot.reasoning.guidance import Category, Guidance
from copilot.replay import replay_states
from copilot.workspace import Workspace
from tests.conftest import demo_conversation


@pytest.fixture
def pipeline(workspace: Workspace) -> Pipeline:
    return Pipeline(workspace)


def insights(pipeline: Pipeline, name: str) -> list[tuple[Conversation, Insight]]:
    states, _ = replay_states(demo_conversation(name))
    return [(conversation, pipeline.run(conversation, seq)) for conversation, seq in states]


def chat(*turns: tuple[str, str], jurisdiction: str = "US-NY") -> Conversation:
    return Conversation(
        "t",
        jurisdiction=jurisdiction,
        started_at=datetime(2026, 11, 20),
        turns=tuple(Turn(i, role, text) for i, (role, text) in enumerate(turns, start=1)),
    )


def test_paths_change_as_system_facts_arrive(pipeline: Pipeline) -> None:
    runs = insights(pipeline, "cancellation")
    first = runs[0][1].advice
    assert first.intent.id == "cancel_order" and first.intent.confidence >= 0.45
    titles = [s.title for s in first.suggestions]
    assert len(titles) <= 4 and any("shipped" in t.lower() for t in titles)
    after_lookup = next(i.advice for c, i in runs if any(t.kind == "result" for t in c.tools))
    top = after_lookup.suggestions[0]
    assert "status=processing" in top.matched and top.title == "Cancel before it ships"
    assert not any(s.title.startswith("Already shipped") for s in after_lookup.suggestions)
    assert all(c.startswith("northwind-retail@2025.6#") for c in top.citations)


def test_the_template_draft_is_filled_from_facts_and_clauses_and_fully_backed(pipeline: Pipeline) -> None:
    insight = next(i for _, i in insights(pipeline, "cancellation") if i.advice.facts.get("status") == "processing")
    reply = insight.advice.reply
    assert reply.source == "template" and "NW-11730" in reply.text and reply.text.startswith("Hi Marcus,")
    assert not insight.advice.reply_review.unsupported and not insight.advice.reply_review.flags
    assert "AI assistant" not in reply.text  # US-TX needs no disclosure


def test_a_draft_leads_with_the_ai_disclosure_where_required_and_escalates(pipeline: Pipeline) -> None:
    _, insight = insights(pipeline, "bereavement")[0]
    advice = insight.advice
    assert [e.category for e in advice.escalations] == ["bereavement"]
    assert advice.escalations[0].queue and advice.escalations[0].citations
    assert "AI assistant" in advice.reply.text  # US-CA
    assert not advice.reply_review.flags


def test_no_grounded_answer_and_no_guessing_off_topic(pipeline: Pipeline) -> None:
    insight = pipeline.run(chat(("customer", "what do you think about the football last night?")), 1)
    assert insight.advice.intent.id == "unknown" and not insight.advice.suggestions
    assert not insight.grounded and insight.advice.reply.source == "generic"


def test_a_newer_clear_request_wins_over_the_earlier_topic(pipeline: Pipeline) -> None:
    conversation = chat(
        ("customer", "I want to cancel my order NW-10001 before it ships"),
        ("rep", "Of course, let me look."),
        ("customer", "Actually forget that, my parcel says delivered but it never arrived"),
    )
    assert pipeline.run(conversation, 1).advice.intent.id == "cancel_order"
    assert pipeline.run(conversation, 3).advice.intent.id != "cancel_order"


@pytest.mark.parametrize(
    ("text", "unsupported"),
    [
        ("We issue the refund within 5 business days of receiving the return.", []),
        ("We issue the refund within 2 business days of receiving the return.", ["2 business days"]),
        ("Your bank may take 3 to 10 business days to show it.", []),
        ("You'll get a $40 credit.", ["$40"]),
        ("You can return it until December 2.", []),
        ("You can return it until January 9.", ["January 9"]),
        ("It was delivered 41 days ago, so it's outside the window.", []),
    ],
)
def test_verification_marks_unbacked_figures_and_dates(workspace: Workspace, text: str, unsupported: list[str]) -> None:
    cited = [
        workspace.catalog.clause(f"northwind-retail@2025.6#{c}").text  # type: ignore[union-attr]
        for c in ("refunds.timing", "returns.window")
    ]
    known = ['{"order_id": "NW-1", "delivered_at": "2026-11-02"}']
    found = verify(text, cited, known)
    assert [u.text for u in found] == unsupported
    for span in found:
        assert text[span.start : span.end] == span.text and span.reason


def test_rep_and_customer_flags_on_the_newest_turn(pipeline: Pipeline) -> None:
    promise = chat(("customer", "Will it come tomorrow?"), ("rep", "I guarantee it will arrive tomorrow."))
    assert "forbidden_commitment" in {f.category for f in pipeline.run(promise, 2).advice.flags}
    other_card = chat(
        ("customer", "Can the refund go to my new card?"), ("rep", "Sure, I'll refund it to your new card instead.")
    )
    flags = pipeline.run(other_card, 2).advice.flags
    assert any(f.rule == "refund-original-method" and f.category == "regulated_action" for f in flags)
    card = chat(("customer", "here is my card 4111 1111 1111 1111, charge it"))
    [flag] = pipeline.run(card, 1).advice.flags
    assert flag.category == "sensitive_data" and "4111 1111" not in flag.evidence
    fine = chat(("customer", "Where's my parcel?"), ("rep", "Standard delivery takes 3 to 5 business days."))
    assert not pipeline.run(fine, 2).advice.flags


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("honestly the wait is murder, any news on NW-10422?", set()),
        ("my battery is dead so I can't check the email, can you resend?", set()),
        ("We lost Mum in October and I'm going through her accounts, hers keeps renewing", {"bereavement"}),
    ],
)
def test_pack_taxonomy_examples_and_near_misses(pipeline: Pipeline, text: str, expected: set[str]) -> None:
    found = {e.category for e in pipeline.run(chat(("customer", text)), 1).advice.escalations}
    assert found == expected


def test_a_pack_category_triggers_by_phrase_and_by_what_its_classifier_learned(workspace: Workspace) -> None:
    guidance = Guidance(
        categories=(
            Category(
                id="product_safety",
                title="Product safety",
                queue="Safety team",
                phrases=("caught fire",),
                examples=("The charger melted and burned the carpet", "Sparks came out of the toaster"),
            ),
            Category(
                id="bereavement",
                title="Bereavement",
                queue="Care",
                examples=(
                    "Dad has gone to be with Mum and his account still charges every month",
                    "We buried my brother on Friday and his subscription renewed today",
                    "My wife passed in the spring and I am closing her accounts",
                ),
            ),
        ),
        utterances=(
            Utterance("Where is my parcel? It was due on Monday", frozenset()),
            Utterance("Can I change the size of the jumper I ordered?", frozenset()),
            Utterance("My phone died so I could not answer the courier", frozenset()),
        ),
    )
    encode = workspace.embedder.encode
    taxonomy = Taxonomy.of(guidance, encode, lambda text: encode([text])[0])
    fire = chat(("customer", "The heater caught fire last night!"))
    assert [e.category for e in detect(fire, None, taxonomy)] == ["product_safety"]
    indirect = chat(("customer", "Dad has gone to be with Mum now, and his account is still charging each month"))
    assert not detect(indirect, None, None)  # no coded trigger for this wording
    [found] = detect(indirect, None, taxonomy)
    assert found.category == "bereavement" and "as in “Dad has gone" in found.evidence
    assert not detect(chat(("customer", "Can I change the colour of the jumper?")), None, taxonomy)
