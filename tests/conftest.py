"""Shared fixtures: the real embedding model (once per run), a data folder with the demo pack loaded."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from connectors.contract import ToolInfo
from connectors.demo_store.store import SPECS
from copilot.action_policy import ActionPolicy, pack_policy
from copilot.actions.judge import Judge
from copilot.actions.proposals import judged, situation_of
from copilot.actions.verdict import Verdict
from copilot.conversation.state import Conversation
from copilot.settings import DEMO_CONVERSATIONS, DEMO_PACK
from copilot.workspace import Workspace
from retrieval.embed import LocalEmbedder
from retrieval.packs import load_pack

REPO = Path(__file__).resolve().parent.parent
BENCHDATA = REPO.parent / "shared" / "benchdata"
DEMO_WRITE_TOOLS = frozenset(
    {
        "cancel_order",
        "reinstate_order",
        "refund_payment",
        "update_shipping_address",
        "create_ticket",
        "escalate_to_queue",
        "issue_provisional_credit",
        "reverse_provisional_credit",
        "file_dispute",
        "withdraw_dispute",
        "send_confirmation",
        "schedule_followup",
        "cancel_followup",
    }
)
"""The demo store's tools that change something."""
DEMO_POLICY: ActionPolicy = pack_policy(load_pack(DEMO_PACK), "demo")
"""The demo pack's systems.toml and actions.toml, compiled."""


def _demo_tools() -> dict[str, ToolInfo]:
    return {s.name: ToolInfo(s.name, s.description, dict(s.input_schema), s.read_only) for s in SPECS}


DEMO_TOOLS = _demo_tools()


def demo_check(
    tool: str,
    arguments: Mapping[str, Any],
    *,
    conversation: Conversation,
    intent: str = "",
    role: str = "rep",
    identity_verified: bool = False,
) -> Verdict:
    """The demo pack's verdict on a call, judged on the records the conversation looked up."""
    situation = replace(situation_of(conversation, DEMO_POLICY, role), attested=identity_verified)
    return judged(Judge(DEMO_POLICY, situation), conversation, tool, arguments, DEMO_TOOLS.get(tool), intent=intent)


@pytest.fixture(scope="session")
def embedder() -> LocalEmbedder:
    model = LocalEmbedder()
    model.load()
    return model


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory, embedder: LocalEmbedder) -> Path:
    """A data folder in which the demo pack was loaded once for the whole run."""
    home = tmp_path_factory.mktemp("demo-home")
    workspace = Workspace(home, embedder)
    workspace.ensure_demo_pack()
    workspace.close()
    return home


@pytest.fixture
def workspace(demo_home: Path, embedder: LocalEmbedder, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    monkeypatch.setenv("COPILOT_HOME", str(demo_home))
    opened = Workspace(demo_home, embedder)
    yield opened
    opened.close()


@pytest.fixture
def fresh_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty data folder, set as COPILOT_HOME."""
    home = tmp_path / "home"
    monkeypatch.setenv("COPILOT_HOME", str(home))
    return home


@pytest.fixture
def event_loop_qt(qapp):  # type: ignore[no-untyped-def]
    """The app's kind of loop: asyncio running inside Qt (qasync)."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=False)
    asyncio.set_event_loop(loop)
    yield loop
    loop.close()
    asyncio.set_event_loop(None)


def demo_conversation(name: str) -> Path:
    return DEMO_CONVERSATIONS / f"{name}.jsonl"
