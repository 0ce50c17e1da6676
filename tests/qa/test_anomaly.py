"""The anomaly detector: a day whose rate jumps well above the days before it, by robust z-score."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

from copilot.qa.anomaly import anomalies
from copilot.qa.policy import AnomalySettings

START = date(2026, 1, 1)
SETTINGS = AnomalySettings()


def days(rates: list[int], total: int = 100) -> tuple[dict[str, Counter[date]], Counter[date]]:
    counts = Counter({START + timedelta(days=n): rate for n, rate in enumerate(rates)})
    return {"check:x": counts}, Counter({START + timedelta(days=n): total for n in range(len(rates))})


def test_a_jump_over_a_noisy_baseline_is_found_and_only_it() -> None:
    counts, totals = days([5, 7, 6, 4, 8, 5, 6, 7, 5, 6, 30, 6])
    found = anomalies(counts, totals, SETTINGS)
    assert [(a.key, a.day, a.count) for a in found] == [("check:x", START + timedelta(days=10), 30)]
    assert found[0].baseline == 0.06 and found[0].score > SETTINGS.threshold


def test_ordinary_noise_is_no_anomaly() -> None:
    counts, totals = days([5, 7, 6, 4, 8, 5, 6, 7, 5, 6, 9, 4])
    assert anomalies(counts, totals, SETTINGS) == []


def test_a_quiet_rule_that_fires_often_stands_out_but_one_more_does_not() -> None:
    counts, totals = days([0] * 10 + [1, 12])
    assert [a.count for a in anomalies(counts, totals, SETTINGS)] == [12]


def test_too_little_history_or_too_few_events_is_no_anomaly() -> None:
    counts, totals = days([5, 6, 40])
    assert anomalies(counts, totals, SETTINGS) == []  # fewer baseline days than min_baseline_days
    counts, totals = days([0] * 10 + [3], total=10)
    assert anomalies(counts, totals, SETTINGS) == []  # fewer events than min_count


def test_a_big_team_s_small_rise_is_no_anomaly() -> None:
    counts, totals = days([230, 231, 229, 230, 232, 230, 229, 231, 300], total=1000)
    assert anomalies(counts, totals, SETTINGS) == []  # a significant rise, but not min_lift times the baseline
