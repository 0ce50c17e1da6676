"""The optional LLM path against a real loopback server speaking the OpenAI protocol.

Protocol tests run against the fake always, and also against a real llama.cpp server when
COPILOT_LLM_REAL_URL names one (e.g. http://127.0.0.1:8080/v1; COPILOT_LLM_REAL_MODEL optional).
Fault-injection tests run only against the fake.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import time
from collections.abc import Coroutine, Iterator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any, TypeVar

import keyring
import keyring.backend
import keyring.backends.fail
import pytest

from copilot.llm.client import (
    FORMATS,
    DraftRequest,
    KeySource,
    LlmClient,
    LlmConfig,
    LlmError,
    api_key,
    is_local,
    preview,
    render,
    store_key,
)
from tests.fakes.openai_server import FakeOpenAI

T = TypeVar("T")
REAL_URL = os.environ.get("COPILOT_LLM_REAL_URL", "")

REQUEST = DraftRequest(
    tone="warm and brief",
    turns=(
        (
            "customer",
            "Hi, I'm Jane Doe. My card 4111 1111 1111 1111 was charged twice for order NW-12345. "
            "Write to jane.doe@example.com or call +44 20 7946 0958.",
        ),
        ("rep", "I'm sorry to hear that, Jane. Let me check."),
    ),
    clauses=(("northwind-retail/refunds.duplicate", "Duplicate charges are refunded in full within 5 business days."),),
    facts=("Order NW-12345 has two charges of $89.00 on 2026-11-02.",),
    names=("Jane Doe",),
)
PII = ("Jane", "Doe", "4111 1111 1111 1111", "NW-12345", "jane.doe@example.com", "+44 20 7946 0958")
SCHEMA = {
    "type": "object",
    "properties": {"category": {"type": "string", "enum": ["refund", "delivery", "other"]}, "note": {"type": "string"}},
    "required": ["category", "note"],
    "additionalProperties": False,
}
CLASSIFY = [
    {"role": "system", "content": "Classify the customer's message and add a short note for the rep."},
    {"role": "user", "content": "From Jane Doe <jane.doe@example.com>: I was charged twice, refund me."},
]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


@dataclass(frozen=True)
class Endpoint:
    """A server to test against; `fake` is None for a real one, whose requests we cannot inspect."""

    base_url: str
    model: str
    fake: FakeOpenAI | None

    def config(self) -> LlmConfig:
        # A real model on a CPU can take a while; the fake answers at once.
        return LlmConfig(base_url=self.base_url, model=self.model, timeout_s=5.0 if self.fake else 120.0)


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    server = FakeOpenAI()
    server.start()
    yield server
    server.stop()


@pytest.fixture(
    params=[
        "fake",
        pytest.param(
            "real",
            marks=pytest.mark.skipif(
                not REAL_URL, reason="set COPILOT_LLM_REAL_URL to a llama.cpp server to test against it"
            ),
        ),
    ]
)
def endpoint(request: pytest.FixtureRequest) -> Endpoint:
    if request.param == "real":
        return Endpoint(REAL_URL, os.environ.get("COPILOT_LLM_REAL_MODEL", ""), None)
    server: FakeOpenAI = request.getfixturevalue("fake")
    return Endpoint(server.base_url, "", server)


async def draft(config: LlmConfig) -> list[str]:
    async with LlmClient(config) as llm, aclosing(llm.stream_draft(REQUEST)) as chunks:
        return [chunk async for chunk in chunks]


# --- protocol: fake and real ---------------------------------------------------------------------------


def test_draft_streams_restored_text_and_no_personal_data_leaves(endpoint: Endpoint) -> None:
    chunks = run(draft(endpoint.config()))
    text = "".join(chunks)
    assert len(chunks) > 1 and text.strip()
    if endpoint.fake is None:
        return
    # The fake echoed every placeholder it got, split over 4-character chunks: all come back restored.
    assert any("[" in piece and "]" not in piece for piece in endpoint.fake.sent)
    for value in ("Jane Doe", "4111 1111 1111 1111", "NW-12345", "jane.doe@example.com", "+44 20 7946 0958"):
        assert value in text
    assert not re.search(r"\[[A-Z]+_\d+\]", text)
    [sent] = endpoint.fake.requests
    assert sent["stream"] is True and sent["model"] == "fake-model"
    assert endpoint.fake.disconnects == 0
    assert not [value for value in PII if value in json.dumps(sent)]
    assert render(sent["messages"]) == preview(REQUEST)


def test_json_steps_down_from_a_refused_schema_and_remembers(endpoint: Endpoint) -> None:
    if endpoint.fake:
        endpoint.fake.mode = "refuse_json_schema"
        endpoint.fake.json_reply = {"category": "refund", "note": "Refund [NAME_1] at [EMAIL_1], charged twice."}

    async def twice() -> tuple[list[dict[str, Any]], list[str | None]]:
        async with LlmClient(endpoint.config()) as llm:
            first = await llm.complete_json(CLASSIFY, SCHEMA, "triage", names=("Jane Doe",))
            used = [llm.format_used]
            second = await llm.complete_json(CLASSIFY, SCHEMA, "triage", names=("Jane Doe",))
            return [first, second], [*used, llm.format_used]

    answers, used = run(twice())
    for answer in answers:
        assert answer["category"] in ("refund", "delivery", "other") and isinstance(answer["note"], str)
    assert used[0] in FORMATS and used[1] == used[0]
    if endpoint.fake is None:
        return
    assert answers[0] == {"category": "refund", "note": "Refund Jane Doe at jane.doe@example.com, charged twice."}
    assert used == ["json_object", "json_object"]
    requests = endpoint.fake.requests
    assert [r["response_format"]["type"] for r in requests] == ["json_schema", "json_object", "json_object"]
    assert requests[0]["response_format"]["json_schema"] == {"name": "triage", "schema": SCHEMA, "strict": True}
    assert requests[1]["response_format"]["schema"] == SCHEMA
    assert "[NAME_1] <[EMAIL_1]>" in requests[0]["messages"][1]["content"]
    assert not [value for value in PII if value in json.dumps(requests)]


def test_check_reports_model_url_and_time(endpoint: Endpoint) -> None:
    async def check() -> str:
        async with LlmClient(endpoint.config()) as llm:
            return await llm.check()

    result = run(check())
    assert re.fullmatch(rf"Connected to \S.* at {re.escape(endpoint.base_url)} \(\d+ ms\)", result)
    if endpoint.fake:
        # No model configured: the one the server lists is used and named.
        assert result.startswith("Connected to fake-model at ")
        assert endpoint.fake.requests[0]["max_tokens"] <= 5


# --- faults: fake only ---------------------------------------------------------------------------------


def test_json_falls_back_to_the_prompt_and_strips_fences(fake: FakeOpenAI) -> None:
    fake.mode = "refuse_structured"

    async def ask() -> tuple[dict[str, Any], str | None]:
        async with LlmClient(LlmConfig(base_url=fake.base_url)) as llm:
            return await llm.complete_json(CLASSIFY, SCHEMA, "triage"), llm.format_used

    answer, used = run(ask())
    assert answer == fake.json_reply and used == "text"
    assert [r.get("response_format", {}).get("type") for r in fake.requests] == ["json_schema", "json_object", None]
    assert json.dumps(SCHEMA) in fake.requests[2]["messages"][0]["content"]


def test_prose_instead_of_json_is_an_error_saying_so(fake: FakeOpenAI) -> None:
    fake.mode = "bad_json"

    async def ask() -> None:
        async with LlmClient(LlmConfig(base_url=fake.base_url)) as llm:
            await llm.complete_json(CLASSIFY, SCHEMA, "triage")

    with pytest.raises(
        LlmError,
        match=r"did not answer with valid JSON \(Expecting value at line 1 column 1\); "
        r"it began: 'Sure! Here is the JSON",
    ):
        run(ask())


def test_server_error_in_plain_words(fake: FakeOpenAI) -> None:
    fake.mode = "error"
    with pytest.raises(LlmError) as raised:
        run(draft(LlmConfig(base_url=fake.base_url)))
    assert str(raised.value) == (
        f"The LLM at {fake.base_url} answered HTTP 500 Internal Server Error: model crashed: out of memory."
    )


def test_no_answer_times_out_in_time(fake: FakeOpenAI) -> None:
    fake.mode = "timeout"
    started = time.perf_counter()
    with pytest.raises(LlmError, match=r"did not answer within 0\.5 s"):
        run(draft(LlmConfig(base_url=fake.base_url, timeout_s=0.5)))
    assert time.perf_counter() - started < 2.0
    assert fake.wait_for_disconnect(timeout=5)


async def consume_until_error(config: LlmConfig, received: list[str]) -> None:
    async with LlmClient(config) as llm, aclosing(llm.stream_draft(REQUEST)) as chunks:
        async for chunk in chunks:
            received.append(chunk)  # noqa: PERF401 - one by one, so what arrived before the error is kept


def test_a_stream_that_only_keeps_alive_times_out_after_what_arrived(fake: FakeOpenAI) -> None:
    fake.mode = "slow"
    received: list[str] = []
    started = time.perf_counter()
    with pytest.raises(LlmError, match=r"did not answer within 0\.5 s"):
        run(consume_until_error(LlmConfig(base_url=fake.base_url, timeout_s=0.5), received))
    assert time.perf_counter() - started < 2.0
    # The rep keeps what had arrived (two 4-character chunks) and is told why the rest did not.
    assert received == ["Than", "ks f"] and fake.wait_for_disconnect(timeout=5)


def test_a_stream_cut_off_is_an_error_after_what_arrived(fake: FakeOpenAI) -> None:
    fake.mode = "drop"
    received: list[str] = []
    with pytest.raises(LlmError, match=rf"The connection to the LLM at {re.escape(fake.base_url)} failed: \S"):
        run(consume_until_error(LlmConfig(base_url=fake.base_url), received))
    assert received == ["Than", "ks f"]


def test_cancelling_the_consumer_closes_the_stream(fake: FakeOpenAI) -> None:
    fake.mode = "slow"

    async def cancel_after_first_chunk() -> bool:
        # One long-lived client, as in the app: closing it would hang up too, so it stays open meanwhile.
        async with LlmClient(LlmConfig(base_url=fake.base_url, timeout_s=10)) as llm:
            first = asyncio.Event()

            async def consume() -> None:
                async with aclosing(llm.stream_draft(REQUEST)) as chunks:
                    async for _ in chunks:
                        first.set()

            task = asyncio.create_task(consume())
            await first.wait()
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            return await asyncio.to_thread(fake.wait_for_disconnect, 3)

    started = time.perf_counter()
    # Long before the client's own 10 s timeout and the server's 30 s stall: the cancel hung up.
    assert run(cancel_after_first_chunk()) and time.perf_counter() - started < 3
    assert fake.disconnects == 1


def test_connection_refused_in_plain_words() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{probe.getsockname()[1]}/v1"

    async def check() -> str:
        async with LlmClient(LlmConfig(base_url=closed, model="any")) as llm:
            return await llm.check()

    with pytest.raises(LlmError, match=rf"The LLM at {re.escape(closed)} refused the connection"):
        run(check())


# --- where text may go, and the key ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "local"),
    [
        ("http://127.0.0.1:8080/v1", True),
        ("http://127.8.9.10/v1", True),
        ("http://localhost:11434/v1", True),
        ("http://llm.localhost/v1", False),
        ("http://[::1]:8080/v1", True),
        ("http://[::ffff:127.0.0.1]:8080/v1", True),
        ("http://10.0.0.5:8080/v1", False),
        ("http://localhost.example.com/v1", False),
        ("http://my-gpu-box:8080/v1", False),
        ("https://api.openai.com/v1", False),
        ("localhost:8080", False),
    ],
)
def test_only_literal_loopback_is_local(url: str, local: bool) -> None:
    assert is_local(url) is local


def test_remote_endpoints_need_the_admin_setting() -> None:
    remote = LlmConfig(base_url="https://api.openai.com/v1")
    with pytest.raises(LlmError, match="remote endpoints are forbidden by the admin setting"):
        LlmClient(remote)
    LlmConfig(base_url="https://api.openai.com/v1", allow_remote=True).check_allowed()
    LlmConfig(base_url="http://127.0.0.1:8080/v1").check_allowed()
    with pytest.raises(LlmError, match="No LLM is configured"):
        LlmConfig().check_allowed()


def test_preview_is_redacted_and_carries_the_rules() -> None:
    shown = preview(REQUEST)
    assert not [value for value in PII if value in shown]
    assert "Use ONLY the policy clauses and facts" in shown and "Tone: warm and brief." in shown
    assert "[northwind-retail/refunds.duplicate] Duplicate charges are refunded" in shown
    assert "[NAME_1]. My card [CARD_1] was charged twice for order [ORDER_1]" in shown
    assert "- Order [ORDER_1] has two charges of $89.00 on 2026-11-02." in shown


class MemoryKeyring(keyring.backend.KeyringBackend):
    """An OS keyring stand-in: this machine has none."""

    priority = 1

    def __init__(self) -> None:
        super().__init__()
        self.saved: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.saved.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.saved[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.saved[(service, username)]


@pytest.fixture
def use_keyring() -> Iterator[Any]:
    """Swap the process-wide keyring backend for a test, and put the old one back."""
    before = keyring.get_keyring()
    yield keyring.set_keyring
    keyring.set_keyring(before)


def test_key_from_env_first_then_keyring(use_keyring: Any, monkeypatch: pytest.MonkeyPatch, fake: FakeOpenAI) -> None:
    use_keyring(MemoryKeyring())
    monkeypatch.delenv("COPILOT_LLM_API_KEY", raising=False)
    config = LlmConfig(base_url=fake.base_url)
    assert api_key(config) == KeySource("not-needed", "none")
    store_key(fake.base_url, "sk-from-keyring")
    assert api_key(config) == KeySource("sk-from-keyring", "keyring")
    monkeypatch.setenv("COPILOT_LLM_API_KEY", "sk-from-env")
    assert api_key(config) == KeySource("sk-from-env", "env")
    run(draft(config))
    assert fake.api_keys == ["sk-from-env"]


def test_no_keyring_is_said_plainly(use_keyring: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    use_keyring(keyring.backends.fail.Keyring())
    monkeypatch.delenv("COPILOT_LLM_API_KEY", raising=False)
    config = LlmConfig(base_url="http://127.0.0.1:8080/v1")
    assert api_key(config) == KeySource(
        "not-needed", "none", "No OS keyring is available here; set COPILOT_LLM_API_KEY instead."
    )
    with pytest.raises(LlmError, match="No OS keyring is available here, so the API key cannot be saved"):
        store_key(config.base_url, "sk-secret")
    monkeypatch.setenv("COPILOT_LLM_API_KEY", "sk-from-env")
    assert api_key(config) == KeySource("sk-from-env", "env")
