"""The non-English notice: confident on real sentences, silent on short or English text."""

from __future__ import annotations

from copilot.conversation.language import detect_non_english


def test_spanish_and_french_are_named() -> None:
    assert detect_non_english("Hola, quiero devolver la lámpara porque llegó rota y no funciona") == "Spanish"
    assert detect_non_english("Bonjour, ma commande n'est toujours pas arrivée depuis deux semaines") == "French"


def test_english_and_short_texts_get_no_notice() -> None:
    assert detect_non_english("Hi, I want to return the lamp because it arrived broken") is None
    assert detect_non_english("Sure, my user ID is mia_li_3668.") is None
    assert detect_non_english("gracias") is None
    assert detect_non_english("ok merci") is None
