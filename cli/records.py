"""`copilot records`: the records of what reps did with the copilot's cards (docs/records.md)."""

from __future__ import annotations

import argparse


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    evaluations: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add this module's commands under `copilot` and its measurements under `copilot eval`."""
    records = commands.add_parser("records", help="the records of what reps did with the copilot's cards")
    actions = records.add_subparsers(dest="records_action", required=True)
    purge = actions.add_parser(
        "purge", help="delete records older than the retention period (settings.json: records_retention_days)"
    )
    purge.add_argument(
        "--older-than",
        type=_days,
        metavar="DAYS",
        help="delete records older than DAYS days instead (0: every record)",
    )
    purge.set_defaults(func=cmd_records_purge)


def _days(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of days (0 or more)")
    return int(text)


def cmd_records_purge(args: argparse.Namespace) -> int:
    from copilot.records.database import shown
    from copilot.records.folder import cutoff, records_url, retention_days
    from copilot.records.store import Records
    from copilot.settings import Settings, home

    folder = home()
    settings = Settings.load(folder)
    days = retention_days(folder, settings) if args.older_than is None else args.older_than
    url = records_url(folder, settings)
    records = Records.open(url, settings.user(), settings.redact_records)
    try:
        purged = records.purge(cutoff(days))
    finally:
        records.close()
    print(
        f"{purged.total} records older than {days} days deleted from {shown(url)}: {purged.cards} cards, "
        f"{purged.inserts} inserts, {purged.decisions} path decisions, {purged.drafts} drafts, "
        f"{purged.questions} customer questions, {purged.wrapups} wrap-ups, {purged.reviews} leads' records"
    )
    return 0
