"""The leads' review window, opened only for a lead proven by their own passphrase (``open_review``)."""

from __future__ import annotations

from asyncio import Future
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QWidget

from base.errors import ApprovalError
from copilot.actions.credentials import LEAD, Approver, Leads
from copilot.actions.verdict import Verdict
from copilot.pipeline import Pipeline
from copilot.records.store import Records
from retrieval.embed import Embedder
from ui.lead_approval import LeadApprovalDialog

if TYPE_CHECKING:  # the window (and QtCharts) load when a lead first opens it, not with the panel
    from ui.review.window import ReviewWindow

SHORTCUT = "Ctrl+Shift+L"
"""Opens the review from the panel (L for leads)."""
SIGN_IN = Verdict(
    "needs_approval",
    "The review shows every rep's records, coaching and change requests: a lead signs in with their own passphrase.",
    approver_role=LEAD,
)


def review_for(records: Records, approver: Approver, embedder: Embedder | None = None) -> ReviewWindow:
    """The review window for a verified lead; anyone else is refused (a settings field proves nothing)."""
    if approver.role != LEAD or not approver.verified:
        raise ApprovalError(
            f"{approver.name} is not a lead proven by their passphrase: the review is for leads "
            "(an admin enrols one with: copilot leads add NAME)"
        )
    from ui.review.window import ReviewWindow

    return ReviewWindow(records, approver.name, embedder)


def open_review(
    records: Records | None, leads: Leads, parent: QWidget, embedder: Embedder | None = None
) -> ReviewWindow | None:
    """Ask a lead to sign in (their passphrase, checked against ``leads``) and open the review for them;
    None when records are off or nobody signed in."""
    if records is None:
        return None
    dialog = LeadApprovalDialog(leads, "Open the review window", SIGN_IN, parent)
    if not dialog.exec() or dialog.approver is None:
        return None
    return review_for(records, dialog.approver, embedder)


def review_entry(
    panel: QWidget, records: Records | None, leads: Path, ready: Future[Pipeline], windows: list[QWidget]
) -> QShortcut:
    """The panel's way in: ``SHORTCUT`` asks a lead to sign in and opens the review as the panel's window
    (``windows``); the knowledge gaps use the pipeline's embedding model once it has started."""

    def open_() -> None:
        started = ready.done() and not ready.cancelled() and ready.exception() is None
        enrolled = Leads(leads)
        try:
            window = open_review(records, enrolled, panel, ready.result().workspace.embedder if started else None)
        finally:
            enrolled.close()
        if window is not None:
            windows[:] = [window]
            window.show()

    shortcut = QShortcut(QKeySequence(SHORTCUT), panel)
    shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
    shortcut.activated.connect(open_)
    return shortcut
