"""The leads' review window: conversations with filters and one as a timeline, the charts, the review queue
and the knowledge gaps, over the records every desk writes."""

from __future__ import annotations

import html
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from base.errors import CopilotError
from copilot.records import queue
from copilot.records.export import export
from copilot.records.gaps import knowledge_gaps
from copilot.records.models import Concern, Ending, Kind, Outcome
from copilot.records.review import ConversationFilter, Step, cards_in, charts, choices, conversations, timeline
from copilot.records.store import CardRecord, Records
from retrieval.embed import Embedder
from ui.review.charts import ChartsView

ANY = "any"
FILTERS = (
    ("rep", "Rep"),
    ("ending", "Outcome"),
    ("flag", "Flag"),
    ("escalation", "Escalation reason"),
    ("root_cause", "Root cause"),
    ("pack", "Pack version"),
)
"""The choice filters, in the order the filter bar shows them."""
OUTCOME_COLOURS = {
    Outcome.SENT: "#2e7d32",
    Outcome.EDITED: "#8a5300",
    Outcome.INSERTED: "#2e7d32",
    Outcome.REJECTED: "#a33a3a",
    Outcome.IGNORED: "#777",
}


def table(headers: list[str]) -> QTableWidget:
    """A read-only table that selects whole rows."""
    found = QTableWidget(0, len(headers))
    found.setHorizontalHeaderLabels(headers)
    found.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    found.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    found.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
    found.verticalHeader().setVisible(False)
    found.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    found.horizontalHeader().setStretchLastSection(True)
    return found


def fill(target: QTableWidget, rows: list[list[str]]) -> None:
    """Put ``rows`` in the table; a long text shows on one line there and whole in its tooltip."""
    target.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            item = QTableWidgetItem(
                " ".join(value.split()) if len(value) < 200 else " ".join(value.split())[:200] + "…"
            )
            item.setToolTip(value)
            target.setItem(r, c, item)


def _card_html(card: CardRecord) -> str:
    colour = OUTCOME_COLOURS.get(card.outcome, "#555")
    detail = f" ({card.reason})" if card.reason else ""
    if card.edit_ratio is not None and card.outcome is Outcome.EDITED:
        detail = f" ({card.edit_ratio:.0%} rewritten)"
    words = html.escape(card.text if card.kind in (Kind.CLAUSE, Kind.DRAFT, Kind.SUGGESTION) else card.text[:120])
    return (
        f"<p style='margin:2px 0'><b>{card.kind}</b> {html.escape(card.key)} "
        f"<span style='color:{colour}'>{card.outcome}{html.escape(detail)}</span><br>"
        f"<span style='color:#444'>{words}</span></p>"
    )


