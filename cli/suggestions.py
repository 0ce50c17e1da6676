"""Commands of the `copilot` line for suggestions: `copilot eval suggestions` (registered by cli.main.build_parser)."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
from pathlib import Path

TABLE = f"{'tool':32}{'writes':>7}{'name recall':>13}{'exact recall':>14}{'extra/conv':>12}{'turns earlier':>15}"


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    evaluations: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add this module's commands under `copilot` and its measurements under `copilot eval`."""
    found = evaluations.add_parser(
        "suggestions", help="would the copilot have proposed the writes a good agent made (recorded conversations)"
    )
    found.add_argument("--conversations", required=True, help="folder of conversation event files, ID.jsonl each")
    found.add_argument("--outcomes", required=True, help="JSONL: {id, reward, ...} per conversation (docs/eval.md)")
    found.add_argument("--pack", required=True, help="the company's pack (folder or .zip), with systems and actions")
    found.add_argument(
        "--server",
        help="command starting the company's MCP server (stdio) afresh per conversation; {state}: a new empty "
        "folder; without it, only the recorded tool results are facts",
    )
    found.add_argument(
        "--only", default="", help="comma-separated conversation ids: measure only those (solved ones) of the outcomes"
    )
    found.add_argument("--json", action="store_true", help="also print one compact JSON line, last on stdout")
    found.set_defaults(func=cmd_eval_suggestions)


def cmd_eval_suggestions(args: argparse.Namespace) -> int:
    """Replay the solved conversations in a workspace of their own (so a pack being edited is measured without a
    new version) and print recall in time, exact recall, extras and turns earlier, per tool and overall."""
    from copilot.action_policy import pack_policy
    from copilot.pipeline import Pipeline
    from copilot.settings import Settings, home
    from copilot.suggestions_eval import evaluate_suggestions, read_outcomes
    from copilot.workspace import Workspace
    from retrieval.embed import LocalEmbedder

    outcomes = read_outcomes(Path(args.outcomes))
    with tempfile.TemporaryDirectory(prefix="copilot-eval-suggestions-") as folder:
        workspace = Workspace(Path(folder), LocalEmbedder(Settings.load(home()).embedding_model))
        try:
            pack = workspace.load_pack(Path(args.pack), activate=False).pack
            pipeline = Pipeline(workspace, (f"{pack.name}@{pack.version}",))
            scores = asyncio.run(
                evaluate_suggestions(
                    pipeline,
                    pack_policy(pack, args.pack),
                    Path(args.conversations),
                    outcomes,
                    args.server,
                    _progress,
                    lambda text: print(f"copilot: {text}", file=sys.stderr),
                    [part.strip() for part in args.only.split(",") if part.strip()],
                )
            )
        finally:
            workspace.close()
    result = scores.as_json()
    print(TABLE)
    for tool, tally in [*result["by_tool"].items(), ("all", result["overall"])]:
        print(
            f"{tool:32}{tally['writes']:>7}{_number(tally['name_recall']):>13}{_number(tally['exact_recall']):>14}"
            f"{_number(tally['extra_per_conversation']):>12}{_number(tally['turns_earlier']):>15}"
        )
    print(f"{result['conversations']} solved conversations")
    for miss in result["misses"]:
        print(
            f"  missed {miss['conversation']}: {miss['tool']} {json.dumps(miss['arguments'])}; proposed "
            f"{json.dumps(miss['proposed']) if miss['proposed'] else 'nothing of it'}"
            + (f"; why: {miss['why']}" if miss["why"] else ""),
            file=sys.stderr,
        )
    for extra in result["extras"]:
        print(
            f"  extra {extra['conversation']}: {extra['tool']} {json.dumps(extra['arguments'])} ({extra['verdict']})",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    return 0


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _progress(done: int, total: int) -> None:
    sys.stderr.write(f"\rconversations {done}/{total}")
    if done >= total:
        sys.stderr.write("\n")
    sys.stderr.flush()
