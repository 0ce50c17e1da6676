"""Drafts a rep would send, from the demo pack's data alone: the disclosure once, no question whose answer is known,
facts in human form, the customer's language where the pack has it, and a closing reply to thanks."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from base.errors import PackError
from copilot.conversation.state import Conversation, ToolEvent, Turn
from copilot.reasoning.case import Case
from copilot.reasoning.drafting import Reply, draft_reply
from copilot.reasoning.escalation import Escalation
from copilot.reasoning.facts import DateStyle, human
from copilot.reasoning.guidance import Acknowledgement, Guidance, check_pack, merge
from copilot.reasoning.intent import Intent
from copilot.reasoning.suggest import suggest
from copilot.reasoning.topics import Topics
from copilot.settings import DEMO_PACK
from retrieval.packs import load_pack

CLAUSE = "Large print and accessible digital formats arrive within 2 business days; Braille within 10 business days."
FOLLOWING = Topics()
"""The topics after a follow-up message: nothing opened or resumed."""


@pytest.fixture(scope="module")
def guidance() -> Guidance:
    pack = load_pack(DEMO_PACK)
    return merge([(pack.key, pack.guidance, {c.id for c in pack.clauses})])


def chat(
    *turns: tuple[str, str],
    jurisdiction: str = "EU-IE",
    tools: tuple[ToolEvent, ...] = (),
    name: str = "Siobhan Murphy",
) -> Conversation:
    return Conversation(
        "t",
        customer_name=name,
        jurisdiction=jurisdiction,
        started_at=datetime(2026, 11, 20),
        turns=tuple(Turn(i, role, text) for i, (role, text) in enumerate(turns, start=1)),
        tools=tools,
    )


def drafted(
    guidance: Guidance,
    conversation: Conversation,
    intent: str,
    *,
    escalations: tuple[Escalation, ...] = (),
    topics: Topics | None = FOLLOWING,
) -> Reply:
    """The draft after the conversation's last message, on the intent's first path (or none for ``unknown``)."""
    case = Case(conversation, conversation.turns[-1].seq, ("northwind-retail@2025.6",), guidance)
    paths = suggest(Intent(intent, 0.9, 1), guidance, case.facts) if intent != "unknown" else []
    return draft_reply(case, paths[0] if paths else None, escalations, lambda _: CLAUSE, topics)


BLIND = "I'm blind and use a screen reader. The assembly instructions for my bookshelf are just pictures."


def test_the_disclosure_leads_until_a_rep_message_said_it(guidance: Guidance) -> None:
    line = guidance.disclosure.line
    assert line in drafted(guidance, chat(("customer", BLIND)), "accessibility_needs").text
    untold = chat(("customer", BLIND), ("rep", "I'm sorry. Which product is it?"), ("customer", "The Ashby bookshelf"))
    assert line in drafted(guidance, untold, "accessibility_needs").text  # the customer was never told
    said = chat(("customer", BLIND), ("rep", f"I'm sorry. {line} Which product?"), ("customer", "The Ashby bookshelf"))
    assert line not in drafted(guidance, said, "accessibility_needs").text  # once per conversation
    told = chat(("rep", f"Hello! {line}"), ("customer", BLIND))
    assert line not in drafted(guidance, told, "accessibility_needs").text  # the rep already said it
    texas = chat(("customer", BLIND), jurisdiction="US-TX")
    assert line not in drafted(guidance, texas, "accessibility_needs").text  # not required there


def test_the_disclosure_and_the_opening_are_in_the_customers_language(guidance: Guidance) -> None:
    grief = guidance.category("bereavement")
    assert grief is not None
    said = {"es": "Lamento mucho su pérdida."}
    categories = tuple(
        c.model_copy(update={"opening": "I'm so sorry.", "opening_by_language": said}) if c is grief else c
        for c in guidance.categories
    )
    guidance = replace(guidance, categories=categories)
    spanish = chat(("customer", "Hola, mi madre falleció el mes pasado y quiero cerrar su cuenta con ustedes."))
    raised = (Escalation("bereavement", 1, "falleció"),)
    reply = drafted(guidance, spanish, "bereavement", escalations=raised)
    assert guidance.disclosure.line_by_language["es"] in reply.text and reply.text.startswith("Hola")
    assert said["es"] in reply.text
    answered = replace(
        spanish,
        turns=(
            *spanish.turns,
            Turn(2, "rep", f"Lo siento mucho. {guidance.disclosure.line_by_language['es']}"),
            Turn(3, "customer", "Gracias. ¿Qué documentos necesitan ustedes para cerrar la cuenta de mi madre?"),
        ),
    )
    again = drafted(guidance, answered, "bereavement", escalations=raised)
    assert said["es"] not in again.text  # said once, in reply to the message that raised it
    assert guidance.disclosure.line_by_language["es"] not in again.text and again.text.startswith("Hola")


def test_a_question_whose_answer_is_a_fact_is_left_out(guidance: Guidance) -> None:
    asked = "Which format would suit you best?"
    assert asked in drafted(guidance, chat(("customer", BLIND)), "accessibility_needs").text
    answered = chat(
        ("customer", BLIND), ("rep", "Would an HTML email work for you?"), ("customer", "yes HTML is perfect")
    )
    reply = drafted(guidance, answered, "accessibility_needs", topics=None)
    assert asked not in reply.text and "{" not in reply.text and "Please take all the time you need." in reply.text
    german = chat(
        ("customer", "Ich bin blind und nutze einen Screenreader, die Anleitung besteht nur aus Bildern."),
        ("rep", "Passt Ihnen eine HTML-E-Mail?"),
        ("customer", "Ja, HTML ist perfekt, bitte per E-Mail."),
        jurisdiction="EU-DE",
    )
    assert "Welches Format" not in drafted(guidance, german, "accessibility_needs", topics=None).text


def test_a_yes_or_no_counts_only_as_the_answer_to_the_question_the_pack_names(guidance: Guidance) -> None:
    question = "Have you used any Plus benefits"
    plus = "I want to cancel my Northwind Plus, it renewed last Tuesday."
    unrelated = chat(
        ("customer", plus), ("rep", "Shall I go ahead?"), ("customer", "no, nothing yet"), jurisdiction="US"
    )
    assert question in drafted(guidance, unrelated, "plus_membership").text
    conversation = chat(
        ("customer", plus),
        ("rep", "Have you used any Plus benefits since the renewal, like free express shipping?"),
        ("customer", "nope, nothing"),
        jurisdiction="US-TX",
    )
    case = Case(conversation, 3, (), guidance)
    assert case.facts.get("benefits_used_since_renewal") == "0"
    assert not case.facts.from_systems("benefits_used_since_renewal")  # the customer's word backs no figure
    reply = drafted(guidance, conversation, "plus_membership")
    assert question not in reply.text and "I'll also refund that renewal charge" in reply.text


def test_dates_and_amounts_read_as_people_write_them() -> None:
    assert human("2026-11-12T09:30:00Z", "USD") == "12 November 2026"
    assert human("2025-03-12", None) == "12 March 2025"
    german = DateStyle("{day}. {month} {year}", ("Januar", "Februar", "März", *["x"] * 9))
    assert human("2025-03-12", None, german) == "12. März 2025"
    assert human("98.0", "USD") == "$98.00" and human("35.5", "EUR") == "€35.50"
    assert human("98.0", None) == "98.0"  # no currency in the case: a number, not money
    assert human("NW-11730", "USD") == "NW-11730" and human("3", "USD") == "3"  # ids and counts stay


def test_a_draft_fills_dates_in_the_customers_language(guidance: Guidance) -> None:
    order = {"order_id": "NW-16102", "status": "in_transit", "estimated_delivery": "2026-11-12T09:30:00Z"}
    tools = (ToolEvent(1, "result", "get_order", json.dumps(order)),)
    english = chat(("customer", "My order NW-16102 is late, where is it?"), tools=tools, jurisdiction="US-TX")
    reply = drafted(guidance, english, "order_status")
    assert "12 November 2026" in reply.text and "2026-11-12" not in reply.text
    french = chat(("customer", "Ma commande NW-16102 est en retard, où est-elle ?"), tools=tools, jurisdiction="EU-FR")
    assert "12 novembre 2026" in drafted(guidance, french, "order_status").text
    spanish = chat(("customer", "Mi pedido NW-16102 llega tarde, ¿dónde está?"), tools=tools, jurisdiction="EU-ES")
    assert "12 de noviembre de 2026" in drafted(guidance, spanish, "order_status").text


def test_thanks_gets_a_closing_reply_not_the_paths_questions(guidance: Guidance) -> None:
    conversation = chat(
        ("customer", BLIND),
        ("rep", "I can note that you need screen-reader friendly documents. Is that ok?"),
        ("customer", "yes that's fine, thank you"),
    )
    reply = drafted(guidance, conversation, "accessibility_needs")
    assert reply.source == "closing" and "?" not in reply.text.split("\n\n")[1]
    assert guidance.acknowledgement.reply in reply.text and not reply.missing
    opened = drafted(guidance, conversation, "accessibility_needs", topics=Topics(change="opened"))
    assert opened.source == "template"  # thanks with a new request is a request
    asks = replace(conversation, turns=(*conversation.turns[:2], Turn(3, "customer", "thanks, when will it come?")))
    assert drafted(guidance, asks, "accessibility_needs").source == "template"
    another = replace(conversation, turns=(*conversation.turns[:2], Turn(3, "customer", "thanks. and NW-12345 too")))
    assert drafted(guidance, another, "accessibility_needs").source == "template"  # a record id: a request
    first = chat(("customer", "Hi, thanks, I'd like to cancel my order please"))
    assert drafted(guidance, first, "cancel_order").source == "template"  # nothing to acknowledge yet
    spanish = chat(
        ("customer", "Mi pedido no ha llegado todavía y ya ha pasado más de una semana desde la compra."),
        ("rep", "Ya lo he revisado."),
        ("customer", "vale, muchas gracias"),
    )
    reply = drafted(guidance, spanish, "order_status")
    assert reply.source == "closing" and guidance.acknowledgement.reply_by_language["es"] in reply.text
    assert reply.text.startswith("Hola")


def test_another_pack_gets_the_same_behaviour_from_its_own_data(guidance: Guidance) -> None:
    theirs = replace(
        guidance,
        acknowledgement=Acknowledgement(phrases=("cheers mate",), reply="Happy days."),
        settings=guidance.settings.model_copy(update={"generic": "On it."}),
    )
    conversation = chat(("customer", "hello there"), ("rep", "Hi!"), ("customer", "cheers mate"))
    assert "Happy days." in drafted(theirs, conversation, "unknown").text
    assert "On it." in drafted(theirs, chat(("customer", "hello there")), "unknown").text


def test_generic_and_handoff_replies_are_in_the_customers_language(guidance: Guidance) -> None:
    german = chat(("customer", "Guten Tag, ich habe eine Frage zu etwas ganz anderem."), jurisdiction="EU-DE")
    assert guidance.settings.generic_by_language["de"] in drafted(guidance, german, "unknown").text
    legal = (Escalation("legal_threat", 1, "Anwalt", "high"),)
    reply = drafted(guidance, german, "unknown", escalations=legal)
    assert "Kollegin" in reply.text and "colleague" not in reply.text


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(DEMO_PACK, folder)
    file = folder / "playbooks.toml"
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("old", "new", "said"),
    [
        ("{/?} Please take all the time you need.", " Please take all the time you need.", "{?fact}the question{/?}"),
        ('"Oktober", "November", "Dezember"]', '"Oktober", "November"]', "give all twelve"),
        ('fact = "document_format"', 'fact = "Document Format"', "stated"),
    ],
)
def test_bad_draft_fields_name_the_file_and_the_fix(tmp_path: Path, old: str, new: str, said: str) -> None:
    with pytest.raises(PackError) as raised:
        check_pack(load_pack(_edited(tmp_path, old, new)))
    assert "playbooks.toml" in str(raised.value) and said in str(raised.value)
