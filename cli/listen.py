"""`copilot listen`: the push endpoint, headless; one JSON line per analysed message, as `replay --json`
prints them (registered by cli.main.build_parser)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from base.errors import ConfigError, EventError

if TYPE_CHECKING:
    from connectors.chatwoot import ChatwootConnector
    from copilot.pipeline import Pipeline
    from copilot.session.inbox import Inbox


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    evaluations: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add `copilot listen`."""
    listen = commands.add_parser(
        "listen",
        help="receive conversation events on 127.0.0.1 (docs/conversation-events.md, 'Push') and print one JSON "
        "line per analysed message, as `replay --json` does",
    )
    listen.add_argument(
        "--port", type=int, help="port on 127.0.0.1 (default: listen_port in settings.json, 8787; 0: any)"
    )
    listen.add_argument("--token", help="the bearer token senders must send (default: the data folder's push-token)")
    listen.add_argument(
        "--chatwoot", action="store_true", help="also follow the [chatwoot] helpdesk of connectors.toml by polling"
    )
    listen.add_argument(
        "--hold-ms", type=float, default=100.0, help="how long an event ahead of a gap in seq waits for it (ms)"
    )
    listen.set_defaults(func=cmd_listen)


def cmd_listen(args: argparse.Namespace) -> int:
    return asyncio.run(_listen(args))


def open_pipeline(folder: Path) -> Pipeline:
    """The pipeline over the data folder's packs (the demo pack loaded on first use), its model loaded."""
    from copilot.pipeline import Pipeline
    from copilot.settings import Settings
    from copilot.workspace import Workspace
    from retrieval.embed import LocalEmbedder

    workspace = Workspace(folder, LocalEmbedder(Settings.load(folder).embedding_model))
    workspace.ensure_demo_pack()
    workspace.embedder.load()
    return Pipeline(workspace)


def print_line(record: dict[str, object]) -> None:
    print(json.dumps(record, separators=(",", ":")), flush=True)


async def _listen(args: argparse.Namespace) -> int:
    from connectors.chatwoot import webhook_secret
    from copilot.replay import insight_record
    from copilot.session.headless import AnalyseAll
    from copilot.session.inbox import Inbox
    from copilot.session.push import TOKEN_FILE, PushEndpoint, push_token
    from copilot.settings import Settings, home

    folder = home()
    settings = Settings.load(folder)
    token = args.token or push_token(folder)
    pipeline = await asyncio.to_thread(open_pipeline, folder)
    loop = asyncio.get_running_loop()
    analyst = AnalyseAll(
        pipeline,
        on_insight=lambda insight: print_line(insight_record(insight)),
        on_error=lambda cid, seq, why: print(f"copilot listen: {cid} #{seq} not analysed: {why}", file=sys.stderr),
    )
    inbox = Inbox(loop, analyst.apply, hold_s=args.hold_ms / 1000)
    chatwoot = _chatwoot(folder, inbox) if args.chatwoot else None
    port = settings.push_port() if args.port is None else args.port
    endpoint = PushEndpoint(inbox, token, port, webhook_secret(folder))
    stop = asyncio.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(number, stop.set)
    polling: asyncio.Task[None] | None = None
    try:
        await endpoint.start()
        where = "--token" if args.token else str(folder / TOKEN_FILE)
        print(f"copilot listen: {endpoint.url}/events (token: {where})", file=sys.stderr, flush=True)
        if chatwoot is not None:
            polling = asyncio.create_task(chatwoot.run())
        await stop.wait()
    finally:
        if polling is not None:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
        if chatwoot is not None:
            await chatwoot.aclose()
        await endpoint.aclose()
        await analyst.drain()  # every message received is analysed and printed before exit
        await analyst.aclose()
        pipeline.workspace.close()
    return 0


def _chatwoot(folder: Path, inbox: Inbox) -> ChatwootConnector:
    """The connector of connectors.toml's [chatwoot], delivering to ``inbox``; ConfigError if there is none."""
    from connectors.chatwoot import open_chatwoot
    from connectors.config import CONNECTORS_FILE

    connector = open_chatwoot(folder, _delivering(inbox))
    if connector is None:
        raise ConfigError(
            f"{folder / CONNECTORS_FILE}: has no [chatwoot] table; add one (docs/connectors.md, 'Chatwoot')"
        )
    return connector


def _delivering(inbox: Inbox) -> Callable[[list[dict[str, object]]], None]:
    def deliver(records: list[dict[str, object]]) -> None:
        try:
            inbox.submit_records(records, "chatwoot", ordered=True)
        except EventError as exc:  # a payload Chatwoot changed: said, and the next poll goes on
            print(f"copilot listen: chatwoot: {exc}", file=sys.stderr)

    return deliver
