"""Issue 15's review of redaction, one test per miss: each of these texts went to the LLM as written.

Also the citation that became ``[EMAIL_1]``, the store's name for a customer the header did not name, the
``*.localhost`` endpoints counted as this machine, and a 50 KB message that must not hang redaction.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from base.errors import LlmError
from copilot.conversation.events import ConversationStarted, Message, ToolResult
from copilot.conversation.state import Conversation
from copilot.llm.client import LlmConfig, is_local, preview
from copilot.llm.redact import redact
from copilot.pipeline import Pipeline
from copilot.session.reply import ReplyDesk
from copilot.workspace import Workspace

MISSED = [
    ("card number with dots", "Charge it to 4111.1111.1111.1111 please", "4111.1111.1111.1111"),
    ("CVV", "expiry 09/27, CVV 123", "123"),
    ("card security code, German", "Prüfnummer 845", "845"),
    ("UK sort code", "Sort code 20-00-00, account 55779911", "20-00-00"),
    ("UK account number", "Sort code 20-00-00, account 55779911", "55779911"),
    ("NI number", "National Insurance number AB 12 34 56 C", "AB 12 34 56 C"),
    ("NI number, HMRC's example", "my NI number is QQ123456C", "QQ123456C"),
    ("SSN without separators", "social security number 412679021", "412679021"),
    ("SSN with spaces", "ssn: 287 65 4321", "287 65 4321"),
    ("spelled-out email", "reach me at ana at example dot com", "ana at example dot com"),
    ("spelled-out email, brackets", "mark.t (at) outlook (dot) com", "mark.t (at) outlook (dot) com"),
    ("spelled-out email, French", "claire arobase example point fr", "claire arobase example point fr"),
    ("street address, UK", "Ship it to 221B Baker Street, London NW1 6XE", "221B Baker Street"),
    ("postcode, UK", "Ship it to 221B Baker Street, London NW1 6XE", "NW1 6XE"),
    ("street address, ES", "mi dirección es C/ Alcalá 45, 3º B, 28014 Madrid", "C/ Alcalá 45, 3º B"),
    ("street address, DE", "Lieferadresse: Hauptstraße 12, 10115 Berlin", "Hauptstraße 12"),
    ("postcode, DE", "Lieferadresse: Hauptstraße 12, 10115 Berlin", "10115"),
    ("PO box", "send it to PO Box 4471, Austin TX 78701", "PO Box 4471"),
    ("PO box, German", "Postfach 10 12 34, 50667 Köln", "Postfach 10 12 34"),
    ("ZIP code", "zip code 94107, San Francisco", "94107"),
    ("ZIP after a state", "send it to PO Box 4471, Austin TX 78701", "TX 78701"),
    ("password", "my password is hunter2 if you need to log in", "hunter2"),
    ("password, Spanish", "Mi contraseña es Gato*99", "Gato*99"),
    ("PIN", "the PIN is 4821", "4821"),
    ("one-time code", "I got a one-time code 773201 but it expired", "773201"),
    ("IPv4 address", "my IP is 203.0.113.7 and the site blocks me", "203.0.113.7"),
    ("IPv6 address", "connecting from 2001:db8:85a3::8a2e:370:7334", "2001:db8:85a3::8a2e:370:7334"),
    ("passport number", "Passport no. 925076473, issued 2019", "925076473"),
    ("API token", "our key sk_live_4eC39HqLyjWDarjtT1zdp7dc", "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
    ("API token, AWS", "secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"),
]


@pytest.mark.parametrize(("kind", "text", "value"), MISSED, ids=[kind for kind, _, _ in MISSED])
def test_every_missed_kind_is_redacted_and_restored(kind: str, text: str, value: str) -> None:
    redaction = redact(text)
    assert value not in redaction.text, f"{kind} still sent: {redaction.text}"
    assert redaction.restore(redaction.text) == text


def test_a_citation_is_not_taken_for_an_email() -> None:
    text = "As northwind-retail@2025.6#contact.email says, is it ana.souza@example.com?"
    assert redact(text).text == "As northwind-retail@2025.6#contact.email says, is it [EMAIL_1]?"


def test_the_name_the_store_returns_is_redacted_when_the_header_names_no_one(workspace: Workspace) -> None:
    """The header has no customer name; find_customer returns one, the facts carry it, and so did the request."""
    conversation = Conversation.start(ConversationStarted(id="c1", jurisdiction="US-CA"))
    for event in (
        Message("c1", 1, "customer", "My late husband's order never came, can you look it up?"),
        ToolResult(
            "c1",
            2,
            "find_customer",
            '{"customer_id": "CU-20731", "name": "Margaret Carter", "email": "mc@example.com"}',
        ),
        Message("c1", 3, "customer", "Margaret is fine, everyone calls me Margaret."),
    ):
        conversation = conversation.apply(event)
    pipeline = Pipeline(workspace)
    insight = pipeline.run(conversation, 3)

    async def request_shown() -> str:
        desk = ReplyDesk(asyncio.get_running_loop(), _Silent())
        desk.started(conversation)
        desk.updated(conversation, 3)
        desk.analysed(insight, conversation, pipeline)
        request = desk.llm_request()
        assert request is not None
        return preview(request)

    shown = asyncio.run(request_shown())
    assert "CU-20731" in shown or "customer id" in shown  # the facts did go out…
    assert "Margaret" not in shown and "Carter" not in shown and "mc@example.com" not in shown  # …but not the name


class _Silent:
    def draft_reviewed(self, text: object, review: object) -> None: ...

    def draft_streamed(self, seq: int, text: str, done: bool) -> None: ...

    def draft_failed(self, seq: int, message: str) -> None: ...


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://localhost:8080/v1", True),
        ("http://127.0.0.1:8080/v1", True),
        ("http://127.3.2.1/v1", True),
        ("http://[::1]:8080/v1", True),
        ("http://llm.localhost/v1", False),
        ("http://evil.example.localhost:8080/v1", False),
        ("http://localhost.evil.example/v1", False),
    ],
)
def test_only_localhost_the_loopback_range_and_ipv6_loopback_are_this_machine(url: str, local: bool) -> None:
    assert is_local(url) is local
    if not local:
        with pytest.raises(LlmError, match="not on this machine"):
            LlmConfig(base_url=url).check_allowed()


LONG = 50_000
ADVERSARIAL = {
    "letters": "a" * LONG,
    "digits": "1" * LONG,
    "digit pairs": "01 23 " * (LONG // 6),
    "dotted": "a." * (LONG // 2),
    "spaces": " " * LONG,
    "spelled at": "ana at example " * (LONG // 15),
    "capitalised words": "My Name Is " * (LONG // 11),
    "hex words": "9f86d0 " * (LONG // 7),
    "ids": "AB-1234 " * (LONG // 8),
    "colons": "1:" * (LONG // 2),
    "card-like": "4111.1111 " * (LONG // 10),
}


@pytest.mark.parametrize("shape", list(ADVERSARIAL))
def test_a_50_kb_message_redacts_in_linear_time(shape: str) -> None:
    """Catastrophic backtracking takes minutes on such input; a few seconds is a generous bound on a shared machine
    (measured: 0.1-2 s, the realistic message below about 0.4 s)."""
    text = ADVERSARIAL[shape][:LONG]
    started = time.perf_counter()
    redact(text)
    assert time.perf_counter() - started < 6.0


def test_a_realistic_50_kb_message_redacts_in_well_under_a_few_seconds() -> None:
    message = " ".join(text for _, text, _ in MISSED) + " Order NW-12345 totals $89.00, refund by 2024-05-01. "
    text = (message * (LONG // len(message) + 1))[:LONG]
    started = time.perf_counter()
    redaction = redact(text)
    elapsed = time.perf_counter() - started
    assert "4111.1111.1111.1111" not in redaction.text and "hunter2" not in redaction.text
    assert elapsed < 3.0
