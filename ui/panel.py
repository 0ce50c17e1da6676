"""The side panel window: header, escalation banner, flags, transcript, next steps, policy cards, the
draft editor, the wrap-up and the demo controls; what the rep does with each card goes to the records, with
the questions asked, the leads' approvals and the wrap-up the rep confirms; a lead's unseen coaching notes
are shown once."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import QCloseEvent, QGuiApplication, QKeySequence, QResizeEvent, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QDialog,
    QHBoxLayout,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from base.errors import CopilotError
from copilot.actions.approvals import Action
from copilot.actions.credentials import Approver, Leads
from copilot.actions.customer import CustomerView
from copilot.conversation.state import Conversation
from copilot.pipeline import Insight
from copilot.reasoner import Review
from copilot.reasoning.suggest import Suggestion
from copilot.records.models import Ending, Kind, Outcome, Reason
from copilot.records.shown import DRAFT_KEY
from copilot.session.operations import Operations
from copilot.session.playback import DemoPlayer
from copilot.session.reply import ReplyDesk
from copilot.session.tasks import Tasks
from copilot.wrapup import WrapUp
from ui.arguments import ArgumentsDialog
from ui.bridge import Bridge
from ui.lead_approval import LeadApprovalDialog
from ui.sections.actions import ActionCard, ActionsSection, describe
from ui.sections.alerts import EscalationBanner, FlagList
from ui.sections.cards import REASON_HINT, Feedback, in_words
from ui.sections.collapsible import Collapsible, FoldedSections
from ui.sections.customer import CustomerSection
from ui.sections.demo import DemoSection
from ui.sections.draft import DraftSection
from ui.sections.header import HeaderSection
from ui.sections.notices import NoticeBar
from ui.sections.plan import PlanCard, PlanSection
from ui.sections.policy import PolicySection
from ui.sections.suggestions import SuggestionsSection, tool_namer
from ui.sections.transcript import TranscriptSection
from ui.sections.wrapup import WrapUpView

PANEL_WIDTH = 420
PLAY_INTERVAL_MS = 1800
REVIEW_DELAY_MS = 350
"""Typing pause after which the rep's draft is checked again."""
BLANK_TITLE = "New conversation"


async def ask_override(parent: QWidget, review: Review) -> bool:
    """Ask the rep to confirm inserting text that verification or a rule objects to.

    The box is window-modal without blocking: ``exec()`` would run a nested event loop inside the task
    that asks, and no other task may step while one is executing.
    """
    reasons = [u.reason for u in review.unsupported] + [f.message for f in review.flags]
    box = QMessageBox(
        QMessageBox.Icon.Warning,
        "Insert anyway?",
        "This reply has problems:\n\n• "
        + "\n• ".join(reasons)
        + "\n\nInserting it anyway is recorded as your override.",
        QMessageBox.StandardButton.Cancel | QMessageBox.StandardButton.Yes,
        parent,
    )
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    answered: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def on_finished(_result: int) -> None:
        clicked = box.clickedButton()
        if not answered.done():
            answered.set_result(clicked is not None and box.standardButton(clicked) == QMessageBox.StandardButton.Yes)

    box.finished.connect(on_finished)
    box.open()
    try:
        return await answered
    finally:  # also when the app closes while the box is open
        box.close()
        box.deleteLater()


def ask_second_approver(parent: QWidget, action: Action, leads: Leads) -> Approver | None:
    """The lead approving ``action`` at this desk, proven by their own passphrase; None if cancelled."""
    dialog = LeadApprovalDialog(leads, describe(action.proposal), action.proposal.verdict, parent)
    return dialog.approver if dialog.exec() == QDialog.DialogCode.Accepted else None


