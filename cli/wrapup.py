"""`copilot wrapup CONV.jsonl [--json]`: a finished conversation's wrap-up, headless (registered by
cli.main.build_parser)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    evaluations: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add this module's commands under `copilot` and its measurements under `copilot eval`."""
    wrapup = commands.add_parser(
        "wrapup",
        help="root causes, outcome, summary with citations and a CSAT message for a finished conversation, without Qt",
    )
    wrapup.add_argument("file", help="conversation events (JSONL, see docs/conversation-events.md)")
    wrapup.add_argument("--json", action="store_true", help="one compact JSON line instead of Markdown")
    wrapup.set_defaults(func=cmd_wrapup)


def cmd_wrapup(args: argparse.Namespace) -> int:
    """Every message through the replay's pipeline over the data folder's packs, then the wrap-up."""
    from cli.listen import open_pipeline
    from copilot.settings import home
    from copilot.wrapup import wrap_up_file

    pipeline = open_pipeline(home())
    try:
        wrapup, errors = wrap_up_file(Path(args.file), pipeline)
    finally:
        pipeline.workspace.close()
    for error in errors:
        print(f"skipped: {error}", file=sys.stderr)
    if args.json:
        print(json.dumps(wrapup.record(), separators=(",", ":"), ensure_ascii=False))
    else:
        print(wrapup.markdown(wrapup.conversation_id))
    return 0
