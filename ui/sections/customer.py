"""The customer as the connected system knows them (the fields the pack's systems.toml names) and their
recent items; stale with a retry when the system cannot be reached."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QWidget

from copilot.actions.customer import CustomerView
from ui.sections.collapsible import Collapsible

MAX_ITEMS = 4
EMPTY = "Looked up once the conversation names a record or the customer."


class CustomerSection(Collapsible):
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Customer", parent)
        self.setAccessibleName("Customer record")
        self.record = QLabel(EMPTY)
        self.record.setWordWrap(True)
        self.record.setTextFormat(Qt.TextFormat.RichText)
        self.record.setStyleSheet("color: #333;")
        self.retry = QPushButton("Retry")
        self.retry.setAccessibleName("Retry the customer lookup")
        self.retry.clicked.connect(self.retry_requested)
        self.retry.hide()
        self.header_layout.addWidget(self.retry)
        self.body_layout.addWidget(self.record)

    def show_customer(self, view: CustomerView, party: str = "") -> None:
        """Show ``view``; ``party`` says whose account it is when the case is about a party the customer names
        (the writer is not the account holder), empty for the customer's own."""
        lines: list[str] = []
        if view.title and party:
            lines.append(f"<span style='color:#4a3a7a'>{escape(party[:1].upper() + party[1:])}</span>")
        if view.title:
            first, *rest = (escape(t) for t in view.title)
            lines.append(" · ".join([f"<b>{first}</b>", *rest]))
        lines += [escape(item) for item in view.items[:MAX_ITEMS]]
        if view.stale:
            lines.append(f"<span style='color:#8a5300'>Stale: {escape(view.message)}</span>")
        if not lines:
            lines.append(EMPTY)
        self.record.setText("<br>".join(lines))
        self.retry.setVisible(view.stale)
