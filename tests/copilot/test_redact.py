"""PII redaction: what leaves the machine carries placeholders, and the originals come back after."""

from __future__ import annotations

import pytest

from copilot.conversation.events import ConversationStarted, parse_event
from copilot.conversation.state import Conversation
from copilot.llm.client import DraftRequest, preview
from copilot.llm.pii.known import PrivateValues, from_records, private_values
from copilot.llm.redact import StreamRestorer, redact

MESSAGE = (
    "I'm Jane Doe, jane.doe@example.com or +44 20 7946 0958. Order NW-12345 was charged to "
    "4111 1111 1111 1111, and order #4471923 to card 1234567890123."
)
PII = (
    "Jane Doe",
    "jane.doe@example.com",
    "+44 20 7946 0958",
    "NW-12345",
    "4111 1111 1111 1111",
    "4471923",
    "1234567890123",
)


def test_personal_data_is_replaced_and_restored() -> None:
    redaction = redact(MESSAGE, names=("Jane Doe",))
    assert not [value for value in PII if value in redaction.text]
    assert redaction.text == (
        "I'm [NAME_1], [EMAIL_1] or [PHONE_1]. Order [ORDER_1] was charged to [CARD_1], "
        "and order #[ORDER_2] to card [CARD_2]."
    )
    assert redaction.restore(redaction.text) == MESSAGE


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN [IBAN_1] please"),
        ("account number 12345678", "account number [ACCOUNT_1]"),
        ("221 Baker Street, London NW1 6XE", "[ADDRESS_1], London [POSTCODE_1]"),
        ("1600 Pennsylvania Ave, Washington, DC 20500", "[ADDRESS_1], Washington, [POSTCODE_1]"),
        ("call me on 07700900123 or (415) 555-0134", "call me on [PHONE_1] or [PHONE_2]"),
    ],
)
def test_accounts_addresses_and_unseparated_phones(text: str, kept: str) -> None:
    assert redact(text).text == kept


def test_amounts_dates_and_short_ids_stay_for_the_model_to_use() -> None:
    text = "Refund of $1,250.00 on 2024-05-01 or 12/05/2024 at 10:30, ticket 123456789, 14 days."
    assert redact(text).text == text


def test_a_long_number_that_fails_luhn_is_a_card_only_after_a_card_word() -> None:
    assert redact("Barcode 4006381333931 on the box").text == "Barcode 4006381333931 on the box"
    assert redact("my card 4006381333931 (I may have mistyped it)").text == "my card [CARD_1] (I may have mistyped it)"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Meine Karte: 5425.2334.3010.9903, Prüfnummer 845", "Meine Karte: [CARD_1], Prüfnummer [SECRET_1]"),
        ("IBAN : FR14 2004 1010 0505 0001 3M02 606", "IBAN : [IBAN_1]"),
        ("Mi DNI es 12345678Z y mi NIE X1234567L", "Mi DNI es [IDNUMBER_1] y mi NIE [IDNUMBER_2]"),
        ("Steuer-ID 36574261809, NIR 2 95 10 99 126 111 93", "Steuer-ID [IDNUMBER_1], NIR [IDNUMBER_2]"),
        ("Llámame al +34 612 345 678 o al 912 345 678", "Llámame al [PHONE_1] o al [PHONE_2]"),
        ("Livrez au 12 rue de la Paix, 75002 Paris", "Livrez au [ADDRESS_1], [POSTCODE_1] Paris"),
        (
            "Mein Passwort ist Sommer2024! und die PIN lautet 5566",
            "Mein Passwort ist [SECRET_1] und die PIN lautet [SECRET_2]",
        ),
        ("geboren am 14.03.1985", "geboren am [DOB_1]"),
    ],
)
def test_other_languages(text: str, kept: str) -> None:
    assert redact(text).text == kept


def test_overlapping_finds_become_one_placeholder_so_no_part_is_left() -> None:
    # The known address and the street pattern overlap differently; the union is redacted once.
    redaction = redact("ship to Flat 3, 12 High Street", private=PrivateValues(addresses=("12 High Street",)))
    assert redaction.text == "ship to [ADDRESS_1]"
    assert redaction.mapping == {"[ADDRESS_1]": "Flat 3, 12 High Street"}


def test_same_value_same_placeholder_across_texts() -> None:
    first = redact("Write to jane.doe@example.com about NW-12345.")
    second = redact("Did jane.doe@example.com get it? Also bob@example.org, re NW-12345.", known=first)
    assert second.text == "Did [EMAIL_1] get it? Also [EMAIL_2], re [ORDER_1]."
    assert second.mapping["[EMAIL_1]"] == "jane.doe@example.com"
    assert second.mapping["[ORDER_1]"] == "NW-12345"
    assert second.mapping["[EMAIL_2]"] == "bob@example.org"


