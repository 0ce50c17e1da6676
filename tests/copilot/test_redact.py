"""PII redaction: what leaves the machine carries placeholders, and the originals come back after."""

from __future__ import annotations

import pytest

from copilot.llm.redact import StreamRestorer, redact

MESSAGE = (
    "I'm Jane Doe, jane.doe@example.com or +44 20 7946 0958. Order NW-12345 was charged to "
    "4111 1111 1111 1111, and order #4471923 to 1234567890123."
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
        "and order #[ORDER_2] to [CARD_2]."
    )
    assert redaction.restore(redaction.text) == MESSAGE


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("IBAN GB82 WEST 1234 5698 7654 32 please", "IBAN [IBAN_1] please"),
        ("account number 12345678", "account number [ACCOUNT_1]"),
        ("221 Baker Street, London NW1 6XE", "[ADDRESS_1], London [POSTCODE_1]"),
        ("1600 Pennsylvania Ave, Washington, DC 20500", "[ADDRESS_1], Washington, [ZIP_1]"),
        ("call me on 07700900123 or (415) 555-0134", "call me on [PHONE_1] or [PHONE_2]"),
    ],
)
def test_accounts_addresses_and_unseparated_phones(text: str, kept: str) -> None:
    assert redact(text).text == kept


def test_amounts_dates_and_short_ids_stay_for_the_model_to_use() -> None:
    text = "Refund of $1,250.00 on 2024-05-01 or 12/05/2024 at 10:30, ticket 123456789, 14 days."
    assert redact(text).text == text


def test_same_value_same_placeholder_across_texts() -> None:
    first = redact("Write to jane.doe@example.com about NW-12345.")
    second = redact("Did jane.doe@example.com get it? Also bob@example.org, re NW-12345.", known=first)
    assert second.text == "Did [EMAIL_1] get it? Also [EMAIL_2], re [ORDER_1]."
    assert second.mapping["[EMAIL_1]"] == "jane.doe@example.com"
    assert second.mapping["[ORDER_1]"] == "NW-12345"
    assert second.mapping["[EMAIL_2]"] == "bob@example.org"


def test_names_only_when_given_and_as_written() -> None:
    assert redact("Hi Jane, I will check.").text == "Hi Jane, I will check."
    assert redact("Hi Jane Doe. Jane, I will check.", names=("Jane Doe", "Will")).text == (
        "Hi [NAME_1]. [NAME_2], I will check."
    )


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
