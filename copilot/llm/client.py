"""The optional OpenAI-compatible LLM: reply drafts and structured answers, redacted on the way out.

Everything here is off until an admin sets a base URL. Only a loopback server (llama.cpp, Ollama) is
allowed unless the admin also allows remote endpoints, and every text sent is redacted first
(`copilot.llm.redact`); placeholders in the answer are restored before anyone sees it. Failures become
`LlmError` with the reason in plain words, never an SDK traceback.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import time
from collections.abc import AsyncGenerator, Awaitable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from types import TracebackType
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

import keyring
import openai
from openai.types.chat import ChatCompletion, ChatCompletionChunk, ChatCompletionMessageParam

from base.errors import LlmError
from connectors.secrets import KEYRING_FAILURES, KeySource, lookup
from copilot.llm.pii.known import PrivateValues
from copilot.llm.redact import Redaction, StreamRestorer, redact

log = logging.getLogger("copilot")

DEFAULT_KEY_ENV = "COPILOT_LLM_API_KEY"
NO_KEY = "not-needed"
"""Sent when no key is configured: local servers ignore it, and the SDK refuses an empty one."""
FORMATS = ("json_schema", "json_object", "text")
"""Structured-output forms, strongest first; `LlmClient.complete_json` steps down this list."""

_T = TypeVar("_T")
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL | re.IGNORECASE)
_SYSTEM = (
    "You draft a reply for a human customer-support rep, who will read and edit it before sending.\n"
    "Use ONLY the policy clauses and facts given below. Never promise amounts, dates or outcomes that they "
    "do not state. Cite a clause only by the citation given with it, and cite nothing you were not given.\n"
    "Placeholders such as [EMAIL_1] or [ORDER_1] stand for the customer's details: copy them exactly as written.\n"
    "Tone: {tone}.\n"
    "Answer with the text of the reply only."
)


@dataclass(frozen=True)
class LlmConfig:
    """Where the LLM is and what the admin allows."""

    base_url: str = ""
    """The OpenAI-compatible endpoint, e.g. ``http://127.0.0.1:8080/v1``; empty means no LLM is configured."""
    model: str = ""
    """Model name to ask for; empty means the first one the server lists (llama.cpp serves only one)."""
    key_env: str = DEFAULT_KEY_ENV
    """Environment variable that holds the API key; it wins over the OS keyring."""
    timeout_s: float = 20.0
    """Longest wait for an answer, and, while streaming, for each next piece of it."""
    allow_remote: bool = False
    """Admin setting: only with it may customer text (redacted) go to a server off this machine."""

    def check_allowed(self) -> None:
        """Raise unless an endpoint is configured and the admin setting permits it."""
        if not self.base_url:
            raise LlmError("No LLM is configured: set its base URL (for example http://127.0.0.1:8080/v1).")
        if not self.allow_remote and not is_local(self.base_url):
            raise LlmError(
                f"{self.base_url} is not on this machine, and remote endpoints are forbidden by the admin "
                "setting. Use a local server (llama.cpp, Ollama) or ask an admin to allow remote LLMs."
            )


def is_local(base_url: str) -> bool:
    """Only ``localhost``, ``127.0.0.0/8`` and ``::1`` count: any other name (``api.localhost`` included, which
    nothing guarantees a resolver keeps on this machine) may resolve elsewhere tomorrow, so it is remote."""
    try:
        host = urlsplit(base_url).hostname
    except ValueError:
        return False
    if not host:
        return False
    host = host.rstrip(".")
    if host.lower() == "localhost":
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return address.is_loopback


def api_key(config: LlmConfig, keyring_service: str = "copilot") -> KeySource:
    """The key from the environment variable, else from the OS keyring (stored under the base URL)."""
    return lookup(config.key_env, keyring_service, config.base_url, NO_KEY)


def store_key(base_url: str, key: str, keyring_service: str = "copilot") -> None:
    """Save the key for this endpoint in the OS keyring."""
    try:
        keyring.set_password(keyring_service, base_url, key)
    except KEYRING_FAILURES as exc:
        raise LlmError(
            f"No OS keyring is available here, so the API key cannot be saved; set {DEFAULT_KEY_ENV} instead."
        ) from exc


@dataclass(frozen=True)
class DraftRequest:
    """What a draft may draw on: the conversation, the retrieved clauses and the facts from our systems."""

    tone: str
    """How the reply should sound, e.g. "warm and brief"."""
    turns: tuple[tuple[str, str], ...]
    """(role, text), oldest first."""
    clauses: tuple[tuple[str, str], ...]
    """(citation, text) of the policy clauses the reply may rely on."""
    facts: tuple[str, ...]
    """Plain statements from order and account systems."""
    names: tuple[str, ...] = ()
    """People's names to redact (the customer's): shorthand for ``private.names``, for callers that know only names."""
    private: PrivateValues = field(default_factory=PrivateValues)
    """What the company's systems hold about the customer (name, email, phone, address, private ids), redacted
    wherever it appears: `copilot.llm.pii.known.private_values` gathers it from a conversation."""


