"""The customer as the connected system knows them: record and recent orders; stale with a retry when
the system cannot be reached."""

from __future__ import annotations

from html import escape
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from copilot.actions.customer import CustomerView

MAX_ORDERS = 4


def _order_line(order: dict[str, Any]) -> str:
    total = order.get("total")
    money = f" · {total:.2f} {escape(str(order.get('currency', '')))}" if isinstance(total, (int, float)) else ""
    return (
        f"{escape(str(order.get('order_id', '?')))} · {escape(str(order.get('status', '')))}{money}"
        f" <span style='color:#666'>{escape(str(order.get('placed_at', ''))[:10])}</span>"
    )


class CustomerSection(QWidget):
    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Customer record")
        heading = QLabel("Customer")
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        self.body = QLabel("Looked up once the conversation names an order, email or customer.")
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
        if view.customer:
            c = view.customer
            lines.append(
                f"<b>{escape(str(c.get('name', '')))}</b> · {escape(str(c.get('customer_id', '')))}"
                f" · {escape(str(c.get('email', '')))}"
            )
            lines += [_order_line(o) for o in view.orders[:MAX_ORDERS]]
        if view.stale:
            lines.append(f"<span style='color:#8a5300'>Stale: {escape(view.message)}</span>")
        if not lines:
            lines.append("Looked up once the conversation names an order, email or customer.")
        self.body.setText("<br>".join(lines))
        self.retry.setVisible(view.stale)