def timeline_html(steps: list[Step]) -> str:
    """One conversation, message by message: what the customer asked, each card shown, and beside them what
    the rep actually sent."""
    rows = [
        "<table width='100%' cellspacing='0' cellpadding='6' border='1' style='border-color:#ccc'>"
        "<tr><th width='8%'>Msg</th><th width='52%'>Shown to the rep</th><th>What the rep sent</th></tr>"
    ]
    for step in steps:
        asked = f"<p><i>Customer:</i> {html.escape(step.question)}</p>" if step.question else ""
        cards = "".join(_card_html(card) for card in step.cards)
        sent = html.escape(step.sent) if step.sent else "<span style='color:#777'>(nothing from the copilot)</span>"
        rows.append(
            f"<tr><td valign='top'>{step.seq}</td><td valign='top'>{asked}{cards}</td><td valign='top'>{sent}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


class ConversationsView(QWidget):
    """The filter bar, the matching conversations, and the selected one as a timeline."""

    filtered = Signal()
    """The filter changed: the charts follow it."""

    def __init__(self, records: Records, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records = records
        self.choosers: dict[str, QComboBox] = {}
        bar = QFormLayout()
        bar.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
        line = QHBoxLayout()
        for name, label in FILTERS:
            chooser = QComboBox()
            chooser.setAccessibleName(f"Filter by {label.lower()}")
            chooser.currentIndexChanged.connect(self.refresh)
            self.choosers[name] = chooser
            line.addWidget(QLabel(f"{label}:"))
            line.addWidget(chooser)
        dates = QHBoxLayout()
        self.since, self.until = self._date("From"), self._date("To")
        for label, edit in (("From:", self.since), ("To:", self.until)):
            dates.addWidget(QLabel(label))
            dates.addWidget(edit)
        self.export_button = QPushButton("Export this view…")
        self.export_button.setToolTip("Every card of the conversations listed, as CSV, JSON or Parquet")
        self.export_button.clicked.connect(self.choose_export)
        self.count = QLabel()
        dates.addStretch(1)
        dates.addWidget(self.count)
        dates.addWidget(self.export_button)
        bar.addRow(line)
        bar.addRow(dates)
        self.list = table(
            ["Conversation", "Rep", "Started", "Msgs", "Used", "Flags", "Escalations", "Outcome", "Root causes"]
        )
        self.list.itemSelectionChanged.connect(self._on_selected)
        self.timeline = QTextBrowser()
        self.timeline.setAccessibleName("The selected conversation, message by message")
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.list)
        split.addWidget(self.timeline)
        split.setSizes([220, 420])
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(split)
        self.reload_choices()

    def _date(self, label: str) -> QDateEdit:
        edit = QDateEdit()
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(QDate(2000, 1, 1))
        edit.setSpecialValueText(ANY)  # shown at the minimum date: no bound
        edit.setDate(edit.minimumDate())
        edit.setAccessibleName(f"{label} date (any: no bound)")
        edit.dateChanged.connect(self.refresh)
        return edit

    def reload_choices(self) -> None:
        """Offer what the records hold now in each filter, keeping what was chosen."""
        offered = choices(self.records)
        for name, chooser in self.choosers.items():
            kept = chooser.currentText()
            chooser.blockSignals(True)
            chooser.clear()
            chooser.addItems([ANY, *offered[name]])
            chooser.setCurrentText(kept or ANY)
            chooser.blockSignals(False)
        self.refresh()

    def which(self) -> ConversationFilter:
        """The filter the bar stands for."""
        chosen = {name: c.currentText() for name, c in self.choosers.items() if c.currentText() not in ("", ANY)}
        since = self.since.date() if self.since.date() != self.since.minimumDate() else None
        until = self.until.date() if self.until.date() != self.until.minimumDate() else None
        return ConversationFilter(
            rep=chosen.get("rep"),
            since=None if since is None else datetime(since.year(), since.month(), since.day(), tzinfo=UTC),
            until=None
            if until is None
            else datetime(until.year(), until.month(), until.day(), tzinfo=UTC) + timedelta(days=1),
            ending=Ending(chosen["ending"]) if "ending" in chosen else None,
            flag=chosen.get("flag"),
            escalation=chosen.get("escalation"),
            root_cause=chosen.get("root_cause"),
            pack=chosen.get("pack"),
        )

    def refresh(self) -> None:
        rows = conversations(self.records, self.which())
        self.conversation_ids = [row.conversation_id for row in rows]
        fill(
            self.list,
            [
                [
                    row.conversation_id,
                    ", ".join(row.reps),
                    row.started.astimezone().strftime("%Y-%m-%d %H:%M"),
                    str(row.messages),
                    f"{row.accepted}/{row.advice}",
                    ", ".join(row.flags),
                    ", ".join(row.escalations),
                    "" if row.ending is None else str(row.ending).replace("_", " "),
                    ", ".join(row.root_causes),
                ]
                for row in rows
            ],
        )
        self.count.setText(f"{len(rows)} conversations")
        self.timeline.setHtml("<p style='color:#777'>Select a conversation to see it message by message.</p>")
        self.filtered.emit()

    def select(self, conversation_id: str) -> None:
        self.list.selectRow(self.conversation_ids.index(conversation_id))

    def _on_selected(self) -> None:
        rows = self.list.selectionModel().selectedRows()
        if rows:
            self.timeline.setHtml(timeline_html(timeline(self.records, self.conversation_ids[rows[0].row()])))

    def choose_export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export this view", "review.csv", "CSV (*.csv);;JSON (*.json);;Parquet (*.parquet)"
        )
        if path:
            self.export_to(Path(path))

    def export_to(self, path: Path) -> int:
        written = export(cards_in(self.records, self.which()), path)
        self.count.setText(f"{written} cards exported to {path.name}")
        return written


