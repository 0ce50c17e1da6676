"""Anomalies: a day on which a check's failure rate or a root cause's share of conversations jumps well above
its baseline, the days before it.

The score is the robust z-score (Iglewicz and Hoaglin): 0.6745 · (rate − median) / MAD over the baseline
days, so one bad day in the baseline does not hide the next. A baseline that never moved (MAD 0) is given the
spread of a single event on the day, so a quiet rule that suddenly fires still stands out while a rule that
fires once more than usual does not.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from copilot.qa.policy import AnomalySettings

CONSISTENCY = 0.6745
"""Makes the MAD comparable with a standard deviation for normally distributed rates."""


@dataclass(frozen=True)
class Anomaly:
    """One key's rate on one day, far above its baseline."""

    key: str
    """``check:<id>`` (its failures) or ``cause:<id>`` (conversations with that root cause)."""
    day: date
    count: int
    conversations: int
    rate: float
    baseline: float
    """The median rate of the baseline days."""
    score: float

    def record(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "day": self.day.isoformat(),
            "count": self.count,
            "conversations": self.conversations,
            "rate": round(self.rate, 4),
            "baseline": round(self.baseline, 4),
            "score": round(self.score, 2),
        }


def anomalies(counts: Mapping[str, Counter[date]], totals: Counter[date], settings: AnomalySettings) -> list[Anomaly]:
    """Every (key, day) whose rate — ``counts[key][day]`` of ``totals[day]`` conversations — scores at least
    ``settings.threshold`` over the ``settings.baseline_days`` days before it (of which at least
    ``min_baseline_days`` had conversations) and is ``min_lift`` times their median, with ``settings.min_count``
    events or more; highest score first."""
    found: list[Anomaly] = []
    days = sorted(totals)
    for key, by_day in counts.items():
        for day in days:
            count = by_day.get(day, 0)
            if count < settings.min_count:
                continue
            window = [
                by_day.get(d, 0) / totals[d]
                for n in range(1, settings.baseline_days + 1)
                if totals.get(d := day - timedelta(days=n), 0)
            ]
            if len(window) < settings.min_baseline_days:
                continue
            rate = count / totals[day]
            median = statistics.median(window)
            spread = statistics.median(abs(r - median) for r in window) or 1 / totals[day]
            score = CONSISTENCY * (rate - median) / spread
            if score >= settings.threshold and rate >= settings.min_lift * median:
                found.append(Anomaly(key, day, count, totals[day], rate, median, score))
    return sorted(found, key=lambda a: -a.score)
