"""What stops a draft at insert: unfilled gaps, unbacked figures and promises need the rep's override."""

from __future__ import annotations

from copilot.reasoner import Reasoner
from copilot.workspace import Workspace
from tests.copilot.test_reasoning import chat


def _blocking(workspace: Workspace, text: str, *turns: tuple[str, str]) -> tuple[list[str], list[str]]:
    conversation = chat(*turns)
    packs = tuple(v.key for v in workspace.applicable(conversation))
    review = Reasoner(workspace).review_text(conversation, text, packs, ()).blocking
    return [u.text for u in review.unsupported], [f.category for f in review.flags]


def test_an_unfilled_gap_and_a_promise_need_an_override(workspace: Workspace) -> None:
    unsupported, flags = _blocking(
        workspace,
        "We received your return on [return received at]. P.S. I guarantee it's sorted today.",
        ("customer", "Where is my refund for order NW-10001?"),
    )
    assert unsupported == ["[return received at]"]
    assert flags == ["forbidden_commitment"]


def test_a_figure_counts_as_backed_by_the_customer_but_never_by_the_rep_alone(workspace: Workspace) -> None:
    said_by_rep = _blocking(
        workspace,
        "You'll get $500 back today.",
        ("customer", "I want my money back for order NW-10001"),
        ("rep", "I can give you $500 back."),
    )
    said_by_customer = _blocking(
        workspace,
        "I can see the $212.40 you paid.",
        ("customer", "I was charged $212.40 twice for order NW-10001"),
    )
    assert "$500" in said_by_rep[0]
    assert said_by_customer == ([], [])