def ask_arguments(parent: QWidget, action: Action, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The arguments the rep filled in for ``action``; None if they cancelled."""
    dialog = ArgumentsDialog(describe(action.proposal), schema, action.proposal.arguments, parent)
    return dialog.values() if dialog.exec() == QDialog.DialogCode.Accepted else None


class Panel(QWidget):
    """A narrow window beside the helpdesk. Updates never activate or raise it."""

    packs_requested = Signal()
    """The rep (or admin) asked for the policy packs window."""
    settings_requested = Signal()
    handoff_requested = Signal()
    closed = Signal()
    """The rep closed the panel (the app quits)."""
    reply_inserted = Signal(str)
    """The rep inserted this reply (after any override): a live helpdesk may send it."""

    def __init__(
        self,
        bridge: Bridge,
        player: DemoPlayer,
        conversations: list[Path],
        reply: ReplyDesk,
        operations: Operations | None,
        tasks: Tasks,
    ) -> None:
        """Insights arrive only through ``bridge``; ``reply`` and ``operations`` take what the rep asks for;
        ``tasks`` owns the coroutines the panel starts (the app cancels and awaits them when it closes)."""
        super().__init__()
        self.setWindowTitle("Copilot")
        self.setAccessibleName("Copilot side panel")
        # Shown beside the rep's helpdesk: appearing or updating must never steal the keyboard.
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.resize(PANEL_WIDTH, 900)
        self.setMinimumWidth(340)
        self.player = player
        self.reply = reply
        self.operations = operations
        self._tasks = tasks
        self._insight: Insight | None = None
        self._shown_conversation = ""
        """The id of the conversation whose advice the sections show."""
        self._shown_title = ""
        self._reopened = False
        """A conversation was just shown again (switched to, or after a restart): its first advice brings back
        the rep's edited draft even when it was stale."""
        """The newest insight the bridge delivered, while it belongs to the conversation shown."""
        self.confirm_override: Callable[[Review], Awaitable[bool]] = lambda review: ask_override(self, review)
        """Asked before inserting a draft with unsupported figures or error flags (tests answer it)."""
        self.ask_second_approver: Callable[[Action, Leads], Approver | None] = lambda action, leads: (
            ask_second_approver(self, action, leads)
        )
        """Asked for the verified lead approving an action above the rep's limit (tests answer it)."""
        self.ask_arguments: Callable[[Action, dict[str, Any]], dict[str, Any] | None] = lambda action, schema: (
            ask_arguments(self, action, schema)
        )
        """Asked for an action's arguments in a form made from its tool's schema (tests answer it)."""
        self.customer = CustomerSection()
        self.action_cards = ActionsSection()
        self.plan_cards = PlanSection()
        self.plan_cards.hide()  # shown once the conversation has a plan
        self.header = HeaderSection()
        self.packs_button = QPushButton("Packs… (Ctrl+Shift+P)")
        self.packs_button.setAccessibleName("Open the policy packs window")
        self.packs_button.clicked.connect(self.packs_requested)
        self.settings_button = QPushButton("Settings…")
        self.settings_button.setAccessibleName("Open the settings window")
        self.settings_button.clicked.connect(self.settings_requested)
        self.escalation = EscalationBanner()
        self.escalation.handoff_requested.connect(self.handoff_requested)
        self.turn_flags = FlagList("This message")
        self.suggestions = SuggestionsSection()
        self.draft = DraftSection()
        self._review_timer = QTimer(self)
        self._review_timer.setSingleShot(True)
        self._review_timer.setInterval(REVIEW_DELAY_MS)
        self._review_timer.timeout.connect(lambda: self.reply.review(self.draft.editor.toPlainText()))
        self.on_top = QCheckBox("Keep on top (Ctrl+T)")
        self.on_top.setAccessibleName("Keep the panel on top of other windows")
        self.on_top.toggled.connect(self._on_on_top_toggled)
        self.notices = NoticeBar()
        self.transcript = TranscriptSection()
        self.policy = PolicySection()
        self.wrapup = WrapUpView()
        self.demo = DemoSection(conversations)
        self.sections: dict[str, Collapsible] = {
            "Alt+C": self.customer,
            "Alt+N": self.suggestions,
            "Alt+L": self.plan_cards,
            "Alt+A": self.action_cards,
            "Alt+P": self.policy,
        }
        """The sections that fold, by the key that folds them (a click on the title does too)."""
        for keys, section in self.sections.items():
            section.toggle_button.setToolTip(f"Fold or unfold ({keys})")
        self._confirm_checks: dict[str, asyncio.Task[None]] = {}
        """The dry runs asked for by action cards waiting for the rep's confirm."""
        self._folded: FoldedSections | None = None
        """Where the folded sections are remembered (``fold_sections``)."""
        self._tools_named: object = None
        """What the path cards' tool names were made from (the policy and the systems' tools)."""
        advice = QWidget()
        advice_layout = QVBoxLayout(advice)
        advice_layout.setContentsMargins(0, 0, 4, 0)
        advice_layout.addWidget(self.wrapup)
        advice_layout.addWidget(self.customer)
        advice_layout.addWidget(self.suggestions)
        advice_layout.addWidget(self.plan_cards)
        advice_layout.addWidget(self.action_cards)
        advice_layout.addWidget(self.policy, 1)
        self.cards_area = cards = QScrollArea()
        cards.setWidgetResizable(True)
        cards.setWidget(advice)
        cards.setFrameShape(QScrollArea.Shape.NoFrame)
        cards.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Tab goes to the cards themselves
        self.split = split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.transcript)
        split.addWidget(cards)
        split.addWidget(self.draft)
        split.setSizes([150, 400, 300])  # advice and the draft get the larger share: they are what the rep acts on
        self._room = QTimer(self)
        self._room.setSingleShot(True)
        self._room.setInterval(0)  # once the draft's notes are laid out
        self._room.timeout.connect(self._keep_editor_room)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.header)
        options = QHBoxLayout()
        options.addWidget(self.on_top, 1)
        options.addWidget(self.settings_button)
        options.addWidget(self.packs_button)
        layout.addLayout(options)
        layout.addWidget(self.escalation)
        layout.addWidget(self.notices)
        layout.addWidget(self.turn_flags)
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
        self.demo.start_over_requested.connect(self.start_over)
        self.demo.message_typed.connect(self._on_message_typed)
        self.policy.citation_copied.connect(lambda c: self.notices.show_notices([f"Copied {c}"]))
        for source in (self.policy, self.suggestions, self.escalation, self.turn_flags, self.draft.flags):
            source.feedback.connect(self._on_feedback)
        self.action_cards.feedback.connect(self._on_feedback)
        bridge.review_arrived.connect(self.draft.show_review)
        bridge.review_arrived.connect(self._room.start)
        bridge.draft_stream.connect(self._on_draft_stream)
        bridge.draft_error.connect(lambda _seq, message: self.draft.stream_failed(message))
        self.suggestions.accepted.connect(self._on_suggestion_accepted)
        self.suggestions.dismissed.connect(self._on_suggestion_dismissed)
        self.draft.edited.connect(self._on_draft_edited)
        self.draft.insert_requested.connect(self._on_insert_requested)
        self.draft.ai_requested.connect(self.reply.draft_with_llm)
        self.draft.ai_cancelled.connect(self._on_ai_cancelled)
        self.draft.refresh_requested.connect(self._use_current_draft)
        bridge.customer_updated.connect(self._on_customer_updated)
        self.wrapup.confirmed.connect(self._on_wrapup_confirmed)
        bridge.actions_updated.connect(self._on_actions_updated)
        self.plan_cards.requested.connect(self._on_plan_requested)
        if self.operations is not None:
            self.customer.retry_requested.connect(self.operations.retry)
            self.operations.lead_ran = lambda action, lead: self.reply.lead_approved(action, lead, _described)
        self.action_cards.requested.connect(self._on_action_requested)

    def _shortcuts(self) -> None:
        for keys, slot in (
            ("F5", self.toggle_play),
            ("F6", self.step),
            ("Ctrl+L", self.demo.composer.setFocus),
            ("Ctrl+K", self.policy.focus_first),
            ("Ctrl+O", self.demo.picker.setFocus),
            ("Ctrl+T", self.on_top.toggle),
            ("Ctrl+J", self.transcript.setFocus),
            ("Ctrl+Shift+P", self.packs_requested.emit),
            ("Ctrl+H", self.handoff_requested.emit),
            ("Ctrl+N", self.blank_conversation),
            ("Ctrl+Shift+N", self.suggestions.focus_first),
            ("F7", lambda: self._thumb_draft(True)),
            ("F8", lambda: self._thumb_draft(False)),
            ("Ctrl+D", self.draft.editor.setFocus),
            ("Ctrl+Return", self._on_ctrl_return),
            ("F9", self.open_wrapup),
            ("Ctrl+G", self.draft.ai.click),
            ("Ctrl+R", self._use_current_draft),
            ("Escape", self._on_escape),
            ("Ctrl+,", self.settings_requested.emit),
            ("Ctrl+Shift+A", self.action_cards.focus_first),
            *((keys, section.toggle) for keys, section in self.sections.items()),
        ):
            shortcut = QShortcut(QKeySequence(keys), self)
            shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
            shortcut.activated.connect(slot)

    def fold_sections(self, path: Path | None) -> None:
        """Fold the sections the rep left folded (kept in ``path``; None: this run only) and remember changes."""
        self._folded = FoldedSections(path)  # kept: a signal holds only a weak reference to its slot's object
        self._folded.follow(list(self.sections.values()))

    @Slot()
    def blank_conversation(self) -> None:
        """A new, empty conversation with its own id, the message box ready; the one before stays in memory
        (choosing it again shows it as it was left)."""
        self._timer.stop()
        self.demo.set_playing(False)
        self.player.blank(f"new-{uuid.uuid4().hex[:12]}", BLANK_TITLE)
        self.demo.picker.setCurrentIndex(0)
        self.notices.clear_errors()
        self._update_progress()
        self.demo.composer.setFocus(Qt.FocusReason.ShortcutFocusReason)

    @Slot(object)
    def open_conversation(self, path: Path) -> None:
        self._timer.stop()
        self.demo.set_playing(False)
        errors = self.player.open(path)
        self.demo.select(path)
        self.notices.clear_errors()
        for error in errors:
            self.notices.add_error(str(error))  # file:line: what is wrong (a skipped line, an empty file)
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
    def start_over(self) -> None:
        """Play the open demo conversation again from its first message (it otherwise resumes where it was)."""
        self._timer.stop()
        self.demo.set_playing(False)
        self.notices.clear_errors()
        for error in self.player.start_over():
            self.notices.add_error(str(error))
        self._forget_advice()
        self._update_progress()

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
        self._shown_title = conversation.title
        if conversation.id != self._shown_conversation:
            self._shown_conversation = conversation.id
            self._forget_advice()  # nothing of the previous customer stays; this one's comes with its analysis
        insight = self._insight
        if insight is not None and conversation.turn(insight.seq) is None:
            self._insight = None  # the conversation started over
        newest = conversation.turns[-1].seq if conversation.turns else -1
        if newest >= 0 and (self._insight is None or self._insight.seq < newest):
            self.header.analysing(newest)

    def _forget_advice(self) -> None:
        self._insight = None
        self._reopened = True
        self.policy.reset()
        self.suggestions.reset()
        self.escalation.show_escalations([])
        self.turn_flags.show_flags([])
        self.notices.show_notices([])
        self.draft.set_text("", -1, "The draft appears with the analysis of this conversation's newest message.")

    @Slot(object)
    def _on_insight_arrived(self, insight: Insight) -> None:
        self._insight = insight
        self.header.analysed(insight.seq)
        self.policy.show_insight(insight)
        self.notices.show_notices(list(insight.notices))
        self.escalation.show_escalations(insight.advice.escalations)
        self.turn_flags.show_flags(insight.advice.flags)
        self._name_tools()
        self.suggestions.show_insight(insight)
        if self.draft.edited_by_rep and self.draft.seq != -1 and self.draft.seq < insight.seq:
            self.draft.mark_stale(insight.seq)
        else:
            self._use_current_draft()

    def _keep_editor_room(self) -> None:
        """Give the draft pane what its editor's minimum and the notes under it (reasons, flags) take, from the
        cards first, then the transcript: a splitter reads its panes' minimum sizes, which do not count the
        lines wrapped labels need, so notes that appear later would squeeze the editor."""
        transcript, cards, draft = self.split.sizes()
        short = self.draft.needed_height() - draft
        if short <= 0:
            return
        floors = (self.transcript.minimumSizeHint().height(), self.cards_area.minimumSizeHint().height())
        from_cards = min(short, max(0, cards - floors[1]))
        from_transcript = min(short - from_cards, max(0, transcript - floors[0]))
        self.split.setSizes([transcript - from_transcript, cards - from_cards, draft + from_cards + from_transcript])

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._room.start()

    def _use_current_draft(self) -> None:
        """Show the copilot's draft for the newest message (or a saved edit of it after a restart)."""
        self._room.start()
        insight = self._insight
        if insight is None:
            return
        saved = self.reply.saved_draft()
        reopened, self._reopened = self._reopened, False
        if saved is not None and saved[1] != insight.advice.reply.text and (saved[0] >= insight.seq or reopened):
            self.draft.set_text(
                saved[1], saved[0], f"Your edited draft for message #{saved[0]} (restored).", edited=True
            )
            self.reply.review(saved[1])
            if saved[0] < insight.seq:  # the rep left it stale: it stays theirs, and says so again
                self.draft.mark_stale(insight.seq)
            return
        reply = insight.advice.reply
        missing = f" Fill in: {', '.join(map(in_words, reply.missing))}." if reply.missing else ""
        self.draft.set_text(reply.text, insight.seq, f"Draft for message #{insight.seq} ({reply.source}).{missing}")
        self.draft.show_review(reply.text, insight.advice.reply_review)

    @Slot(object)
    def _on_suggestion_accepted(self, suggestion: Suggestion) -> None:
        self.reply.decide(suggestion.intent, suggestion.title, "accepted")
        drafted = self.reply.path_draft(suggestion)
        if drafted is not None:
            reply, review = drafted
            seq = self._insight.seq if self._insight else self.draft.seq
            self.draft.set_text(reply.text, seq, f"Draft for “{suggestion.title}”.")
            self.draft.show_review(reply.text, review)
            self.reply.save_draft(reply.text)
        self.draft.editor.setFocus(Qt.FocusReason.ShortcutFocusReason)

    def _name_tools(self) -> bool:
        """Give the path cards the words the pack and the systems have for tools; True if they changed."""
        operations = self.operations
        known = (id(operations.desk.policy), tuple(operations.tools)) if operations is not None else None
        if known == self._tools_named and known is not None:
            return False
        self._tools_named = known
        self.suggestions.tool_name = (
            tool_namer(operations.desk.policy, operations.tools) if operations is not None else tool_namer(None, {})
        )
        return True

    @Slot(object, object)
    def _on_suggestion_dismissed(self, suggestion: Suggestion, reason: Reason | None) -> None:
        self.reply.decide(suggestion.intent, suggestion.title, "dismissed", reason)
        self._recorded("Path dismissed", reason)
        if self.suggestions.cards:
            self.suggestions.cards[0].setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot(object)
    def _on_feedback(self, said: Feedback) -> None:
        """A look, a rejection or a thumb on a card: to the records (an action rejected is rejected on the desk)."""
        if said.thumb is not None:
            self.reply.thumb(said.kind, said.key, said.thumb)
            self.notices.show_notices([f"Recorded: thumbs {'up' if said.thumb else 'down'}."])
            return
        if said.outcome is None:
            return
        if said.kind is Kind.ACTION and said.outcome is Outcome.REJECTED and self.operations is not None:
            self.operations.reject(said.key, said.reason.value if said.reason else "")
        self.reply.card_decided(said.kind, said.key, said.outcome, reason=said.reason)
        if said.outcome is Outcome.REJECTED:
            self._recorded(f"{said.kind.value.capitalize()} rejected", said.reason)

    def _recorded(self, what: str, reason: Reason | None) -> None:
        why = f" ({reason.value.replace('_', ' ')})" if reason is not None else f"; to say why, press {REASON_HINT}"
        self.notices.show_notices([f"Recorded: {what}{why}."])

    def _thumb_draft(self, up: bool) -> None:
        self.reply.thumb(Kind.DRAFT, DRAFT_KEY, up)
        self.notices.show_notices([f"Recorded: thumbs {'up' if up else 'down'} for the draft."])

    @Slot(list)
    def _on_actions_updated(self, actions: list[Action]) -> None:
        """A plan's steps show on its card; the other actions in the Actions list (each recorded as shown)."""
        if self._name_tools() and self._insight is not None:
            self.suggestions.show_insight(self._insight)
        if self.operations is None:
            shown = actions
        else:
            plans, conversation_id = self.operations.plans, self.operations.conversation_id
            steps = plans.plan_actions(conversation_id)
            shown = [a for a in actions if a.id not in steps]
            self.plan_cards.show_plans(plans.runs(conversation_id))
        self.action_cards.show_actions(shown)
        for action in shown:
            if action.state in ("proposed", "awaiting_second"):
                p = action.proposal
                self.reply.card_shown(Kind.ACTION, action.id, describe(p), p.citations)

    @Slot(str, str)
    def _on_plan_requested(self, verb: str, run_id: str) -> None:
        operations = self.operations
        card = self.plan_cards.card(run_id)
        if operations is None or card is None:
            return
        step = card.run.next
        if verb in ("approve", "step"):  # first what would run, to confirm
            self.plan_cards.confirm(run_id, verb)
            card = self.plan_cards.card(run_id)
            if card is not None:
                card.setFocus(Qt.FocusReason.OtherFocusReason)
        elif verb in ("confirm", "cancel"):
            confirmed = self.plan_cards.end_confirm(run_id)
            if verb == "confirm" and confirmed:
                operations.plan(confirmed, run_id)
        elif verb != "second":
            operations.plan(verb, run_id)
        elif (
            step is not None
            and step.action is not None
            and (approver := self.ask_second_approver(step.action, operations.desk.leads))
        ):
            operations.plan(verb, run_id, approver)
        if verb == "handoff":
            self.handoff_requested.emit()

    @Slot(str, str)
    def _on_action_requested(self, verb: str, action_id: str) -> None:
        card = self.action_cards.card(action_id)
        operations = self.operations
        if card is None or operations is None:
            return
        proposal = card.action.proposal
        if verb == "approve":
            self._ask_confirm(card.action)
        elif verb == "confirm":
            self.action_cards.end_confirm(action_id)
            operations.approve(action_id)
            self.reply.card_decided(Kind.ACTION, action_id, Outcome.SENT)
        elif verb == "cancel":
            if (check := self._confirm_checks.pop(action_id, None)) is not None:
                check.cancel()
            self.action_cards.end_confirm(action_id)
        elif verb == "second":
            if approver := self.ask_second_approver(card.action, operations.desk.leads):
                operations.approve(action_id, approver)
        elif verb == "reject":
            self._on_feedback(Feedback(Kind.ACTION, action_id, Outcome.REJECTED))
        elif verb == "undo":
            operations.undo(proposal.undo, f"Undo: {describe(proposal)}")
        elif verb == "lookup":
            operations.look_up(action_id)
        elif verb == "edit":
            info = operations.tools.get(proposal.tool)
            if info is not None and (arguments := self.ask_arguments(card.action, info.schema)) is not None:
                operations.edit(action_id, arguments)
        else:
            {"run": operations.run, "reconcile": operations.reconcile}[verb](action_id)

    def _ask_confirm(self, action: Action) -> None:
        """Show what ``action`` would change (the system's dry run, asked for now) with Confirm / Cancel;
        nothing runs until the rep confirms."""
        operations = self.operations
        assert operations is not None
        info = operations.tools.get(action.proposal.tool)
        if action.preview is not None or info is None or not info.dry_run:
            self.action_cards.confirm(action.id, True)
            return
        self.action_cards.confirm(action.id, False)
        if (check := self._tasks.spawn(self._dry_run(action.id))) is not None:
            self._confirm_checks[action.id] = check

    async def _dry_run(self, action_id: str) -> None:
        operations = self.operations
        assert operations is not None
        try:
            await operations.desk.preview(action_id)
        except CopilotError as exc:  # the confirm still stands; the card says no preview came
            self.notices.add_error(f"No preview of what this action changes: {exc}")
        finally:
            self._confirm_checks.pop(action_id, None)
        if action_id in self.action_cards.confirming:
            self.action_cards.confirm(action_id, True)
        self._on_actions_updated(operations.desk.actions(operations.conversation_id))

    @Slot(str)
    def _on_draft_edited(self, text: str) -> None:
        self.reply.save_draft(text)
        self._review_timer.start()

    @Slot(int, str, bool)
    def _on_draft_stream(self, seq: int, text: str, done: bool) -> None:
        self.draft.stream(text, seq, done)
        if done:
            self.reply.review(text)

    def _on_escape(self) -> None:
        """Cancel what is in flight: the confirm of the focused action or plan card, the wrap-up being filed,
        else a streaming LLM draft."""
        focused = QApplication.focusWidget()
        if isinstance(focused, ActionCard | PlanCard) and "cancel" in focused.buttons:
            focused.buttons["cancel"].click()
        elif self._in_wrapup():
            self.wrapup.close_view()
        else:
            self._on_ai_cancelled()

    def _on_ai_cancelled(self) -> None:
        if self.draft.streaming:
            self.reply.cancel_llm()
            self.draft.stream_failed("cancelled.")

    def _in_wrapup(self) -> bool:
        """Whether the rep is filing the wrap-up (the keyboard is in its view)."""
        focused = QApplication.focusWidget()
        return self.wrapup.isVisible() and focused is not None and self.wrapup.isAncestorOf(focused)

    def _on_ctrl_return(self) -> None:
        """Ctrl+Enter confirms the wrap-up while the rep is in it; elsewhere it inserts the draft."""
        if self._in_wrapup():
            self.wrapup.confirm.click()
        else:
            self._on_insert_requested(self.draft.editor.toPlainText())

    @Slot(object)
    def _on_customer_updated(self, view: CustomerView) -> None:
        self.customer.show_customer(view, self.operations.party if self.operations is not None else "")

    async def show_coaching(self) -> None:
        """The leads' coaching notes this rep has not seen, once: pinned in the notices until dismissed."""
        try:
            notes = await self.reply.unseen_coaching()
        except CopilotError as exc:
            self.notices.add_error(f"Coaching notes could not be read: {exc}")
            return
        for note in notes:
            about = f" (about {note.conversation_id})" if note.conversation_id else ""
            self.notices.pin(f"Coaching from {note.lead}{about}: {note.note}")

    def conversation_ended(self, conversation_id: str) -> None:
        """The helpdesk says ``conversation_id`` ended (a ``conversation_end`` event): its wrap-up opens when it
        is the one shown."""
        if conversation_id == self._shown_conversation:
            self.open_wrapup()

    @Slot()
    def open_wrapup(self) -> None:
        """Show the suggested wrap-up of the conversation shown (made in a worker thread)."""
        self.cards_area.verticalScrollBar().setValue(self.wrapup.y())  # its top: the title and the root causes
        self.wrapup.waiting(self._shown_title or self._shown_conversation)
        self._tasks.spawn(self._make_wrapup())

    async def _make_wrapup(self) -> None:
        try:
            wrapup = await self.reply.wrap_up()
        except CopilotError as exc:
            self.wrapup.failed(str(exc))
            return
        self.wrapup.show_wrapup(wrapup)
        self.cards_area.verticalScrollBar().setValue(self.wrapup.y())  # its top: the title and the root causes

    @Slot(object, tuple, object)
    def _on_wrapup_confirmed(self, wrapup: WrapUp, tags: tuple[str, ...], outcome: Ending) -> None:
        self.reply.wrapup_confirmed(wrapup, tags, outcome)
        self.notices.show_notices([f"Wrap-up recorded: {outcome.value.replace('_', ' ')}."])

    @Slot(str)
    def _on_insert_requested(self, text: str) -> None:
        self._tasks.spawn(self._insert(text))

    async def _insert(self, text: str) -> None:
        if not text.strip():
            return
        review = await self.reply.blockers(text)
        if (review.unsupported or review.flags) and not await self.confirm_override(review):
            self.notices.show_notices(["Not inserted: fix the marked parts, or insert again and confirm."])
            return
        QGuiApplication.clipboard().setText(text)
        self.reply.inserted(text, review.unsupported)
        note = " (override recorded)" if review.unsupported or review.flags else ""
        self.notices.show_notices([f"Reply copied: paste it into the conversation{note}."])
        self.reply_inserted.emit(text)

    @Slot(int, str)
    def _on_analysis_error(self, seq: int, message: str) -> None:
        self.header.analysed(seq)
        self.notices.add_error(f"Could not analyse message #{seq}: {message}. The previous advice is still shown.")

    def closeEvent(self, event: QCloseEvent) -> None:
        super().closeEvent(event)
        self.closed.emit()

    @Slot(bool)
    def _on_on_top_toggled(self, on: bool) -> None:
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, on)
        self.show()


def _described(action: Action) -> str:
    """An action as the leads' review lists it: the card's words and whose account it acted on."""
    p = action.proposal
    return f"{describe(p)} {p.party}".strip()