def test_names_from_the_records_as_written_and_after_a_cue() -> None:
    assert redact("I will check, Team.").text == "I will check, Team."
    assert redact("Hi Jane, I will check.").text == "Hi [NAME_1], I will check."
    assert redact("Hi Jane Doe. Jane, I will check.", names=("Jane Doe", "Will")).text == (
        "Hi [NAME_1]. [NAME_2], I will check."
    )
    assert redact("Mein Name ist Jürgen Weiß, ich bin Kunde seit 2019.").text == (
        "Mein Name ist [NAME_1], ich bin Kunde seit 2019."
    )


def test_values_of_the_record_are_found_however_they_are_written() -> None:
    private = PrivateValues(
        emails=("Sam.Okafor@Example.com",),
        phones=("+44 117 496 0123",),
        addresses=("17 Mill Lane, Bath BA1 2QX",),
        ids=("C-1003",),
        regions=("GB",),
    )
    text = "sam.okafor@example.com, 0117 4960123, 17 mill lane (Bath), BA1 2QX, customer c-1003"
    assert (
        redact(text, private=private).text
        == "[EMAIL_1], [PHONE_1], [ADDRESS_1] (Bath), [POSTCODE_1], customer [ORDER_1]"
    )


def test_private_values_come_from_the_header_and_every_tool_result() -> None:
    records = [
        {"customer_id": "C-1", "name": "Margaret Carter", "email": "m.carter@example.com", "phone": "+1 415 555 0101"},
        {
            "order_id": "NW-1",
            "shipping_address": {
                "name": "Pat Carter",
                "line1": "9 Elm Close",
                "city": "Bristol",
                "postal_code": "BS8 1TH",
            },
            "items": [{"sku": "EL-STH-BLK", "name": "Studio headphones", "quantity": 1}],
        },
    ]
    found = from_records(records, id_fields=("order_id",))
    assert found.names == ("Margaret Carter", "Pat Carter")  # not the product's name
    assert found.emails == ("m.carter@example.com",)
    assert found.phones == ("+1 415 555 0101",)
    assert found.addresses == ("9 Elm Close", "BS8 1TH")
    assert found.ids == ("NW-1",)
    start = parse_event({"type": "conversation", "id": "c", "customer": {"name": "Meg"}, "jurisdiction": "EU-DE"})
    assert isinstance(start, ConversationStarted)
    conversation = Conversation.start(start)
    assert private_values(conversation) == PrivateValues(names=("Meg",), regions=("DE",))


def test_citations_and_quoted_clause_texts_are_never_redacted() -> None:
    text = "Per northwind-retail@2025.6#returns.window: call 020 7946 0958 or write to returns@example.com."
    assert redact(text).text == "Per northwind-retail@2025.6#returns.window: call [PHONE_1] or write to [EMAIL_1]."
    assert redact(text, quoted=[(44, len(text))]).text == text
    request = DraftRequest(
        "warm",
        (("customer", "I'm Ana Souza, ana@example.com, what is the returns address?"),),
        (
            (
                "northwind-retail@2025.6#returns.address",
                "Send returns to 1 Dock Road, Tilbury RM18 7EH, or ring 020 7946 0000.",
            ),
        ),
        (),
        private=PrivateValues(names=("Ana Souza",)),
    )
    shown = preview(request)
    citation, clause = request.clauses[0]
    assert f"[{citation}] {clause}" in shown
    assert "Ana" not in shown and "ana@example.com" not in shown


def test_unknown_placeholders_are_left_alone() -> None:
    redaction = redact("mail jane.doe@example.com")
    assert redaction.restore("to [EMAIL_1] and [EMAIL_9]") == "to jane.doe@example.com and [EMAIL_9]"


def stream(restorer: StreamRestorer, chunks: list[str]) -> list[str]:
    return [restorer.feed(chunk) for chunk in chunks] + [restorer.flush()]


def test_stream_restorer_holds_a_split_placeholder_until_it_is_whole() -> None:
    redaction = redact("jane.doe@example.com, NW-12345")
    shown = stream(StreamRestorer(redaction), ["Sent to [EMA", "IL_", "1]", " for [ORDER_1", "]. [x] [", "DONE"])
    assert shown == ["Sent to ", "", "jane.doe@example.com", " for ", "NW-12345. [x] ", "", "[DONE"]
    assert "".join(shown) == "Sent to jane.doe@example.com for NW-12345. [x] [DONE"


def test_stream_restorer_every_split_point_gives_the_same_text() -> None:
    redaction = redact("jane.doe@example.com and 4111 1111 1111 1111")
    reply = "Card [CARD_1] belongs to [EMAIL_1] [see terms]"
    for size in range(1, 12):
        pieces = [reply[i : i + size] for i in range(0, len(reply), size)]
        assert "".join(stream(StreamRestorer(redaction), pieces)) == redaction.restore(reply)


def test_stream_restorer_shows_an_unfinished_placeholder_at_the_end() -> None:
    assert stream(StreamRestorer(redact("jane.doe@example.com")), ["cut off [EMAI"]) == ["cut off ", "[EMAI"]
