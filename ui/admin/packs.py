"""The "Packs" admin window: versions with status, load with progress, activate, roll back, priority, diff; and the
change requests leads raised from their review queue (copilot/records/queue.py), with their evidence, to accept or
decline."""

from __future__ import annotations

import asyncio
import html
import logging
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from base.errors import RecordsError
from copilot.records.models import ChangeRequest, RequestState
from copilot.records.queue import change_requests, close_request
from copilot.records.store import Records
from copilot.session.tasks import Tasks, in_daemon_thread
from copilot.workspace import Workspace
from retrieval.catalog import PackVersion, StoredClause
from retrieval.diff import ClauseChange, diff_versions

log = logging.getLogger("copilot.ui")
_COLUMNS = ("Pack", "Version", "Status", "Clauses", "Loaded at")
_REQUEST_COLUMNS = ("Clause", "What the lead says", "Lead", "Raised", "Evidence")


def _diff_html(changes: list[ClauseChange]) -> str:
    """Render clause changes; [-removed-] words struck through in red, {+added+} words in green."""
    if not changes:
        return "<p>No clause differs.</p>"
    parts = []
    for change in changes:
        words = html.escape(change.words)
        words = words.replace("[-", "<s style='color:#a40000'>").replace("-]", "</s>")
        words = words.replace("{+", "<b style='color:#1a6b1a'>").replace("+}", "</b>")
        parts.append(f"<p><b>{change.kind}</b> <code>{html.escape(change.clause_id)}</code><br>{words}</p>")
    return "".join(parts)


def _evidence_html(request: ChangeRequest, clause: StoredClause | None) -> str:
    """A change request as an admin judges it: the clause as it reads now, the lead's note, and each record that
    prompted it (what the copilot showed, what the rep sent, why it was flagged)."""
    now = (
        f"<p><b>{html.escape(clause.title)}</b><br>{html.escape(clause.text)}</p>"
        if clause is not None
        else "<p><i>This citation is not in the catalog.</i></p>"
    )
    parts = [
        f"<h3>{html.escape(request.clause)}</h3>{now}",
        f"<p><b>{html.escape(request.lead)}</b>: {html.escape(request.note)}</p>",
        f"<p>Packs in force: {html.escape(', '.join(map(str, request.packs)) or 'not recorded')}</p>",
    ]
    for n, found in enumerate(request.evidence, 1):
        seen = {key: html.escape(str(found.get(key, ""))) for key in ("concern", "conversation_id", "seq", "rep")}
        lines = [
            f"<b>{n}. {seen['concern'].replace('_', ' ')}</b> in {seen['conversation_id']} (message {seen['seq']}, "
            f"{seen['rep'] or 'a rep'})"
        ]
        for key, label in (("shown", "Shown"), ("sent", "Sent"), ("detail", "Why")):
            if found.get(key):
                lines.append(f"{label}: {html.escape(str(found[key]))}")
        parts.append("<p>" + "<br>".join(lines) + "</p>")
    return "".join(parts)


