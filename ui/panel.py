"""The side panel window: header, notices, transcript, policy cards and the demo controls."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QPushButton, QScrollArea, QSplitter, QVBoxLayout, QWidget

from copilot.conversation import Conversation
from copilot.pipeline import Insight
from copilot.playback import DemoPlayer
from ui.bridge import Bridge
from ui.sections.demo import DemoSection
from ui.sections.header import HeaderSection
from ui.sections.notices import NoticeBar
from ui.sections.policy import PolicySection
from ui.sections.transcript import TranscriptSection

PANEL_WIDTH = 420
PLAY_INTERVAL_MS = 1800


class Panel(QWidget):
    """A narrow window beside the helpdesk. Updates never activate or raise it."""

    packs_requested = Signal()
    """The rep (or admin) asked for the policy packs window."""

    def __init__(self, bridge: Bridge, player: DemoPlayer, conversations: list[Path]) -> None:
        super().__init__()
        self.setWindowTitle("Copilot")
        self.setAccessibleName("Copilot side panel")
        # Shown beside the rep's helpdesk: appearing or updating must never steal the keyboard.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.resize(PANEL_WIDTH, 900)
        self.setMinimumWidth(340)
        self.player = player
        self.header = HeaderSection()
        self.packs_button = QPushButton("Packs… (Ctrl+Shift+P)")
        self.packs_button.setAccessibleName("Open the policy packs window")
        self.packs_button.clicked.connect(self.packs_requested)
        self.on_top = QCheckBox("Keep on top (Ctrl+T)")
        self.on_top.setAccessibleName("Keep the panel on top of other windows")
        self.on_top.toggled.connect(self._on_on_top_toggled)
        self.notices = NoticeBar()
        self.transcript = TranscriptSection()
        self.policy = PolicySection()
        self.demo = DemoSection(conversations)
        cards = QScrollArea()
        cards.setWidgetResizable(True)
        cards.setWidget(self.policy)
        cards.setFrameShape(QScrollArea.Shape.NoFrame)
        cards.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the cards themselves
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.transcript)
        split.addWidget(cards)
        split.setStretchFactor(0, 2)
        split.setStretchFactor(1, 3)
        split.setSizes([280, 420])  # policy cards get the larger share: they are what the rep acts on
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.header)
        options = QHBoxLayout()
        options.addWidget(self.on_top, 1)
        options.addWidget(self.packs_button)
        layout.addLayout(options)
        layout.addWidget(self.notices)
        layout.addWidget(split, 1)
        layout.addWidget(self.demo)
        self._timer = QTimer(self)
        self._timer.setInterval(PLAY_INTERVAL_MS)
        self._timer.timeout.connect(self._on_tick)
        self._wire(bridge)
        self._shortcuts()
        QWidget.setTabOrder(self.demo.picker, self.demo.play)
        QWidget.setTabOrder(self.demo.play, self.demo.step)
        QWidget.setTabOrder(self.demo.step, self.demo.composer)
        QWidget.setTabOrder(self.demo.composer, self.demo.role)

    def _wire(self, bridge: Bridge) -> None:
        bridge.conversation_updated.connect(self._on_conversation_updated)
        bridge.insight_arrived.connect(self._on_insight_arrived)
        bridge.analysis_error.connect(self._on_analysis_error)
        bridge.model_status_changed.connect(self.header.show_model_status)
        bridge.packs_changed.connect(self.header.show_packs)
        bridge.error_reported.connect(self.notices.add_error)
        self.demo.conversation_chosen.connect(self.open_conversation)
        self.demo.play_toggled.connect(self.toggle_play)
        self.demo.step_requested.connect(self.step)
        self.demo.message_typed.connect(self._on_message_typed)
        self.policy.citation_copied.connect(lambda c: self.notices.show_notices([f"Copied {c}"]))

    def _shortcuts(self) -> None:
        for keys, slot in (("F5", self.toggle_play), ("F6", self.step), ("Ctrl+L", self.demo.composer.setFocus),
                           ("Ctrl+K", self.policy.focus_first), ("Ctrl+O", self.demo.picker.setFocus),
                           ("Ctrl+T", self.on_top.toggle), ("Ctrl+J", self.transcript.setFocus),
                           ("Ctrl+Shift+P", self.packs_requested.emit)):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

    @Slot(object)
    def open_conversation(self, path: Path) -> None:
        self._timer.stop()
        self.demo.set_playing(False)
        errors = self.player.open(path)
        self.demo.select(path)
        self.notices.clear_errors()
        for error in errors:
            self.notices.add_error(f"Skipped a bad line: {error}")
        self._update_progress()

    @Slot()
    def toggle_play(self) -> None:
        if self._timer.isActive():
            self._timer.stop()
        elif self.player.source is not None and not self.player.finished:
            self._on_tick()
            self._timer.start()
        self.demo.set_playing(self._timer.isActive())

    @Slot()
    def step(self) -> None:
        self.player.step()
        self._update_progress()

    @Slot()
    def _on_tick(self) -> None:
        if not self.player.step() or self.player.finished:
            self._timer.stop()
            self.demo.set_playing(False)
        self._update_progress()

    def _update_progress(self) -> None:
        self.demo.set_progress(self.player.messages_played, self.player.messages_total)

    @Slot(str, str)
    def _on_message_typed(self, role: str, text: str) -> None:
        self.player.type_message(role, text)

    @Slot(object)
    def _on_conversation_updated(self, conversation: Conversation) -> None:
        self.header.show_conversation(conversation)
        self.transcript.show_conversation(conversation)

    @Slot(object)
    def _on_insight_arrived(self, insight: Insight) -> None:
        self.policy.show_insight(insight)
        self.notices.show_notices(list(insight.notices))

    @Slot(int, str)
    def _on_analysis_error(self, seq: int, message: str) -> None:
        self.notices.add_error(f"Could not analyse message #{seq}: {message}. The previous advice is still shown.")

    @Slot(bool)
    def _on_on_top_toggled(self, on: bool) -> None:
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        self.show()
