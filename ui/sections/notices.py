"""A non-blocking banner for caveats and errors; it never steals focus and can be dismissed."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QToolButton, QWidget


class NoticeBar(QWidget):
    """Shows the current caveats (from the newest insight) plus errors until dismissed."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._label = QLabel()
        self._label.setWordWrap(True)
        self._label.setAccessibleName("Notices")
        self._dismiss = QToolButton()
        self._dismiss.setText("Dismiss")
        self._dismiss.setAccessibleName("Dismiss notices")
        self._dismiss.clicked.connect(self.dismiss)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 4)
        layout.addWidget(self._label, 1)
        layout.addWidget(self._dismiss)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet(
            "NoticeBar { background: #fff4ce; border: 1px solid #e0c060; border-radius: 4px; }"
            "QLabel { color: #3d3000; }"
        )
        self._notices: list[str] = []
        self._errors: list[str] = []
        self._pinned: list[str] = []
        """Shown until the rep dismisses them, whatever conversation opens (a lead's coaching notes)."""
        self._render()

    @property
    def text(self) -> str:
        return self._label.text()

    def show_notices(self, notices: list[str]) -> None:
        self._notices = notices
        self._render()

    def add_error(self, message: str) -> None:
        if message not in self._errors:
            self._errors.append(message)
        self._render()

    def clear_errors(self) -> None:
        self._errors = []
        self._render()

    def pin(self, message: str) -> None:
        """Show ``message`` until the rep dismisses it (opening another conversation keeps it)."""
        self._pinned.append(message)
        self._render()

    def dismiss(self) -> None:
        """The rep's Dismiss: errors and pinned messages go."""
        self._pinned = []
        self.clear_errors()

    def _render(self) -> None:
        lines = self._pinned + self._notices + self._errors
        self._label.setText("\n".join(lines))
        self._dismiss.setVisible(bool(self._errors or self._pinned))
        self.setVisible(bool(lines))
