"""`copilot qa RECORDS-URL|CONVERSATIONS-DIR`: automated QA with the checks of a pack's qa.toml (docs/qa.md);
registered by cli.main.build_parser, with `copilot bench --qa`'s options."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import distinct, func, select

from base.errors import CopilotError

if TYPE_CHECKING:
    from copilot.qa.policy import QaPolicy
    from copilot.qa.score import QaReport
    from copilot.qa.transcript import Transcript
    from copilot.records.store import Records

BENCH_CONVERSATIONS = 100_000


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    evaluations: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add `copilot qa`, and `--qa` to `copilot bench` (registered before this module)."""
    qa = commands.add_parser("qa", help="score finished conversations with the pack's QA checks (docs/qa.md)")
    qa.add_argument(
        "source",
        help="a folder of conversation event files (*.jsonl), or the records: a SQLAlchemy URL "
        "(sqlite:///journal.sqlite3, postgresql://...) or a .sqlite3 file",
    )
    qa.add_argument("--pack", help="the pack (folder or .zip) whose qa.toml holds the checks (default: the demo pack)")
    qa.add_argument("--json", action="store_true", help="one compact JSON object on stdout instead of the table")
    qa.add_argument(
        "--limit", type=int, default=20, metavar="N", help="failing conversations listed per check (0: all; default 20)"
    )
    qa.set_defaults(func=cmd_qa)
    bench = commands.choices["bench"]
    bench.add_argument("--qa", action="store_true", help="measure `copilot qa` on generated records (seeded by --seed)")
    bench.add_argument(
        "--qa-conversations",
        type=int,
        default=BENCH_CONVERSATIONS,
        metavar="N",
        help=f"with --qa: conversations generated (default {BENCH_CONVERSATIONS:,})",
    )


def progress_bar(label: str, total: int) -> Callable[[int], None]:
    """A progress bar on standard error, redrawn as ``done`` grows towards ``total``."""

    def report(done: int) -> None:
        width = 30
        filled = width * done // max(total, 1)
        sys.stderr.write(f"\r{label} [{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,}")
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return report


def pack_qa(path: Path) -> QaPolicy:
    """The QA of the pack at ``path``; a pack without a qa.toml is an error saying what to add."""
    from copilot.qa.policy import qa_policy
    from retrieval.packs import load_pack

    policy = qa_policy(load_pack(path), str(path))
    if policy is None:
        raise CopilotError(f"{path}: the pack has no qa.toml; add one with its checks (docs/qa.md)")
    return policy


def run_qa(
    source: str, policy: QaPolicy, limit: int, progress: Callable[[str, int], Callable[[int], None]]
) -> QaReport:
    """Score every conversation of ``source`` (a folder of event files, or a records database)."""
    from copilot.qa.score import conversation_files, from_folder, score
    from copilot.records.database import sqlite_url
    from copilot.records.store import Records

    folder = Path(source)
    if folder.is_dir():
        files = conversation_files(folder)
        if not files:
            raise CopilotError(f"{folder}: no conversation files (*.jsonl) in this folder")
        return score(from_folder(files), policy, limit, progress("conversations", len(files)))
    if "://" not in source:
        if not folder.is_file():
            raise CopilotError(
                f"{source}: no such folder or file; give a folder of *.jsonl conversations or a records database URL"
            )
        source = sqlite_url(folder)
    records = Records.open(source, rep="qa")
    try:
        return score(recorded(records), policy, limit, progress("conversations", recorded_conversations(records)))
    finally:
        records.close()


STREAM_ROWS = 5_000
"""Card rows fetched from the database at a time: memory stays flat however many records there are."""


def recorded(records: Records) -> Iterator[Transcript]:
    """Every recorded conversation's transcript, from one ordered, streamed read of the cards (read-only)."""
    from copilot.qa.transcript import CARD_COLUMNS, from_card_rows
    from copilot.records.models import Card

    query = select(*(getattr(Card, name) for name in CARD_COLUMNS)).order_by(Card.conversation_id, Card.seq, Card.id)
    with records.engine.connect() as connection:
        yield from from_card_rows(
            connection.execution_options(stream_results=True, yield_per=STREAM_ROWS).execute(query)
        )


def recorded_conversations(records: Records) -> int:
    """How many conversations the records hold cards of (for the progress bar)."""
    from copilot.records.models import Card

    with records.engine.connect() as connection:
        return int(connection.execute(select(func.count(distinct(Card.conversation_id)))).scalar_one())


def cmd_qa(args: argparse.Namespace) -> int:
    """Exit 0 when every conversation passed every check that applies to it, 1 when some failed."""
    from copilot.settings import DEMO_PACK

    report = run_qa(args.source, pack_qa(Path(args.pack) if args.pack else DEMO_PACK), args.limit, progress_bar)
    result = report.record()
    if args.json:
        print(json.dumps(result, separators=(",", ":"), ensure_ascii=False))
    else:
        _print_table(result)
    return 1 if any(check["failed"] for check in result["checks"].values()) else 0


def _print_table(result: dict[str, object]) -> None:
    checks = result["checks"]
    assert isinstance(checks, dict)
    print(f"{result['conversations']:,} conversations, pack {result['pack']}")
    print(f"{'check':28}{'applies':>9}{'passed':>9}{'pass rate':>11}")
    for key, check in checks.items():
        rate = "-" if check["pass_rate"] is None else f"{check['pass_rate']:.1%}"
        print(f"{key:28}{check['applies']:>9,}{check['passed']:>9,}{rate:>11}")
    for key, check in checks.items():
        for failure in check["failures"]:
            print(f"  {key}: {failure['conversation']} #{failure['seq']}: {failure['reason']}")
    causes = result["root_causes"]
    assert isinstance(causes, dict)
    if causes:
        print("root causes: " + ", ".join(f"{cause} {count:,}" for cause, count in causes.items()))
    anomalies = result["anomalies"]
    assert isinstance(anomalies, list)
    for anomaly in anomalies:
        print(
            f"anomaly: {anomaly['key']} on {anomaly['day']}: {anomaly['count']} of {anomaly['conversations']} "
            f"({anomaly['rate']:.0%}, baseline {anomaly['baseline']:.0%}, robust z {anomaly['score']})"
        )
