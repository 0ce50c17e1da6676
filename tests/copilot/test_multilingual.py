"""Signals in the customer's language: a pack declares its languages and carries phrases, patterns, examples
and drafts per language; the engine reads a message with those of the language it is written in."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

import pytest

from base.errors import PackError
from copilot.conversation.language import customer_language_code, reading_languages
from copilot.conversation.state import Conversation, Turn
from copilot.pipeline import Pipeline
from copilot.reasoning.classifier import Utterance
from copilot.reasoning.drafting import compose
from copilot.reasoning.escalation import Taxonomy, detect
from copilot.reasoning.facts import Facts
from copilot.reasoning.guidance import Category, Guidance, check_pack, merge
from copilot.reasoning.intent import Intent
from copilot.reasoning.rules import Draft, ai_disclosure
from copilot.reasoning.signals import fold, pack_pattern
from copilot.reasoning.suggest import suggest
from copilot.settings import DEMO_PACK
from copilot.workspace import Workspace
from retrieval.packs import load_pack


@pytest.fixture
def pipeline(workspace: Workspace) -> Pipeline:
    return Pipeline(workspace)


def chat(*turns: tuple[str, str], jurisdiction: str = "EU-DE") -> Conversation:
    return Conversation(
        "t",
        jurisdiction=jurisdiction,
        started_at=datetime(2026, 11, 20),
        turns=tuple(Turn(i, role, text) for i, (role, text) in enumerate(turns, start=1)),
    )


def demo_guidance() -> Guidance:
    pack = load_pack(DEMO_PACK)
    return merge([(pack.key, pack.guidance, {c.id for c in pack.clauses})])


def _edited(tmp_path: Path, file: str, old: str, new: str) -> Path:
    folder = tmp_path / "pack"
    shutil.copytree(DEMO_PACK, folder)
    text = (folder / file).read_text(encoding="utf-8")
    assert old in text
    (folder / file).write_text(text.replace(old, new, 1), encoding="utf-8")
    return folder


def test_the_demo_pack_declares_its_languages_and_keeps_them_with_its_guidance() -> None:
    pack = load_pack(DEMO_PACK)
    assert "pack.toml" in dict(pack.guidance)  # stored with the version, so the engine reads them later
    guidance = demo_guidance()
    assert guidance.languages == ("en", "de", "fr", "es")
    assert {c.id for c in guidance.categories if set(c.phrases_by_language) == {"de", "fr", "es"}} == {
        c.id for c in guidance.categories
    }
    assert all(set(p.draft_by_language) == {"de", "fr", "es"} for b in guidance.playbooks for p in b.path)


@pytest.mark.parametrize(
    ("file", "old", "new", "where", "said"),
    [
        ("pack.toml", 'languages = ["en", "de", "fr", "es"]', 'languages = ["english"]', "pack.toml:7", "ISO 639-1"),
        (
            "escalation.toml",
            '[category.phrases_by_language]\nde = ["verstorben*"',
            '[category.phrases_by_language]\nit = ["morto"]\nde = ["verstorben*"',
            "escalation.toml",
            "field 'category.0.phrases_by_language' has a text in 'it'",
        ),
        (
            "rules.toml",
            "[rule.patterns_by_language]\nde = [",
            "[rule.patterns_by_language]\nde = ['''(unclosed''', ",
            "rules.toml",
            "is not a valid regular expression",
        ),
    ],
)
def test_a_bad_language_field_names_its_file(
    tmp_path: Path, file: str, old: str, new: str, where: str, said: str
) -> None:
    folder = _edited(tmp_path, file, old, new)
    with pytest.raises(PackError) as raised:
        check_pack(load_pack(folder), str(folder))
    assert where in str(raised.value) and said in str(raised.value)


def test_examples_in_an_undeclared_language_are_refused(tmp_path: Path) -> None:
    folder = _edited(tmp_path, "pack.toml", ', "es"]', "]")
    (folder / "escalation-examples.es.jsonl").write_text('{"text": "Mi madre falleció", "labels": []}\n')
    with pytest.raises(PackError) as raised:
        load_pack(folder)
    assert "escalation-examples.es.jsonl" in str(raised.value) and "does not declare" in str(raised.value)


def test_examples_in_a_declared_language_load_with_the_pack(tmp_path: Path) -> None:
    folder = _edited(tmp_path, "pack.toml", "title =", "title =")
    (folder / "escalation-examples.de.jsonl").write_text(
        '{"text": "Meine Oma ist gestorben", "labels": ["bereavement"]}\n{"text": "Mein Handy ist tot", "labels": []}\n'
    )
    pack = load_pack(folder)
    check_pack(pack, str(folder))
    guidance = merge([(pack.key, pack.guidance, {c.id for c in pack.clauses})])
    assert [u.text for u in guidance.utterances_by_language["de"]] == ["Meine Oma ist gestorben", "Mein Handy ist tot"]


def test_phrases_ignore_case_and_accents_and_wildcards_finish_a_word() -> None:
    pattern = pack_pattern(("falleció", "*anwalt", "verstorben*"))
    assert pattern is not None
    for text in ("Mi padre FALLECIO ayer", "Mein Rechtsanwalt meldet sich", "die Verstorbene"):
        assert pattern.search(fold(text)), text
    assert not pattern.search(fold("Anwaltskanzlei"))  # a wildcard only where the phrase has one


def test_a_text_is_read_in_its_own_language_or_all_when_too_short_to_tell() -> None:
    languages = ("en", "de", "fr", "es")
    assert reading_languages("Meine Mutter ist letzte Woche gestorben, bitte kündigen Sie ihr Abo", languages) == (
        "de",
    )
    assert reading_languages("My mother passed away last week, please cancel her plan", languages) == ()
    assert reading_languages("Mitarbeiter bitte", languages) == ("de", "fr", "es")


@pytest.mark.parametrize(
    ("text", "jurisdiction", "category"),
    [
        ("Meine Mutter ist am Wochenende ganz plötzlich gestorben, ihr Abo läuft noch.", "EU-DE", "bereavement"),
        ("Ma grand-mère nous a quittés en mai et son compte est toujours actif.", "EU-FR", "bereavement"),
        ("Mi hermano falleció hace un mes y quiero cerrar su cuenta.", "EU-ES", "bereavement"),
        ("Wenn das nicht geklärt wird, übergebe ich die Sache meiner Anwältin.", "EU-DE", "legal_threat"),
        ("Sans remboursement sous huit jours, je vous envoie une mise en demeure.", "EU-FR", "legal_threat"),
        ("Voy a presentar una demanda contra ustedes si no me devuelven el dinero.", "EU-ES", "legal_threat"),
        ("Ich möchte jetzt bitte mit einem Vorgesetzten sprechen.", "EU-DE", "human_request"),
        ("Je veux parler à un responsable, pas à une machine.", "EU-FR", "human_request"),
        ("Quiero hablar con un supervisor ahora mismo, por favor.", "US-TX", "human_request"),
    ],
)
def test_a_grave_message_in_german_french_or_spanish_escalates(
    pipeline: Pipeline, text: str, jurisdiction: str, category: str
) -> None:
    escalations = pipeline.run(chat(("customer", text), jurisdiction=jurisdiction), 1).advice.escalations
    assert category in {e.category for e in escalations}
    found = next(e for e in escalations if e.category == category)
    assert found.evidence and found.evidence.lower() in text.lower()  # the customer's own words, accents kept


@pytest.mark.parametrize(
    "text",
    [
        "Mein Akku ist tot, können Sie den Link bitte nochmal schicken?",
        "Das Gericht mit Nudeln ist in der Pfanne angebrannt, die Beschichtung löst sich.",
        "Je suis mort de fatigue, mais ma commande est-elle partie ?",
        "Je suis avocate et j'ai besoin d'une facture pour mon cabinet.",
        "Me muero de ganas de estrenar la lámpara, ¿cuándo llega?",
        "El repartidor me dijo que hablara con un agente de atención al cliente, dejaron el paquete con el vecino.",
    ],
)
def test_idioms_and_near_misses_do_not_escalate(pipeline: Pipeline, text: str) -> None:
    assert not pipeline.run(chat(("customer", text)), 1).advice.escalations


def test_a_pack_rule_watches_a_reply_in_the_language_it_is_written_in(pipeline: Pipeline) -> None:
    conversation = chat(
        ("customer", "Meine Mutter ist verstorben, ich möchte ihr Konto schließen."),
        ("rep", "Mein Beileid. Schicken Sie mir die Sterbeurkunde einfach hier im Chat als Foto."),
    )
    flags = pipeline.run(conversation, 2).advice.flags
    assert [f.rule for f in flags] == ["bereavement-documents-in-chat"]
    assert flags[0].evidence.startswith("Schicken Sie mir die Sterbeurkunde")
    safe = chat(
        ("customer", conversation.turns[0].text), ("rep", "Bitte nutzen Sie für die Sterbeurkunde unser Formular.")
    )
    assert not pipeline.run(safe, 2).advice.flags


def test_a_spanish_customer_gets_the_spanish_template_and_others_the_english_one() -> None:
    guidance = demo_guidance()
    [path, *_] = suggest(Intent("warranty_claim", 0.9, 1), guidance, Facts())
    spanish = (Turn(1, "customer", "Hola, mi hervidor eléctrico dejó de funcionar después de dos meses."),)
    language = customer_language_code(spanish)
    assert language == "es"
    reply = compose(path, (), guidance, Facts(), "EU-ES", [], lambda _: "2 years", language)
    assert reply.text.startswith("Hola")
    assert "Para abrir una reclamación de garantía" in reply.text and "warranty claim" not in reply.text
    assert guidance.disclosure.line_by_language["es"] in reply.text  # the disclosure in Spanish too
    draft = Draft(reply.text, spanish, "EU-ES", True, guidance.disclosure.jurisdictions, guidance.disclosure.lines)
    assert not ai_disclosure(draft, guidance.checks)  # and the check knows the pack's line in Spanish
    english = compose(path, (), guidance, Facts(), "EU-ES", [], lambda _: "2 years", None)
    assert "To start a warranty claim" in english.text and english.text.startswith("Hi")
    italian = compose(path, (), guidance, Facts(), "EU-IT", [], lambda _: "2 years", "it")
    assert italian.text == english.text  # no template in the customer's language: the English draft


def test_examples_in_another_language_train_that_languages_classifier(workspace: Workspace) -> None:
    safety = Category(
        id="product_safety",
        title="Product safety",
        queue="Safety team",
        examples=("The charger melted and burned the carpet", "Sparks came out of the toaster"),
        examples_by_language={
            "de": ("Das Ladegerät ist geschmolzen und hat den Teppich verbrannt", "Aus dem Toaster kamen Funken")
        },
    )
    near_misses = (
        Utterance("Wo ist mein Paket? Es sollte am Montag kommen", frozenset()),
        Utterance("Kann ich die Größe des Pullovers noch ändern?", frozenset()),
    )
    encode = workspace.embedder.encode
    english_only = Guidance(
        categories=(safety.model_copy(update={"examples_by_language": {}}),), languages=("en", "de")
    )
    both = Guidance(categories=(safety,), languages=("en", "de"), utterances_by_language={"de": near_misses})
    german = chat(("customer", "Das Ladegerät ist heute Nacht geschmolzen und hat den Teppich verbrannt!"))
    taxonomies = [Taxonomy.of(g, encode, lambda text: encode([text])[0]) for g in (english_only, both)]
    assert not detect(german, None, taxonomies[0])  # the English examples do not read German
    [found] = detect(german, None, taxonomies[1])
    assert found.category == "product_safety" and "as in “Das Ladegerät" in found.evidence
