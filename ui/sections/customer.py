"""The customer as the connected system knows them (the fields the pack's systems.toml names) and their
recent items; stale with a retry when the system cannot be reached."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from copilot.actions.customer import CustomerView

MAX_ITEMS = 4
EMPTY = "Looked up once the conversation names a record or the customer."


class CustomerSection(QWidget):
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Customer record")
        heading = QLabel("Customer")
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self.body = QLabel(EMPTY)
        self.body.setWordWrap(True)
        self.body.setTextFormat(Qt.TextFormat.RichText)
        self.body.setStyleSheet("color: #333;")
        self.retry = QPushButton("Retry")
        self.retry.setAccessibleName("Retry the customer lookup")
        self.retry.clicked.connect(self.retry_requested)
        self.retry.hide()
        top = QHBoxLayout()
        top.addWidget(heading, 1)
        top.addWidget(self.retry)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.body)

    def show_customer(self, view: CustomerView) -> None:
        lines: list[str] = []
        if view.title:
            first, *rest = (escape(t) for t in view.title)
            lines.append(" · ".join([f"<b>{first}</b>", *rest]))
        lines += [escape(item) for item in view.items[:MAX_ITEMS]]
        if view.stale:
            lines.append(f"<span style='color:#8a5300'>Stale: {escape(view.message)}</span>")
        if not lines:
            lines.append(EMPTY)
        self.body.setText("<br>".join(lines))
        self.retry.setVisible(view.stale)
