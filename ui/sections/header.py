"""Header: who the customer is, the channel and region, the pack versions in force, model status."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from copilot.conversation.state import Conversation

_STATUS = {"loading": "Model loading…", "ready": "Model ready"}


class HeaderSection(QWidget):
    """Two compact lines: customer · channel · region, then packs · model status."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._who = QLabel("No conversation yet")
        font = self._who.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self._who.setFont(font)
        self._who.setAccessibleName("Customer")
        self._context = QLabel("")
        self._context.setAccessibleName("Policy packs and model status")
        self._context.setWordWrap(True)
        self._packs: list[str] = []
        self._status = "Model loading…"
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self._who)
        layout.addWidget(self._context)
        self._render_context()

    def show_conversation(self, conversation: Conversation) -> None:
        parts = [conversation.customer_name or "Unknown customer", conversation.channel]
        if conversation.jurisdiction:
            parts.append(conversation.jurisdiction)
        self._who.setText(" · ".join(parts))
        self._who.setToolTip(conversation.title)

    def show_packs(self, packs: list[str]) -> None:
        self._packs = packs
        self._render_context()

    def show_model_status(self, status: str) -> None:
        self._status = _STATUS.get(status, "Model failed: " + status.removeprefix("failed: "))
        self._render_context()

    @property
    def context_text(self) -> str:
        """The second line: the packs in force and the model status."""
        return self._context.text()

    def _render_context(self) -> None:
        packs = ", ".join(self._packs) if self._packs else "no pack loaded yet"
        self._context.setText(f"Policy: {packs}  ·  {self._status}")
