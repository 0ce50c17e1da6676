"""Chatwoot as Settings set it up: the ``[chatwoot]`` table written into connectors.toml beside an admin's
systems, a bad value named with nothing written, and the inbox filter reaching Chatwoot."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from base.errors import ConfigError
from connectors.chatwoot import open_chatwoot, save_config
from connectors.config import CONNECTORS_FILE, load_chatwoot, load_connectors
from tests.fakes.chatwoot import FakeChatwoot

SYSTEMS = """# the admin's systems
[[system]]
name = "store"          # orders and refunds
transport = "http"
url = "https://orders.example.com/mcp"

[chatwoot]
url = "https://old.example.com"
account_id = 1
poll_s = 5.0

[[system]]
name = "tickets"
transport = "stdio"
command = ["python", "-m", "tickets"]
"""


def test_saving_chatwoot_rewrites_its_table_and_keeps_the_admins_systems(tmp_path: Path) -> None:
    path = tmp_path / CONNECTORS_FILE
    path.write_text(SYSTEMS, encoding="utf-8")
    saved = save_config(path, {"url": "https://chat.example.com", "account_id": 3, "inbox_id": 2})
    text = path.read_text(encoding="utf-8")
    assert "# the admin's systems" in text and 'name = "store"          # orders and refunds' in text
    assert [s.name for s in load_connectors(path)] == ["store", "tickets"]
    assert load_chatwoot(path) == saved
    assert (saved.url, saved.account_id, saved.inbox_id, saved.poll_s) == ("https://chat.example.com", 3, 2, 5.0)
    assert text.count("[chatwoot]") == 1


def test_a_bad_value_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    path = tmp_path / CONNECTORS_FILE
    path.write_text(SYSTEMS, encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[chatwoot\]\.account_id: Input should be greater than 0; nothing"):
        save_config(path, {"url": "https://chat.example.com", "account_id": 0})
    assert path.read_text(encoding="utf-8") == SYSTEMS
    assert not list(tmp_path.glob("*.partial"))


def test_without_a_token_the_connector_says_where_to_put_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHATWOOT_API_TOKEN", raising=False)
    assert open_chatwoot(tmp_path, lambda _: None) is None  # no [chatwoot]: no helpdesk, and nothing to say
    save_config(tmp_path / CONNECTORS_FILE, {"url": "https://chat.example.com", "account_id": 3})
    with pytest.raises(ConfigError, match="no access token; set CHATWOOT_API_TOKEN or save the token in Settings"):
        open_chatwoot(tmp_path, lambda _: None)


def test_the_inbox_filter_reaches_chatwoot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    server = FakeChatwoot()
    server.start()
    try:
        monkeypatch.setenv("CHATWOOT_API_TOKEN", server.token)
        server.open_conversation(12, "Ana Ruiz")
        server.say(12, "Hello")
        save_config(tmp_path / CONNECTORS_FILE, {"url": server.url, "account_id": server.account_id, "inbox_id": 1})
        delivered: list[list[dict[str, object]]] = []
        connector = open_chatwoot(tmp_path, delivered.append)
        assert connector is not None

        async def poll() -> None:
            try:
                await connector.poll_once()
            finally:
                await connector.aclose()

        asyncio.run(poll())
    finally:
        server.stop()
    listed = [seen.query for seen in server.seen if seen.path.endswith("/conversations")]
    assert listed == [{"assignee_type": "me", "page": "1", "inbox_id": "1"}]
    assert [r["type"] for r in delivered[0]] == ["conversation", "message"]