def outgoing(request: DraftRequest) -> tuple[list[dict[str, str]], Redaction]:
    """The chat messages for a draft, every text redacted through one mapping, and that mapping.

    The clause texts and their citations are quoted by span and never redacted: they are the company's policy,
    not anyone's data, and the model must cite them as written.
    """
    conversation = "\n".join(f"{role}: {text}" for role, text in request.turns) or "(no messages yet)"
    clauses = "\n".join(f"[{citation}] {text}" for citation, text in request.clauses)
    facts = "\n".join(f"- {fact}" for fact in request.facts) or "(none)"
    head = f"Conversation so far:\n{conversation}\n\nPolicy clauses you may use:\n"
    user = f"{head}{clauses or '(none)'}\n\nFacts from our systems:\n{facts}\n\nDraft the rep's next reply."
    private = request.private | PrivateValues(names=request.names)
    system = redact(_SYSTEM.format(tone=request.tone), private=private)
    everything = redact(user, known=system, private=private, quoted=[(len(head), len(head) + len(clauses))])
    return [{"role": "system", "content": system.text}, {"role": "user", "content": everything.text}], everything


def preview(request: DraftRequest) -> str:
    """Exactly the text that would leave the machine for this draft, for the rep to read first."""
    return render(outgoing(request)[0])


def render(messages: list[dict[str, str]]) -> str:
    """Chat messages as a person reads them."""
    return "\n\n".join(f"--- {m['role']} ---\n{m['content']}" for m in messages)


class LlmClient:
    """One configured endpoint; use as ``async with LlmClient(config) as llm`` or call `aclose`."""

    def __init__(self, config: LlmConfig, key: str | None = None) -> None:
        """Raises `LlmError` if the endpoint is not allowed. Without ``key``, `api_key` looks it up, and an OS
        keyring can block on D-Bus: create the client off the GUI thread, or pass the key."""
        config.check_allowed()
        self.config = config
        self.format_used: str | None = None
        """The structured-output form (one of `FORMATS`) the last `complete_json` got an answer with."""
        self._first_format = 0
        self._model = config.model
        self._client = openai.AsyncOpenAI(
            base_url=config.base_url, api_key=key or api_key(config).key, timeout=config.timeout_s, max_retries=0
        )

    async def __aenter__(self) -> LlmClient:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.close()

    async def stream_draft(self, request: DraftRequest) -> AsyncGenerator[str, None]:
        """The draft as it is written, placeholders restored.

        Consume it inside ``contextlib.aclosing``: then a cancelled consumer closes the HTTP stream at once,
        and the server stops generating for nobody.
        """
        messages, redaction = outgoing(request)
        restorer = StreamRestorer(redaction)
        with self._plain_errors():
            model = await self._model_name()
            stream = await self._within(
                self._client.chat.completions.create(model=model, messages=_chat(messages), stream=True)
            )
            async with stream:
                chunks = aiter(stream)
                while (chunk := await self._within(anext(chunks, None))) is not None:
                    if shown := restorer.feed(_delta(chunk)):
                        yield shown
            if tail := restorer.flush():
                yield tail

    async def complete_json(
        self,
        messages: list[dict[str, str]],
        schema: dict[str, Any],
        name: str,
        names: tuple[str, ...] = (),
        private: PrivateValues | None = None,
    ) -> dict[str, Any]:
        """An answer parsed as a JSON object, in the strongest structured form the server accepts.

        Servers differ: OpenAI takes ``json_schema``, llama.cpp's server takes ``json_object`` with a schema,
        others only a prompt. A refused form (HTTP 400/422) steps down to the next one, and the form that
        worked is where later calls start. The messages are redacted here (``names`` and ``private`` as in
        `DraftRequest`);
        strings in the answer are restored.
        """
        redaction = Redaction("", {})
        redacted = []
        for message in messages:
            redaction = redact(message["content"], known=redaction, names=names, private=private)
            redacted.append({**message, "content": redaction.text})
        index = self._first_format
        with self._plain_errors():
            while True:
                try:
                    completion = await self._create(_in_form(FORMATS[index], redacted, schema, name))
                    break
                except (openai.BadRequestError, openai.UnprocessableEntityError) as exc:
                    if index == len(FORMATS) - 1:
                        raise
                    log.info(
                        "LLM at %s refused %s output (HTTP %s); trying %s",
                        self.config.base_url,
                        FORMATS[index],
                        exc.status_code,
                        FORMATS[index + 1],
                    )
                    index += 1
        self._first_format, self.format_used = index, FORMATS[index]
        answer: dict[str, Any] = _restored(
            _parse_object(completion.choices[0].message.content, self.config.base_url), redaction
        )
        return answer

    async def check(self) -> str:
        """Test the connection with a tiny completion; a one-line result for the settings page."""
        started = time.perf_counter()
        with self._plain_errors():
            model = await self._model_name()
            await self._create({"messages": [{"role": "user", "content": "Reply with the word OK."}], "max_tokens": 5})
        elapsed_ms = round((time.perf_counter() - started) * 1000)
        return f"Connected to {model} at {self.config.base_url} ({elapsed_ms} ms)"

    async def _create(self, arguments: dict[str, Any]) -> ChatCompletion:
        completion: ChatCompletion = await self._within(
            self._client.chat.completions.create(model=await self._model_name(), **arguments)
        )
        if not completion.choices:
            raise LlmError(f"The LLM at {self.config.base_url} sent an answer with no choices in it.")
        return completion

    async def _model_name(self) -> str:
        if not self._model:
            listed = await self._within(self._client.models.list())
            if not listed.data:
                raise LlmError(f"The LLM at {self.config.base_url} lists no models; set the model name.")
            self._model = listed.data[0].id
        return self._model

    async def _within(self, awaitable: Awaitable[_T]) -> _T:
        """Our own deadline as well as the SDK's: its read timeout restarts with every byte a slow server sends."""
        async with asyncio.timeout(self.config.timeout_s):
            return await awaitable

    @contextlib.contextmanager
    def _plain_errors(self) -> Iterator[None]:
        try:
            yield
        except (openai.APIError, TimeoutError, json.JSONDecodeError) as exc:
            raise _plain(exc, self.config) from exc


