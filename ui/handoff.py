"""The handoff package window: read it, copy it as Markdown for the colleague taking over."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QHBoxLayout, QLabel, QPushButton, QTextBrowser, QVBoxLayout, QWidget

from copilot.handoff import Handoff


class HandoffWindow(QDialog):
    def __init__(self, handoff: Handoff, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Handoff: {title}")
        self.setAccessibleName("Handoff package")
        self.resize(520, 640)
        self.markdown = handoff.markdown(title)
        view = QTextBrowser()
        view.setMarkdown(self.markdown)
        view.setAccessibleName("Handoff summary")
        self.copy = QPushButton("Copy as Markdown (Ctrl+C)")
        self.copy.setShortcut("Ctrl+C")
        self.copy.setDefault(True)
        self.copy.clicked.connect(self._copy)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        self.status = QLabel()
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.copy)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(view, 1)
        layout.addLayout(buttons)

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.markdown)
        self.status.setText("Copied.")
