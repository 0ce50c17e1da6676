"""The settings window: the optional LLM endpoint (with a connection test), the admin's remote-endpoint
ban, the embedding model and always-on-top. Keys live in an environment variable or the OS keyring,
never in the settings file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from base.errors import CopilotError, LlmError
from copilot.llm.client import LlmClient, api_key, store_key
from copilot.session.tasks import Tasks, in_daemon_thread
from copilot.settings import Settings
from copilot.workspace import Workspace, switch_model


class SettingsWindow(QWidget):
    saved = Signal(object)
    """The Settings after a save."""

    def __init__(
        self, home: Path, tasks: Tasks, workspace: Workspace | None = None, parent: QWidget | None = None
    ) -> None:
        """``tasks`` owns the connection test and the re-embedding (the app cancels them when it closes)."""
        super().__init__(parent)
        self.setWindowTitle("Copilot settings")
        self.setAccessibleName("Settings")
        self.home = home
        self.workspace = workspace
        self._tasks = tasks
        self.settings = Settings.load(home)
        s = self.settings
        self.base_url = QLineEdit(s.llm_base_url)
        self.base_url.setPlaceholderText("http://127.0.0.1:8080/v1 (empty: template drafts only)")
        self.model = QLineEdit(s.llm_model)
        self.model.setPlaceholderText("model name; empty: the server's first model")
        self.key_env = QLineEdit(s.llm_key_env)
        self.key = QLineEdit()
        self.key.setEchoMode(QLineEdit.EchoMode.Password)
        self.key.setPlaceholderText("paste a key to store it in the OS keyring")
        self.store = QPushButton("Save key to keyring")
        self.store.clicked.connect(self._store_key)
        self.timeout = QDoubleSpinBox()
        self.timeout.setRange(1, 300)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(s.llm_timeout_s)
        self.allow_remote = QCheckBox("Allow endpoints off this machine (admin)")
        self.allow_remote.setChecked(s.allow_remote_llm)
        self.test = QPushButton("Test connection")
        self.test.clicked.connect(lambda: self._tasks.spawn(self.test_connection()))
        self.llm_status = QLabel()
        self.llm_status.setWordWrap(True)
        self.key_status = QLabel()
        self.key_status.setWordWrap(True)
        key_row = QHBoxLayout()
        key_row.addWidget(self.key, 1)
        key_row.addWidget(self.store)
        llm = QGroupBox("Language model (optional)")
        form = QFormLayout(llm)
        form.addRow("Base URL", self.base_url)
        form.addRow("Model", self.model)
        form.addRow("Key variable", self.key_env)
        form.addRow("Key", key_row)
        form.addRow("", self.key_status)
        form.addRow("Timeout", self.timeout)
        form.addRow("", self.allow_remote)
        form.addRow(self.test, self.llm_status)
        self.embedding = QLineEdit(s.embedding_model)
        self.embedding.setAccessibleName("Embedding model folder")
        self.reembed = QPushButton("Re-embed and switch")
        self.reembed.clicked.connect(lambda: self._tasks.spawn(self.switch_embedding()))
        self.progress = QProgressBar()
        self.progress.setVisible(False)
        self.model_status = QLabel(
            "Packs are embedded again with the new model before it is used; the panel picks it up on its next start."
        )
        self.model_status.setWordWrap(True)
        model_box = QGroupBox("Embedding model")
        model_form = QVBoxLayout(model_box)
        row = QHBoxLayout()
        row.addWidget(self.embedding, 1)
        row.addWidget(self.reembed)
        model_form.addLayout(row)
        model_form.addWidget(self.progress)
        model_form.addWidget(self.model_status)
        self.on_top = QCheckBox("Keep the panel on top of other windows")
        self.on_top.setChecked(s.always_on_top)
        self.save = QPushButton("Save")
        self.save.setDefault(True)
        self.save.clicked.connect(self.save_settings)
        self.status = QLabel()
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.save)
        layout = QVBoxLayout(self)
        layout.addWidget(llm)
        layout.addWidget(model_box)
        layout.addWidget(self.on_top)
        layout.addLayout(bottom)
        self.resize(520, 560)
        self._show_key_source()

    def _collect(self) -> Settings:
        s = Settings.load(self.home)
        s.llm_base_url = self.base_url.text().strip()
        s.llm_model = self.model.text().strip()
        s.llm_key_env = self.key_env.text().strip() or "COPILOT_LLM_API_KEY"
        s.llm_timeout_s = float(self.timeout.value())
        s.allow_remote_llm = self.allow_remote.isChecked()
        s.always_on_top = self.on_top.isChecked()
        return s

    def _show_key_source(self) -> None:
        found = api_key(self._collect().llm())
        where = {
            "env": f"from ${self.key_env.text()}",
            "keyring": "from the OS keyring",
            "none": "none set (local servers need none)",
        }[found.source]
        self.key_status.setText(f"Key: {where}. {found.note}".strip())

    def save_settings(self) -> None:
        settings = self._collect()
        try:
            if settings.llm_base_url:
                settings.llm().check_allowed()
        except LlmError as exc:
            self.status.setText(str(exc))
            return
        settings.save(self.home)
        self.settings = settings
        self.status.setText("Saved.")
        self.saved.emit(settings)

    def _store_key(self) -> None:
        try:
            store_key(self.base_url.text().strip(), self.key.text())
        except LlmError as exc:
            self.key_status.setText(str(exc))
            return
        self.key.clear()
        self._show_key_source()

    async def test_connection(self) -> None:
        config = self._collect().llm()
        if not config.base_url:
            self.llm_status.setText("No base URL: drafts come from the pack's templates.")
            return
        self.test.setEnabled(False)
        self.llm_status.setText("Testing…")
        try:
            async with LlmClient(config) as client:
                self.llm_status.setText(await client.check())
        except LlmError as exc:
            self.llm_status.setText(f"<span style='color:#b3261e'>{exc}</span>")
        finally:
            self.test.setEnabled(True)

    async def switch_embedding(self) -> None:
        if self.workspace is None:
            self.model_status.setText("Retrieval is still starting; try again in a moment.")
            return
        self.reembed.setEnabled(False)
        self.progress.setVisible(True)
        loop = asyncio.get_running_loop()

        def progress(done: int, total: int) -> None:
            loop.call_soon_threadsafe(self._progress, done, total)

        try:
            # A daemon thread: re-embedding every pack takes minutes, and the old model stays in force until it ends.
            model = await in_daemon_thread(switch_model, self.workspace, self.embedding.text().strip(), progress)
        except (CopilotError, OSError, ValueError) as exc:
            self.model_status.setText(f"Not switched; the old model stays in use: {exc}")
        else:
            self.embedding.setText(model)
            self.model_status.setText("Switched: restart the panel to search with the new model.")
        finally:
            self.reembed.setEnabled(True)
            self.progress.setVisible(False)

    def _progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
