"""One QA pass over many conversations: every check of the pack on each transcript as it streams by, pass
rates per check, the failing conversations with turn and reason, and the day-by-day anomalies.

Nothing is kept per conversation but its failures and a few counters, so memory stays flat over 100,000
conversations; each check is a single pass over the transcript's steps with the patterns compiled when the
pack's qa.toml was read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from copilot.qa.anomaly import Anomaly, anomalies
from copilot.qa.causes import suggest_causes
from copilot.qa.checks import KIND_CHECKS, Failure
from copilot.qa.policy import QaPolicy
from copilot.qa.transcript import Transcript, detect, from_events

PROGRESS_EVERY = 1_000
"""Conversations between two progress reports."""


@dataclass
class CheckTally:
    """How one check did over all conversations."""

    id: str
    title: str
    kind: str
    applies: int = 0
    passed: int = 0
    failing: int = 0
    """Conversations that failed it (every one, even beyond those listed)."""
    failures: list[Failure] = field(default_factory=list)
    """The failures of the first ``limit`` failing conversations."""

    @property
    def rate(self) -> float | None:
        return self.passed / self.applies if self.applies else None

    def record(self) -> dict[str, Any]:
        rate = self.rate
        return {
            "title": self.title,
            "kind": self.kind,
            "applies": self.applies,
            "passed": self.passed,
            "failed": self.failing,
            "pass_rate": None if rate is None else round(rate, 4),
            "failures": [f.record() for f in self.failures],
        }


@dataclass
class QaReport:
    """Pass rates, failures, root causes and anomalies of one QA run."""

    pack: str
    conversations: int = 0
    checks: dict[str, CheckTally] = field(default_factory=dict)
    causes: Counter[str] = field(default_factory=Counter)
    anomalies: list[Anomaly] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return {
            "pack": self.pack,
            "conversations": self.conversations,
            "checks": {key: tally.record() for key, tally in self.checks.items()},
            "root_causes": dict(self.causes.most_common()),
            "anomalies": [a.record() for a in self.anomalies],
        }


def score(
    transcripts: Iterable[Transcript],
    policy: QaPolicy,
    limit: int = 20,
    progress: Callable[[int], None] = lambda _: None,
) -> QaReport:
    """Run every check of ``policy`` over ``transcripts``; ``limit`` failing conversations are listed per check
    (0: all). ``progress`` hears the count every PROGRESS_EVERY conversations and at the end."""
    report = QaReport(policy.pack)
    tallies = [
        (check, KIND_CHECKS[check.kind], CheckTally(check.id, check.title, check.kind)) for check in policy.file.check
    ]
    report.checks = {check.id: tally for check, _, tally in tallies}
    totals: Counter[date] = Counter()
    daily: dict[str, Counter[date]] = {}
    for transcript in transcripts:
        seen = detect(transcript, policy)
        day = seen.day
        if day is not None:
            totals[day] += 1
        for check, judge, tally in tallies:
            failures = judge(check, seen, policy)
            if failures is None:
                continue
            tally.applies += 1
            if not failures:
                tally.passed += 1
                continue
            tally.failing += 1
            if not limit or tally.failing <= limit:
                tally.failures.extend(failures)
            if day is not None:
                daily.setdefault(f"check:{check.id}", Counter())[day] += 1
        causes = suggest_causes(
            policy,
            seen.intents,
            (s.name for s in seen.of("escalation")),
            (s.name for s in seen.of("flag")),
            (s.folded for s in seen.of("customer")),
        )
        for cause, _ in causes[: policy.file.wrapup.max_tags]:
            report.causes[cause] += 1
            if day is not None:
                daily.setdefault(f"cause:{cause}", Counter())[day] += 1
        report.conversations += 1
        if report.conversations % PROGRESS_EVERY == 0:
            progress(report.conversations)
    if report.conversations % PROGRESS_EVERY or not report.conversations:
        progress(report.conversations)
    report.anomalies = anomalies(daily, totals, policy.file.anomaly)
    return report


def conversation_files(folder: Path) -> list[Path]:
    """The event files of a conversations folder (``*.jsonl``, sorted), as `copilot qa` reads them."""
    return sorted(folder.glob("*.jsonl"))


def from_folder(files: Iterable[Path]) -> Iterable[Transcript]:
    return (from_events(path) for path in files)