class PacksWindow(QWidget):
    """Operates on a Workspace; every change runs in a worker thread and the table refreshes after it."""

    packs_changed = Signal(list)
    """``name@version`` of the active versions after any change."""
    load_progressed = Signal(int, int)
    """(done, total) of a running load; emitted from the worker thread, delivered on the GUI thread."""

    def __init__(
        self, workspace: Workspace, tasks: Tasks, records: Records | None = None, parent: QWidget | None = None
    ) -> None:
        """``tasks`` owns the operations the admin starts (the app cancels them when it closes); ``records`` hold
        the leads' change requests (None: records are off, and the tab says so)."""
        super().__init__(parent)
        self.records = records
        self._tasks = tasks
        self.setWindowTitle("Copilot – Policy packs")
        self.setAccessibleName("Policy packs")
        self.resize(820, 560)
        self.workspace = workspace
        self.table = QTableWidget(0, len(_COLUMNS))
        self.table.setHorizontalHeaderLabels(_COLUMNS)
        self.table.setAccessibleName("Loaded pack versions")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.verticalHeader().setVisible(False)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.diff = QTextBrowser()
        self.diff.setAccessibleName("Changes against the active version")
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.load_progressed.connect(self._on_load_progressed)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for name, text, slot in (
            ("load", "Load…", self.choose_and_load),
            ("activate", "Activate", self.activate),
            ("rollback", "Roll back", self.rollback),
            ("deactivate", "Deactivate", self.deactivate),
            ("up", "Priority up", self.raise_priority),
            ("down", "Priority down", self.lower_priority),
            ("remove", "Remove", self.remove),
        ):
            button = QPushButton(text)
            button.setAccessibleName(text.rstrip("…"))
            button.clicked.connect(slot)
            self.buttons[name] = button
            row.addWidget(button)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.diff)
        versions = QWidget()
        versions_layout = QVBoxLayout(versions)
        versions_layout.addLayout(row)
        versions_layout.addWidget(split, 1)
        self.tabs = QTabWidget()
        self.tabs.addTab(versions, "Versions")
        self.tabs.addTab(self._requests_tab(), "Change requests")
        layout = QVBoxLayout(self)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)
        self._busy: asyncio.Task[None] | None = None
        self.refresh()
        self.refresh_requests()

    def _requests_tab(self) -> QWidget:
        """The open change requests, the evidence of the one selected, and Accept / Decline."""
        self.requests = QTableWidget(0, len(_REQUEST_COLUMNS))
        self.requests.setHorizontalHeaderLabels(_REQUEST_COLUMNS)
        self.requests.setAccessibleName("Open change requests")
        self.requests.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.requests.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.requests.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.requests.setWordWrap(False)
        self.requests.horizontalHeader().setStretchLastSection(True)
        self.requests.verticalHeader().setVisible(False)
        self.requests.itemSelectionChanged.connect(self._on_request_selected)
        self.evidence = QTextBrowser()
        self.evidence.setAccessibleName("The request's evidence")
        row = QHBoxLayout()
        for name, text, state in (
            ("accept", "Accept", RequestState.ACCEPTED),
            ("decline", "Decline", RequestState.DECLINED),
        ):
            button = QPushButton(text)
            button.setAccessibleName(f"{text} the change request")
            button.clicked.connect(lambda _=False, state=state: self.close_request(state))
            self.buttons[name] = button
            row.addWidget(button)
        row.addStretch(1)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.requests)
        split.addWidget(self.evidence)
        split.setSizes([160, 320])
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        return tab

    def selected_request(self) -> ChangeRequest | None:
        rows = self.requests.selectionModel().selectedRows() if self.requests.selectionModel() else []
        item = self.requests.item(rows[0].row(), 0) if rows else None
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def refresh_requests(self) -> None:
        """List the open change requests, newest first (the tab's title counts them)."""
        try:
            open_requests = change_requests(self.records) if self.records is not None else []
        except RecordsError as exc:
            open_requests = []
            self.status.setText(f"Change requests cannot be read: {exc}")
        self.requests.setRowCount(len(open_requests))
        for row, request in enumerate(open_requests):
            raised = request.at.strftime("%Y-%m-%d %H:%M")
            values = (request.clause, request.note, request.lead, raised, str(len(request.evidence)))
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, request)
                item.setToolTip(value)
                self.requests.setItem(row, column, item)
        self.requests.resizeColumnsToContents()
        self.requests.setColumnWidth(1, min(self.requests.columnWidth(1), 280))
        self.tabs.setTabText(1, f"Change requests ({len(open_requests)})" if open_requests else "Change requests")
        if open_requests:
            self.requests.selectRow(0)
        self._on_request_selected()

    def _on_request_selected(self) -> None:
        request = self.selected_request()
        for name in ("accept", "decline"):
            self.buttons[name].setEnabled(request is not None)
        if request is not None:
            self.evidence.setHtml(_evidence_html(request, self.workspace.catalog.clause(request.clause)))
        elif self.records is None:
            self.evidence.setHtml("<p>Records are off at this desk, so the leads' change requests cannot be shown.</p>")
        else:
            self.evidence.setHtml("<p>No open change requests: leads raise them from their review queue.</p>")

    def close_request(self, state: RequestState) -> None:
        """Accept (the admin changes the pack: load and activate its new version) or decline the selected request."""
        request, records = self.selected_request(), self.records
        if request is None or records is None:
            return
        admin = records.rep
        verb = "Accepting" if state is RequestState.ACCEPTED else "Declining"
        self._run(f"{verb} the change request on {request.clause}", close_request, records, request.id, state, admin)

    def selected(self) -> PackVersion | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() else []
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return item.data(Qt.ItemDataRole.UserRole) if item else None

    def refresh(self) -> None:
        chosen = self.selected()
        versions = self.workspace.catalog.versions()
        self.table.setRowCount(len(versions))
        for row, version in enumerate(versions):
            values = (version.name, version.version, version.status(), str(version.clause_count), version.loaded_at)
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                item.setData(Qt.ItemDataRole.UserRole, version)
                self.table.setItem(row, column, item)
            if chosen is not None and version.key == chosen.key:
                self.table.selectRow(row)
        self.table.resizeColumnsToContents()
        self.packs_changed.emit([v.key for v in self.workspace.catalog.active_versions()])
        self._on_selection_changed()

    def _on_selection_changed(self) -> None:
        version = self.selected()
        for name in ("activate", "remove"):
            self.buttons[name].setEnabled(version is not None and not version.active)
        self.buttons["rollback"].setEnabled(version is not None)
        self.buttons["deactivate"].setEnabled(version is not None and version.active)
        self.buttons["up"].setEnabled(version is not None)
        self.buttons["down"].setEnabled(version is not None)
        self.show_diff(version)

    def show_diff(self, version: PackVersion | None) -> None:
        active = next(
            (v for v in self.workspace.catalog.active_versions() if version is not None and v.name == version.name),
            None,
        )
        if version is None:
            self.diff.setHtml("<p>Select a version to see how it differs from the active one.</p>")
        elif active is None or active.key == version.key:
            self.diff.setHtml(
                f"<p>{html.escape(version.key)} is the active version of {html.escape(version.name)}.</p>"
                if active
                else "<p>No version of this pack is active.</p>"
            )
        else:
            changes = diff_versions(self.workspace.catalog, version.name, active.version, version.version)
            self.diff.setHtml(
                f"<h3>{html.escape(active.key)} → {html.escape(version.version)}</h3>" + _diff_html(changes)
            )

    def _run(self, label: str, work: Callable[..., object], *args: object) -> None:
        """Run one admin operation off the GUI thread; errors land in the status line, state stays as it was.

        The thread is a daemon: a closing app does not wait for a load (it commits with its catalog row).
        """
        if self._busy is not None and not self._busy.done():
            self.status.setText("Another operation is still running.")
            return

        async def go() -> None:
            self.status.setText(f"{label}…")
            try:
                result = await in_daemon_thread(work, *args)
            except Exception as exc:  # shown to the admin; the catalog is unchanged on failure
                log.warning("%s failed", label, exc_info=True)
                self.status.setText(f"{label} failed: {exc}")
            else:
                self.status.setText(f"{label}: done{'' if result is None else f' ({result})'}")
            finally:
                self.progress.setVisible(False)
                self.refresh()
                self.refresh_requests()

        self._busy = self._tasks.spawn(go())

    @Slot()
    def choose_and_load(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a policy pack", "", "Packs (pack.toml *.zip *.md)")
        if path:
            self.load(Path(path).parent if Path(path).name == "pack.toml" else Path(path))

    def load(self, path: Path) -> None:
        self.progress.setVisible(True)
        self.progress.setValue(0)

        def work() -> str:
            result = self.workspace.load_pack(path, activate=False, progress=self.load_progressed.emit)
            return f"{result.pack.name}@{result.pack.version}, {result.embedded} texts embedded"

        self._run(f"Loading {path.name}", work)

    @Slot(int, int)
    def _on_load_progressed(self, done: int, total: int) -> None:
        self.progress.setMaximum(total)
        self.progress.setValue(done)

    @Slot()
    def activate(self) -> None:
        version = self.selected()
        if version is not None:
            self._run(f"Activating {version.key}", self.workspace.catalog.activate, version.name, version.version)

    @Slot()
    def rollback(self) -> None:
        version = self.selected()
        if version is not None:
            self._run(f"Rolling back {version.name}", self.workspace.catalog.rollback, version.name)

    @Slot()
    def deactivate(self) -> None:
        """Leave the selected pack with no active version (Roll back brings it back)."""
        version = self.selected()
        if version is not None:
            self._run(f"Deactivating {version.name}", self.workspace.catalog.deactivate, version.name)

    @Slot()
    def remove(self) -> None:
        version = self.selected()
        if version is not None:
            self._run(f"Removing {version.key}", self.workspace.remove_pack, version.name, version.version)

    def _move(self, step: int) -> None:
        version = self.selected()
        if version is None:
            return
        names = self.workspace.catalog.pack_names()
        i = names.index(version.name)
        j = max(0, min(len(names) - 1, i + step))
        names[i], names[j] = names[j], names[i]
        self._run("Changing priority", self.workspace.catalog.set_priority, names)

    @Slot()
    def raise_priority(self) -> None:
        self._move(-1)

    @Slot()
    def lower_priority(self) -> None:
        self._move(1)
