"""Commands of the `copilot` line for redaction: `copilot redact [FILE]` and `copilot eval redaction`
(registered by cli.main.build_parser)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from base.errors import LineError


def register(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
    evaluations: argparse._SubParsersAction[argparse.ArgumentParser],
) -> None:
    """Add this module's commands under `copilot` and its measurements under `copilot eval`."""
    redact = commands.add_parser(
        "redact", help="print exactly what would be sent to the LLM for a text (personal data redacted)"
    )
    redact.add_argument("file", nargs="?", help="UTF-8 text file (default: standard input)")
    for flag, what in (
        ("--name", "the customer's name"),
        ("--email", "the customer's email"),
        ("--phone", "the customer's phone number"),
        ("--address", "the customer's address (street line and postcode are redacted)"),
        ("--id", "a private record id (an order the pack says belongs to the customer)"),
    ):
        redact.add_argument(flag, action="append", default=[], help=f"{what}, as a system record holds it; repeatable")
    redact.add_argument(
        "--region", action="append", default=[], help="phone region of the customer (US, GB, DE, …), tried first"
    )
    redact.set_defaults(func=cmd_redact)

    measured = evaluations.add_parser("redaction", help="recall per kind of personal data, and false positives")
    measured.add_argument("--cases", required=True, help="labelled lines JSONL (docs/eval.md, 'Redaction')")
    measured.add_argument("--json", action="store_true", help="also print one compact JSON line, last on stdout")
    measured.add_argument("--verbose-cases", action="store_true", help="list every miss and false positive on stderr")
    measured.set_defaults(func=cmd_eval_redaction)


def cmd_redact(args: argparse.Namespace) -> int:
    """The text of FILE (or stdin) as `redact` leaves it, nothing added: what a draft request would carry."""
    from copilot.llm.pii.known import PrivateValues
    from copilot.llm.redact import redact

    if args.file:
        try:
            text = Path(args.file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise LineError(args.file, 0, "file", f"cannot be read as UTF-8 text ({exc})") from None
    else:
        text = sys.stdin.read()
    private = PrivateValues(
        names=tuple(args.name),
        emails=tuple(args.email),
        phones=tuple(args.phone),
        addresses=tuple(args.address),
        ids=tuple(args.id),
        regions=tuple(region.upper() for region in args.region),
    )
    sys.stdout.write(redact(text, private=private).text)
    return 0


def cmd_eval_redaction(args: argparse.Namespace) -> int:
    """Recall per kind (with its target), then the overall numbers and false positives."""
    from copilot.llm.redaction_eval import evaluate, read_cases

    score = evaluate(read_cases(Path(args.cases)))
    result = score.as_dict()
    print(f"{'kind':14}{'recall':>8}{'support':>9}{'target':>8}")
    for kind, values in result["per_kind"].items():
        target = f"{values['target']:.2f}" if values["target"] is not None else "-"
        print(f"{kind:14}{values['recall']:>8.3f}{values['support']:>9}{target:>8}")
    overall = result["overall"]
    print(f"{'overall':14}{overall['recall']:>8.3f}{overall['support']:>9}")
    print(
        f"false positives: {overall['false_positives']} of {overall['redacted_spans']} redacted spans "
        f"(precision {overall['precision']:.3f}); negatives with a redaction: {overall['negatives_with_redaction']} "
        f"of {overall['negatives']} ({overall['false_positive_rate_on_negatives']:.1%}); "
        f"citations kept: {overall['citations_kept']}"
    )
    print(f"targets met: {'yes' if result['targets_met'] else 'no'}")
    if args.verbose_cases:
        for miss in score.misses:
            print(f"  missed {miss.kind} in {miss.case}: {miss.text!r}", file=sys.stderr)
        for extra in score.extras:
            print(f"  redacted {extra.kind} in {extra.case}: {extra.text!r}", file=sys.stderr)
    if args.json:
        print(json.dumps(result, separators=(",", ":")))
    return 0
