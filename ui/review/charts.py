"""The review's charts (QtCharts): how reps use the copilot and where quality slips, for one filtered view."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from itertools import pairwise
from math import ceil
from typing import Any

from PySide6.QtCharts import (
    QAbstractBarSeries,
    QBarCategoryAxis,
    QBarSeries,
    QBarSet,
    QChart,
    QChartView,
    QHorizontalBarSeries,
    QValueAxis,
)
from PySide6.QtCore import QMargins, Qt
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import QGridLayout, QLabel, QScrollArea, QWidget

from copilot.records.models import Kind
from copilot.records.review import EDIT_BUCKETS, Charts

COLOURS = ("#2f6fb3", "#d9822b", "#3a9a5b", "#a33a3a")
CHART_SIZE = (420, 250)
ROW_PX = 26
"""The height of one horizontal bar's row, so its label is drawn whole."""


def bar_chart(
    title: str,
    categories: Sequence[str],
    sets: Mapping[str, Sequence[float]],
    *,
    unit: str = "",
    horizontal: bool = False,
    top: float | None = None,
    across: str = "",
) -> QChartView:
    """A bar chart of one value per category for each named set; an empty one says there is nothing yet.
    Horizontal bars list the first category on top; ``across`` titles the category axis."""
    if horizontal:  # Qt draws the first category at the bottom
        categories, sets = categories[::-1], {name: values[::-1] for name, values in sets.items()}
    chart = QChart()
    chart.setTitle(title)
    chart.setMargins(QMargins(4, 4, 4, 4))
    chart.setAnimationOptions(QChart.AnimationOption.NoAnimation)
    chart.legend().setVisible(len(sets) > 1)
    chart.legend().setAlignment(Qt.AlignmentFlag.AlignBottom)
    series: QAbstractBarSeries = QHorizontalBarSeries() if horizontal else QBarSeries()
    for colour, (name, values) in zip(COLOURS, sets.items(), strict=False):
        bars = QBarSet(name)
        bars.setColor(QColor(colour))
        bars.append([float(v) for v in values])
        series.append(bars)
    chart.addSeries(series)
    labels = QBarCategoryAxis()
    labels.append(list(categories) or ["none in this view"])
    if across:
        labels.setTitleText(across)
    axis = QValueAxis()
    highest = max((v for vs in sets.values() for v in vs), default=0.0)
    axis.setRange(0, top if top is not None else max(ceil(highest * 1.1), 1))
    axis.setLabelFormat("%.0f")
    if top is None and highest < 5:
        axis.setTickCount(max(ceil(highest * 1.1), 1) + 1)  # whole numbers only: 0, 1, 2 flags
    else:
        axis.applyNiceNumbers()
    if unit:
        axis.setTitleText(unit)
    chart.addAxis(labels, Qt.AlignmentFlag.AlignLeft if horizontal else Qt.AlignmentFlag.AlignBottom)
    chart.addAxis(axis, Qt.AlignmentFlag.AlignBottom if horizontal else Qt.AlignmentFlag.AlignLeft)
    series.attachAxis(labels)
    series.attachAxis(axis)
    view = QChartView(chart)
    view.setRenderHint(QPainter.RenderHint.Antialiasing)
    width, height = CHART_SIZE
    # Qt elides every label of a category axis ("...") once they no longer fit, so horizontal bars get a row each
    view.setMinimumSize(width, max(height, 90 + ROW_PX * len(categories)) if horizontal else height)
    view.setAccessibleName(title)
    return view


def _percent(rates: Mapping[Any, Mapping[Kind, float]], kind: Kind) -> list[float]:
    return [100 * by_kind.get(kind, 0.0) for by_kind in rates.values()]


def _span(days: Sequence[date]) -> str:
    """The days a chart covers, as the title under its day-of-month labels."""
    if not days:
        return ""
    return f"day, {days[0]:%b %d}" + (f" – {days[-1]:%b %d}" if days[-1] != days[0] else "")


def chart_views(charts: Charts) -> list[QChartView]:
    """Every chart of the review, in reading order."""
    days = [day.strftime("%d") for day in charts.acceptance_by_day]  # two weeks of full dates do not fit
    reps = list(charts.acceptance_by_rep)
    kinds = (Kind.SUGGESTION, Kind.DRAFT)
    by_day = {f"{kind}s": _percent(charts.acceptance_by_day, kind) for kind in kinds}
    by_rep = {f"{kind}s": _percent(charts.acceptance_by_rep, kind) for kind in kinds}
    buckets = [f"{lo:.0%}-{hi:.0%}" for lo, hi in pairwise(EDIT_BUCKETS)]
    return [
        bar_chart(
            "Suggestions and drafts used, per day",
            days,
            by_day,
            unit="% of shown",
            top=100,
            across=_span(list(charts.acceptance_by_day)),
        ),
        bar_chart(
            "Suggestions and drafts used, per rep",
            reps,
            by_rep,
            unit="% of shown",
            top=100,
        ),
        bar_chart("How much reps rewrote what they sent", buckets, {"cards": charts.edit_ratios}, unit="cards"),
        bar_chart(
            "Median time to decision, per rep",
            list(charts.decision_ms_by_rep),
            {"seconds": [ms / 1000 for ms in charts.decision_ms_by_rep.values()]},
            unit="seconds",
        ),
        bar_chart(
            "Flags by rule", list(charts.flags_by_rule), {"flags": list(charts.flags_by_rule.values())}, horizontal=True
        ),
        bar_chart(
            "Escalations by reason",
            list(charts.escalations_by_reason),
            {"escalations": list(charts.escalations_by_reason.values())},
            horizontal=True,
        ),
        bar_chart(
            "Top root causes",
            list(charts.root_causes),
            {"conversations": list(charts.root_causes.values())},
            horizontal=True,
        ),
        bar_chart(
            "Latency the reps waited (p95), per day",
            [day.strftime("%d") for day in charts.latency_p95_by_day],
            {"ms": list(charts.latency_p95_by_day.values())},
            unit="ms",
            across=_span(list(charts.latency_p95_by_day)),
        ),
    ]


class ChartsView(QScrollArea):
    """The charts of one filtered view, two to a row."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.views: list[QChartView] = []
        self.show_charts(Charts())

    def show_charts(self, charts: Charts) -> None:
        body = QWidget()
        grid = QGridLayout(body)
        note = QLabel(
            "Used: inserted or sent, as shown or edited, out of every suggestion or draft shown. "
            "Rewritten: share of the words the rep changed before sending."
        )
        note.setWordWrap(True)
        grid.addWidget(note, 0, 0, 1, 2)
        self.views = chart_views(charts)
        row = column = 0
        for view in self.views:  # bars by name get a whole row: their names need the width
            wide = isinstance(view.chart().series()[0], QHorizontalBarSeries)
            if wide and column:
                row, column = row + 1, 0
            grid.addWidget(view, 1 + row, column, 1, 2 if wide else 1)
            row, column = (row + 1, 0) if wide or column else (row, 1)
        self.setWidget(body)
