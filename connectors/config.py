"""Which systems the copilot talks to, read from ``connectors.toml`` in the data folder.

Secrets never live in this file: an entry names the environment variable (or keyring entry) that
holds its token. See docs/connectors.md for the format.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from base.errors import ConfigError

CONNECTORS_FILE = "connectors.toml"


class SystemConfig(BaseModel):
    """One connected system."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    transport: Literal["stdio", "http", "rest"]
    """``stdio`` and ``http`` speak MCP (a command to launch, or a streamable-HTTP URL); ``rest`` is plain HTTP."""
    command: tuple[str, ...] = ()
    url: str = ""
    token_env: str = ""
    """Environment variable holding a bearer token; the OS keyring entry (service ``copilot``, this name) is next."""
    timeout_s: float = Field(10.0, gt=0, le=300)
    idempotency: bool = True
    """Whether write tools take an ``idempotency_key``; without it a lost reply is reconciled by reading state."""
    pre_approved: tuple[str, ...] = ()
    """Read-only tools an admin lets run without a rep's click (customer and order lookups)."""

    @model_validator(mode="after")
    def _target(self) -> SystemConfig:
        if self.transport == "stdio" and not self.command:
            raise ValueError("a stdio system needs 'command' (the program and its arguments)")
        if self.transport != "stdio" and not self.url.startswith(("http://", "https://")):
            raise ValueError(f"a {self.transport} system needs 'url' starting with http:// or https://")
        return self


class ChatwootConfig(BaseModel):
    """The Chatwoot helpdesk whose conversations the panel follows (``[chatwoot]``, docs/connectors.md)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: str = Field(pattern=r"^https?://")
    """The Chatwoot installation, e.g. ``https://chat.example.com``."""
    account_id: int = Field(gt=0)
    token_env: str = "CHATWOOT_API_TOKEN"
    """Environment variable holding the rep's access token (Profile settings); keyring entry (``copilot``,
    ``chatwoot``) next."""
    poll_s: float = Field(2.0, ge=0.2, le=300)
    """Seconds between two polls of the rep's assigned conversations."""
    inbox_id: int = Field(0, ge=0)
    """Follow only the conversations of this Chatwoot inbox (the number in its settings URL); 0: every inbox."""
    reply_as: Literal["message", "private_note"] = "message"
    """How the rep's sent reply is posted back: a message to the customer, or a private note for the team."""
    webhook_secret_env: str = ""
    """Environment variable holding the webhook's secret, when webhooks come to the push endpoint's
    ``/chatwoot`` route signed (``X-Chatwoot-Signature``); empty: only the push token is checked."""
    timeout_s: float = Field(10.0, gt=0, le=300)


class ConnectorsFile(BaseModel):
    """The whole file: its ``[[system]]`` entries and the optional ``[chatwoot]`` helpdesk."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    system: tuple[SystemConfig, ...] = ()
    chatwoot: ChatwootConfig | None = None


def load_connectors(path: Path) -> tuple[SystemConfig, ...]:
    """The systems in ``path``; a file that cannot be used raises ConfigError naming entry and field."""
    systems = _read(path).system
    names = [s.name for s in systems]
    duplicate = next((n for n in names if names.count(n) > 1), None)
    if duplicate:
        raise ConfigError(f"{path}: two systems are named {duplicate!r}; give each a unique name")
    return systems


def load_chatwoot(path: Path) -> ChatwootConfig | None:
    """The ``[chatwoot]`` helpdesk of ``path``, None when the file has none (or there is no file)."""
    return _read(path).chatwoot if path.exists() else None


def _read(path: Path) -> ConnectorsFile:
    """The whole file validated; ConfigError names the entry and field of the first problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror}); fix its permissions or remove it") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML ({exc}); fix the line it names") from None
    try:
        return ConnectorsFile.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        where = ".".join(str(p) for p in error["loc"]) or "file"
        if len(error["loc"]) >= 2 and error["loc"][0] == "system" and isinstance(error["loc"][1], int):
            where = f"[[system]] #{error['loc'][1] + 1}" + "".join(f".{p}" for p in error["loc"][2:])
        elif error["loc"] and error["loc"][0] == "chatwoot":
            where = "[chatwoot]" + "".join(f".{p}" for p in error["loc"][1:])
        raise ConfigError(f"{path}: {where}: {error['msg']}; see docs/connectors.md") from None