def _chat(messages: list[dict[str, str]]) -> list[ChatCompletionMessageParam]:
    return cast("list[ChatCompletionMessageParam]", messages)


def _delta(chunk: ChatCompletionChunk) -> str:
    return (chunk.choices[0].delta.content or "") if chunk.choices else ""


def _in_form(form: str, messages: list[dict[str, str]], schema: dict[str, Any], name: str) -> dict[str, Any]:
    """Request arguments for one structured-output form."""
    if form == "json_schema":
        return {
            "messages": _chat(messages),
            "response_format": {"type": "json_schema", "json_schema": {"name": name, "schema": schema, "strict": True}},
        }
    # The weaker forms also get the schema in the prompt: servers that ignore a json_object's schema
    # (Ollama) still produce the right shape, and OpenAI wants the word JSON in the messages for json_object.
    instruction = (
        f"Answer with only a JSON object that matches this JSON Schema, and nothing else:\n{json.dumps(schema)}"
    )
    # Added to the system message rather than as a message of its own: some chat templates accept
    # only one system message, first.
    if messages and messages[0]["role"] == "system":
        messages = [{**messages[0], "content": f"{messages[0]['content']}\n\n{instruction}"}, *messages[1:]]
    else:
        messages = [{"role": "system", "content": instruction}, *messages]
    if form == "json_object":
        return {"messages": _chat(messages), "response_format": {"type": "json_object", "schema": schema}}
    return {"messages": _chat(messages)}


def _parse_object(content: str | None, base_url: str) -> dict[str, Any]:
    text = content or ""
    if fenced := _FENCE.match(text):
        text = fenced.group(1)
    try:
        answer = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LlmError(
            f"The LLM at {base_url} did not answer with valid JSON ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno}); it began: {text[:80]!r}"
        ) from exc
    if not isinstance(answer, dict):
        raise LlmError(f"The LLM at {base_url} answered with a JSON {type(answer).__name__}, not an object.")
    return answer


def _restored(value: Any, redaction: Redaction) -> Any:
    """The parsed answer with the originals back in every string."""
    if isinstance(value, str):
        return redaction.restore(value)
    if isinstance(value, list):
        return [_restored(item, redaction) for item in value]
    if isinstance(value, dict):
        return {key: _restored(item, redaction) for key, item in value.items()}
    return value


def _plain(exc: Exception, config: LlmConfig) -> LlmError:
    """The SDK's error in words a rep or admin can act on."""
    url = config.base_url
    if isinstance(exc, openai.APITimeoutError | TimeoutError):
        return LlmError(f"The LLM at {url} did not answer within {config.timeout_s:g} s.")
    if isinstance(exc, openai.APIConnectionError):
        if any(isinstance(cause, ConnectionRefusedError) for cause in _causes(exc)):
            return LlmError(f"The LLM at {url} refused the connection: is the server running on that port?")
        return LlmError(f"The connection to the LLM at {url} failed: {_causes(exc)[-1]}.")
    if isinstance(exc, openai.APIStatusError):
        try:
            status = HTTPStatus(exc.status_code).phrase
        except ValueError:
            status = "error"
        hint = {401: " Check the API key.", 403: " Check the API key.", 404: " Check the base URL and model name."}
        return LlmError(
            f"The LLM at {url} answered HTTP {exc.status_code} {status}: "
            f"{_server_message(exc)}.{hint.get(exc.status_code, '')}"
        )
    if isinstance(exc, openai.APIError):
        return LlmError(f"The LLM at {url} reported an error: {exc.message}")
    return LlmError(f"The LLM at {url} sent a stream that is not in the OpenAI format ({exc}).")


def _causes(exc: BaseException) -> list[BaseException]:
    chain = [exc]
    while (following := chain[-1].__cause__ or chain[-1].__context__) is not None and following not in chain:
        chain.append(following)
    return chain


def _server_message(exc: openai.APIStatusError) -> str:
    body = exc.body
    message = body.get("message") if isinstance(body, dict) else body
    return str(message or exc.message)[:300].rstrip(".")
