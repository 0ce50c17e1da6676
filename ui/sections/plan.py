"""Multi-step plans: each step with its state, and what the rep may do with the plan from the keyboard.

A plan card lists the steps in order (done, running, failed, waiting, compensated) with what each did, the
plan's state and the clauses it follows. Focused, ``A`` asks to approve the rest of the plan (or, for a step
waiting for a lead, asks for the lead's approval), ``N`` only the next step: the card then says which steps
would run, with Confirm (Enter) and Cancel (Esc), and only the confirm approves (a step's arguments come from
the steps before it, so no system can preview it before they ran). ``R`` retries the step that
stopped it, ``U`` undoes the steps done (their compensating calls, newest first), ``H`` hands the case off with
the plan's state, ``Delete`` dismisses a plan nothing of which ran. Nothing runs without that click or key.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from copilot.actions.plans import PlanRun, StepView, step_outcome, step_state
from ui.sections.cards import CardColumn, cited_clauses, move_between_cards

EMPTY = "A plan appears when a path calls for several actions in a row (a disputed charge, say)."
_STATE = {
    "offered": ("#2d6cdf", "Proposed: approve the whole plan, or one step at a time"),
    "running": ("#2d6cdf", "Running…"),
    "paused": ("#8a5300", "Paused"),
    "stopped": ("#a61b1b", "Stopped"),
    "done": ("#2e6b3a", "Done"),
    "compensating": ("#8a5300", "Undoing…"),
    "undo_stopped": ("#a61b1b", "Undoing stopped"),
    "compensated": ("#555555", "Undone"),
    "handed_off": ("#555555", "Handed off"),
    "dismissed": ("#555555", "Dismissed"),
}
_MARK = {
    "pending": "○",
    "proposed": "○",
    "approved": "◔",
    "awaiting second": "⏳",
    "running": "…",
    "done": "✓",
    "failed": "✗",
    "blocked": "⛔",
    "unknown": "?",
    "rejected": "✗",
    "compensated": "↺",
}
_KEYS = {
    Qt.Key.Key_Return: ("confirm",),
    Qt.Key.Key_Enter: ("confirm",),
    Qt.Key.Key_Escape: ("cancel",),
    Qt.Key.Key_A: ("approve", "second"),
    Qt.Key.Key_N: ("step",),
    Qt.Key.Key_R: ("retry",),
    Qt.Key.Key_U: ("compensate",),
    Qt.Key.Key_H: ("handoff",),
    Qt.Key.Key_Delete: ("dismiss",),
}


def _step_line(number: int, view: StepView) -> str:
    state = step_state(view)
    label = view.step.label or view.step.tool.replace("_", " ").capitalize()
    line = f"{_MARK.get(state, '•')} {number}. {escape(label, quote=False)}"
    if state not in ("pending", "done"):
        line += f" <i>({escape(state)})</i>"
    detail = step_outcome(view.undo or view.action)
    if detail:
        line += f"<br><span style='color:#555'>&nbsp;&nbsp;&nbsp;&nbsp;{escape(detail, quote=False)}</span>"
    return line


class PlanCard(QFrame):
    """One plan instance: its steps and the buttons its state allows."""

    requested = Signal(str, str)
    """(verb, plan instance id): one of ``PlanRun.choices``, or ``confirm`` / ``cancel`` while confirming."""

    def __init__(self, run: PlanRun, confirming: str = "", parent: QWidget | None = None) -> None:
        """``confirming``: the verb (``approve`` or ``step``) waiting for the rep's confirm, or ""."""
        super().__init__(parent)
        self.run = run
        self.confirming = confirming if confirming in run.choices else ""
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setObjectName("planCard")
        self.setStyleSheet(
            "#planCard { background: palette(base); border: 1px solid #9fb3d9; border-radius: 5px; }"
            "#planCard:focus { border: 2px solid #2d6cdf; }"
        )
        color, state = _STATE[run.state]
        done = sum(1 for s in run.steps if s.done)
        message = f"<br>{escape(run.message)}" if run.message else ""
        steps = "<br>".join(_step_line(n, s) for n, s in enumerate(run.steps, start=1))
        self.text = (
            f"<b>Plan: {escape(run.plan.title)}</b> "
            f"<span style='color:#666'>({done} of {len(run.steps)} steps done)</span><br>"
            f"<span style='color:{color}'>● {escape(state)}</span>{message}<br>{steps}"
            f"{cited_clauses(run.citations, 'Follows: ')}{self._confirm_line()}"
        )
        body = QLabel(self.text)
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.RichText)
        self.setAccessibleName(f"Plan: {run.plan.title}; {state}; {done} of {len(run.steps)} steps done")
        self.setAccessibleDescription(
            "A approves the plan, N the next step only, R retries, U undoes what was done, H hands off."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(body)
        self.buttons: dict[str, QPushButton] = {}
        row = QGridLayout()  # two a row: three captions side by side are wider than the panel
        verbs = ("confirm", "cancel") if self.confirming else run.choices
        for verb in verbs:
            button = QPushButton(self._caption(verb))
            button.clicked.connect(lambda _=False, v=verb: self.requested.emit(v, run.id))
            row.addWidget(button, len(self.buttons) // 2, len(self.buttons) % 2)
            self.buttons[verb] = button
        row.setColumnStretch(2, 1)
        layout.addLayout(row)

    def _confirm_line(self) -> str:
        """What a confirm would run, in words; "" when not confirming."""
        step = self.run.next
        if not self.confirming or step is None:
            return ""
        number = self.run.steps.index(step) + 1
        last = len(self.run.steps)
        what = f"step {number}" if self.confirming == "step" or number == last else f"steps {number} to {last} in order"
        return f"<br><b>Confirm to run {what}; nothing has run yet.</b>"

    def _caption(self, verb: str) -> str:
        run = self.run
        step = run.next
        number = run.steps.index(step) + 1 if step is not None else 0
        started = any(s.action is not None for s in run.steps)
        return {
            "confirm": "Confirm (Enter)",
            "cancel": "Cancel (Esc)",
            "approve": "Approve the rest (A)" if started else "Approve the plan (A)",
            "step": f"Step {number} only (N)",
            "second": f"{(self._approver_role() or 'lead').capitalize()} approves step {number}… (A)",
            "retry": f"Retry step {number} (R)",
            "compensate": "Undo what was done (U)",
            "handoff": "Hand off (H)",
            "dismiss": "Dismiss",
        }[verb]

    def _approver_role(self) -> str:
        step = self.run.next
        return step.action.proposal.verdict.approver_role if step is not None and step.action is not None else ""

    def keyPressEvent(self, event: QKeyEvent) -> None:
        verbs = _KEYS.get(Qt.Key(event.key()), ())
        button = next((self.buttons[v] for v in verbs if v in self.buttons), None)
        if button is not None:
            button.click()
        elif not move_between_cards(self, event.key()):
            super().keyPressEvent(event)


class PlanSection(CardColumn[PlanCard]):
    """The "Plans" list; replaced on every change of the conversation's plans or actions, keeping the focus."""

    requested = Signal(str, str)
    """(verb, plan instance id) from any card; see PlanCard.requested."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Plans", EMPTY, parent)
        self._runs: list[PlanRun] = []
        self._confirming: dict[str, str] = {}
        """Plan instance → the verb waiting for the rep's confirm."""

    def card(self, run_id: str) -> PlanCard | None:
        return next((c for c in self.cards if c.run.id == run_id), None)

    def confirm(self, run_id: str, verb: str) -> None:
        """Show what ``verb`` (``approve`` or ``step``) would run on the plan, waiting for the rep's confirm."""
        self._confirming[run_id] = verb
        self.show_plans(self._runs)

    def end_confirm(self, run_id: str) -> str:
        """Confirmed or cancelled: the verb that waited ("" if none); the card shows its usual buttons again."""
        verb = self._confirming.pop(run_id, "")
        self.show_plans(self._runs)
        return verb

    def show_plans(self, runs: list[PlanRun]) -> None:
        focused = next((c.run.id for c in self.cards if c.hasFocus()), None)
        self._clear()
        self._runs = runs
        shown = [r for r in runs if r.state != "dismissed"]
        for run in shown:
            card = PlanCard(run, self._confirming.get(run.id, ""))
            card.requested.connect(self.requested)
            self._add(card)
            if run.id == focused:
                card.setFocus(Qt.FocusReason.OtherFocusReason)
        self.setVisible(bool(shown))
        waiting = sum(1 for r in shown if r.choices)
        self._status.setText(f"{waiting} waiting for you." if waiting else "Nothing waits for you." if shown else EMPTY)