class QueueView(QWidget):
    """What needs a lead's eye; each item dismissed, coached or raised as a change request."""

    counted = Signal(int)
    """How many items wait, after every refresh."""

    def __init__(self, records: Records, lead: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records, self.lead = records, lead
        self.waiting: list[queue.Item] = []
        """Every item no lead has given a verdict on."""
        self.items: list[queue.Item] = []
        """The items listed (of the kind chosen)."""
        self.list = table(["Why", "Rep", "Conversation", "Msg", "Detail", "Clause", "Shown", "Sent"])
        self.list.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.problem = QLabel()
        self.problem.setStyleSheet("color: #a33;")
        self.problem.setWordWrap(True)
        self.concern = QComboBox()
        self.concern.setAccessibleName("Show the items of one kind")
        self.concern.currentIndexChanged.connect(self._show)
        kinds = QHBoxLayout()
        kinds.addWidget(QLabel("Why:"))
        kinds.addWidget(self.concern)
        kinds.addStretch(1)
        buttons = QHBoxLayout()
        for text, slot in (
            ("Dismiss", self.dismiss_selected),
            ("Coach the rep…", self.coach_selected),
            ("Request a clause change…", self.request_selected),
        ):
            button = QPushButton(text)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(kinds)
        layout.addWidget(self.list)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        self.refresh()

    def refresh(self) -> None:
        """Read the queue again; the chooser offers each kind of item with how many wait."""
        self.waiting = queue.items(self.records)
        counts = Counter(item.concern for item in self.waiting)
        kept = self.concern.currentData()
        self.concern.blockSignals(True)
        self.concern.clear()
        self.concern.addItem(f"all ({len(self.waiting)})", None)
        for concern in Concern:
            if counts[concern]:
                self.concern.addItem(f"{concern.replace('_', ' ')} ({counts[concern]})", concern)
        self.concern.setCurrentIndex(max(self.concern.findData(kept), 0))
        self.concern.blockSignals(False)
        self._show()
        self.counted.emit(len(self.waiting))

    def _show(self) -> None:
        chosen = self.concern.currentData()
        self.items = [item for item in self.waiting if chosen is None or item.concern == chosen]
        fill(
            self.list,
            [
                [
                    str(item.concern).replace("_", " "),
                    item.rep,
                    item.conversation_id,
                    str(item.seq),
                    item.detail,
                    item.clause.rsplit("#", 1)[-1],
                    item.shown,
                    item.sent,
                ]
                for item in self.items
            ],
        )
        for column, width in enumerate((120, 50, 200, 40, 260, 150, 300, 300)):
            self.list.setColumnWidth(column, width)

    def selected(self) -> queue.Item | None:
        rows = self.list.selectionModel().selectedRows()
        if not rows:
            self.problem.setText("Select an item first.")
            return None
        return self.items[rows[0].row()]

    def _act(self, item: queue.Item, verdict: str, note: str = "") -> None:
        try:
            if verdict == "dismiss":
                queue.dismiss(self.records, item, self.lead)
            elif verdict == "coach":
                queue.coach(self.records, item, self.lead, note)
            else:
                queue.request_change(self.records, item, self.lead, note)
        except CopilotError as exc:
            self.problem.setText(str(exc))
            return
        self.problem.clear()
        self.refresh()

    def dismiss_selected(self) -> None:
        if (item := self.selected()) is not None:
            self._act(item, "dismiss")

    def coach_selected(self) -> None:
        if (item := self.selected()) is not None:
            note, ok = QInputDialog.getMultiLineText(self, "Coach the rep", f"A note to {item.rep}:")
            if ok:
                self._act(item, "coach", note)

    def request_selected(self) -> None:
        if (item := self.selected()) is not None:
            note, ok = QInputDialog.getMultiLineText(
                self, "Request a clause change", f"What should change in {item.clause or 'the clause'}?"
            )
            if ok:
                self._act(item, "request", note)


class GapsView(QWidget):
    """The knowledge gaps, most frequent first, worked out when asked (it embeds every gap question)."""

    def __init__(self, records: Records, embedder: Embedder | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.records, self.embedder = records, embedder
        self.list = table(["Questions", "Conversations", "Why", "Examples"])
        self.list.setWordWrap(True)
        self.find_button = QPushButton("Find knowledge gaps")
        self.find_button.setEnabled(embedder is not None)
        self.find_button.setToolTip("" if embedder else "The embedding model is still loading")
        self.find_button.clicked.connect(self.refresh)
        intro = QLabel(
            "Customer questions no clause was relevant enough for, or whose advice reps rewrote heavily, "
            "grouped by meaning: the biggest groups are the policy text most worth writing."
        )
        intro.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.find_button, alignment=Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.list)

    def refresh(self) -> None:
        if self.embedder is None:
            return
        gaps = knowledge_gaps(self.records, self.embedder)
        fill(
            self.list,
            [
                [
                    str(gap.size),
                    str(gap.conversations),
                    ", ".join(f"{why}: {n}" for why, n in gap.why.items()),
                    "\n".join(gap.examples()),
                ]
                for gap in gaps
            ],
        )
        self.list.resizeRowsToContents()


class ReviewWindow(QWidget):
    """The lead's review: Conversations, Charts, Queue and Knowledge gaps tabs, over one records database."""

    def __init__(self, records: Records, lead: str, embedder: Embedder | None = None) -> None:
        super().__init__()
        self.setWindowTitle(f"Review — {lead}")
        self.setAccessibleName("Review window for leads")
        self.resize(1180, 820)
        self.conversations = ConversationsView(records)
        self.charts = ChartsView()
        self.queue = QueueView(records, lead)
        self.gaps = GapsView(records, embedder)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.conversations, "Conversations")
        self.tabs.addTab(self.charts, "Charts")
        self.tabs.addTab(self.queue, f"Queue ({len(self.queue.items)})")
        self.tabs.addTab(self.gaps, "Knowledge gaps")
        self.records = records
        self.conversations.filtered.connect(self._on_filtered)
        self.queue.counted.connect(lambda n: self.tabs.setTabText(2, f"Queue ({n})"))
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        self._on_filtered()

    def _on_filtered(self) -> None:
        self.charts.show_charts(charts(self.records, self.conversations.which()))
