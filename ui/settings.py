"""The settings window: the optional LLM endpoint (with a connection test), the admin's remote-endpoint
ban, the embedding model, always-on-top, and the live sources (the push endpoint's port and token, the
Chatwoot helpdesk). Keys live in an environment variable or the OS keyring, never in the settings file.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from base.errors import ConfigError, CopilotError, LlmError
from connectors.chatwoot import access_token, save_config, store_token
from connectors.config import CONNECTORS_FILE, ChatwootConfig, load_chatwoot
from copilot.llm.client import LlmClient, api_key, store_key
from copilot.session.live import LiveSources
from copilot.session.push import HOST, push_token, rotate_token
from copilot.session.tasks import Tasks, in_daemon_thread
from copilot.settings import Settings
from copilot.workspace import Workspace, switch_model


class SettingsWindow(QWidget):
    saved = Signal(object)
    """The Settings after a save."""

    def __init__(
        self,
        home: Path,
        tasks: Tasks,
        workspace: Workspace | None = None,
        live: LiveSources | None = None,
        parent: QWidget | None = None,
    ) -> None:
        """``tasks`` owns the connection test, the re-embedding and restarting a live source (the app cancels
        them when it closes); ``live`` are the running live sources a change applies to at once."""
        super().__init__(parent)
        self.live = live
        self._reconnect = False
        """The Chatwoot settings or token changed since the helpdesk was connected."""
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
        layout.addWidget(self._live_box(s))
        layout.addWidget(self._chatwoot_box())
        layout.addWidget(self.on_top)
        layout.addLayout(bottom)
        self.resize(520, 900)
        self._show_key_source()

    def _live_box(self, s: Settings) -> QGroupBox:
        """The push endpoint: its port, and the install's token with Copy and Rotate."""
        self.port = QSpinBox()
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("any free port")
        self.port.setValue(s.listen_port if isinstance(s.listen_port, int) and 0 <= s.listen_port <= 65535 else 8787)
        self.port.setAccessibleName("Push endpoint port")
        self.token = QLineEdit()
        self.token.setReadOnly(True)
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        self.token.setAccessibleName("Push token")
        self.copy_token = QPushButton("Copy")
        self.copy_token.clicked.connect(self._copy_token)
        self.rotate = QPushButton("Rotate")
        self.rotate.setToolTip("Make a new token; senders using the old one get 401 from now on")
        self.rotate.clicked.connect(self._rotate_token)
        self.live_status = QLabel()
        self.live_status.setWordWrap(True)
        try:
            self.token.setText(push_token(self.home))
        except CopilotError as exc:
            self.live_status.setText(str(exc))
        token_row = QHBoxLayout()
        token_row.addWidget(self.token, 1)
        token_row.addWidget(self.copy_token)
        token_row.addWidget(self.rotate)
        box = QGroupBox("Live events (push endpoint)")
        form = QFormLayout(box)
        form.addRow("Port", self.port)
        form.addRow("Token", token_row)
        form.addRow("", self.live_status)
        self._show_endpoint()
        return box

    def _chatwoot_box(self) -> QGroupBox:
        """The Chatwoot helpdesk: the ``[chatwoot]`` table of connectors.toml, and the rep's token in the keyring."""
        try:
            config = load_chatwoot(self.home / CONNECTORS_FILE)
            problem = ""
        except ConfigError as exc:
            config, problem = None, str(exc)
        self.chatwoot_url = QLineEdit(config.url if config else "")
        self.chatwoot_url.setPlaceholderText("https://chat.example.com (empty: no helpdesk)")
        self.chatwoot_url.setAccessibleName("Chatwoot URL")
        self.chatwoot_account = QSpinBox()
        self.chatwoot_account.setRange(0, 2_000_000_000)
        self.chatwoot_account.setValue(config.account_id if config else 0)
        self.chatwoot_account.setAccessibleName("Chatwoot account id")
        self.chatwoot_inbox = QSpinBox()
        self.chatwoot_inbox.setRange(0, 2_000_000_000)
        self.chatwoot_inbox.setSpecialValueText("every inbox")
        self.chatwoot_inbox.setValue(config.inbox_id if config else 0)
        self.chatwoot_inbox.setAccessibleName("Chatwoot inbox id")
        self.reply_as = QComboBox()
        self.reply_as.addItem("a message to the customer", "message")
        self.reply_as.addItem("a private note for the team", "private_note")
        self.reply_as.setCurrentIndex(max(0, self.reply_as.findData(config.reply_as if config else "message")))
        self.chatwoot_token = QLineEdit()
        self.chatwoot_token.setEchoMode(QLineEdit.EchoMode.Password)
        self.chatwoot_token.setPlaceholderText("paste the access token of your Chatwoot profile")
        self.chatwoot_token.setAccessibleName("Chatwoot access token")
        self.store_chatwoot_token = QPushButton("Save token to keyring")
        self.store_chatwoot_token.clicked.connect(self._store_chatwoot_token)
        self.chatwoot_status = QLabel(problem)
        self.chatwoot_status.setWordWrap(True)
        token_row = QHBoxLayout()
        token_row.addWidget(self.chatwoot_token, 1)
        token_row.addWidget(self.store_chatwoot_token)
        box = QGroupBox("Chatwoot helpdesk (follows the conversations assigned to you)")
        form = QFormLayout(box)
        form.addRow("URL", self.chatwoot_url)
        form.addRow("Account id", self.chatwoot_account)
        form.addRow("Inbox id", self.chatwoot_inbox)
        form.addRow("Send replies as", self.reply_as)
        form.addRow("Access token", token_row)
        form.addRow("", self.chatwoot_status)
        if not problem:
            self._show_chatwoot_token(config)
        return box

    def _show_endpoint(self) -> None:
        endpoint = self.live.endpoint if self.live is not None else None
        where = f"listening on {endpoint.url}/events" if endpoint is not None else "not listening"
        self.live_status.setText(
            f"Senders post to http://{HOST}:PORT/events with 'Authorization: Bearer TOKEN' (docs/connectors.md); "
            f"now {where}."
        )

    def _copy_token(self) -> None:
        QGuiApplication.clipboard().setText(self.token.text())
        self.live_status.setText("Token copied.")

    def _rotate_token(self) -> None:
        try:
            token = self.live.rotate_token() if self.live is not None else rotate_token(self.home)
        except (CopilotError, OSError) as exc:
            self.live_status.setText(f"Not rotated: {exc}")
            return
        self.token.setText(token)
        self.live_status.setText("Rotated: senders with the old token get 401 from now on; give them the new one.")

    def _show_chatwoot_token(self, config: ChatwootConfig | None) -> None:
        variable = config.token_env if config is not None else ChatwootConfig.model_fields["token_env"].default
        found = access_token(variable)
        where = {
            "env": f"from ${variable}",
            "keyring": "from the OS keyring",
            "none": "none set",
        }[found.source]
        self.chatwoot_status.setText(f"Access token: {where}. {found.note}".strip())

    def _store_chatwoot_token(self) -> None:
        try:
            store_token(self.chatwoot_token.text())
        except ConfigError as exc:
            self.chatwoot_status.setText(str(exc))
            return
        self.chatwoot_token.clear()
        self._reconnect = True
        self.chatwoot_status.setText("Access token saved in the OS keyring; Save to connect with it.")

    def _save_chatwoot(self) -> bool:
        """Write the ``[chatwoot]`` table when a URL is given (or one exists); False, said why, when invalid."""
        path = self.home / CONNECTORS_FILE
        url = self.chatwoot_url.text().strip()
        try:
            before = load_chatwoot(path)
            if not url and before is None:
                return True
            after = save_config(
                path,
                {
                    "url": url,
                    "account_id": self.chatwoot_account.value(),
                    "inbox_id": self.chatwoot_inbox.value(),
                    "reply_as": self.reply_as.currentData(),
                },
            )
        except ConfigError as exc:
            self.chatwoot_status.setText(str(exc))
            return False
        self._reconnect = self._reconnect or after != before
        return True

    def _collect(self) -> Settings:
        s = Settings.load(self.home)
        s.llm_base_url = self.base_url.text().strip()
        s.llm_model = self.model.text().strip()
        s.llm_key_env = self.key_env.text().strip() or "COPILOT_LLM_API_KEY"
        s.llm_timeout_s = float(self.timeout.value())
        s.allow_remote_llm = self.allow_remote.isChecked()
        s.always_on_top = self.on_top.isChecked()
        s.listen_port = self.port.value()
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
        if not self._save_chatwoot():
            self.status.setText("Not saved: see the Chatwoot settings.")
            return
        port_changed = settings.listen_port != self.settings.listen_port
        settings.save(self.home)
        self.settings = settings
        self.status.setText("Saved.")
        if self.live is not None:  # applied at once: the endpoint moves, the helpdesk reconnects
            if port_changed:
                self._tasks.spawn(self._listen_again(self.live))
            if self._reconnect:
                self._reconnect = False
                self._tasks.spawn(self.live.connect_helpdesk())
        self.saved.emit(settings)

    async def _listen_again(self, live: LiveSources) -> None:
        await live.listen()
        self._show_endpoint()

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
