"""Proposed actions: what would run, why, the verdict of the guardrails, and approval from the keyboard.

A card shows the tool and its arguments, the clauses that allow it, whether it can be undone, and
its state. Focused, ``A`` asks the system what the action would change (its dry run) and shows that on the
card with Confirm (Enter) and Cancel (Esc): only the confirm approves it. For an action waiting for a lead,
``A`` asks for the lead's approval. ``Delete`` rejects it, 1-6 rejects it with a reason, + / - thumb it.
Nothing runs without a confirm.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from copilot.actions.approvals import Action
from copilot.actions.proposals import NEEDS_INPUT, Proposal
from copilot.records.models import Kind, Outcome
from ui.sections.cards import CardColumn, cited_clauses, move_between_cards, shared_key

_VERDICT = {
    "allowed": ("#2e6b3a", "You may approve"),
    "needs_approval": ("#8a5300", "Needs a {role} too"),
    "blocked": ("#a61b1b", "Blocked"),
}
FILLABLE = (NEEDS_INPUT, "arguments-schema")
"""Verdicts the rep can answer by filling in the arguments."""
_STATE = {
    "proposed": "",
    "approved": "Approved",
    "awaiting_second": "Waiting for a second approver",
    "running": "Running…",
    "done": "Done",
    "failed": "Failed",
    "unknown": "Outcome unknown",
    "rejected": "Rejected",
}


CHECKING = "Asking the system what this would change…"
NO_PREVIEW = "The system gives no preview of this action: it runs as shown above."


def changes(action: Action) -> str:
    """The dry run's changes in words (``booking B-7 status: held → released``), at most four."""
    return "; ".join(
        f"{c.get('entity')} {c.get('field')}: {c.get('before')} → {c.get('after')}" for c in (action.preview or [])[:4]
    )


def describe(proposal: Proposal) -> str:
    """The action in a few words: the pack's label for it, else the tool and its arguments."""
    if proposal.label:
        return proposal.label
    name = proposal.tool.replace("_", " ").capitalize()
    shown = ", ".join(f"{k}={v}" for k, v in proposal.arguments.items())
    return f"{name} ({shown})" if shown else name


def whose(proposal: Proposal) -> str:
    """Whose account the action acts on, as the card's second line: "For Jane Doe's account (the
    customer's late mother)"; a rep must not act on the writer's own account when the case is someone else's."""
    return proposal.party[:1].upper() + proposal.party[1:]


class ActionCard(QFrame):
    """One proposed action with the buttons its state allows."""

    requested = Signal(str, str)
    """(verb, action id): ``approve`` (show what it would change, to confirm), ``confirm``, ``cancel`` (the
    confirm), ``second`` (a lead's approval), ``reject``, ``run``, ``reconcile``, ``undo``, ``edit`` (fill in
    its arguments), ``lookup`` (read the record it waits for)."""
    feedback = Signal(object)
    """A Feedback for the records: a rejection with its reason (the panel rejects the action), a thumb."""

    def __init__(self, action: Action, confirming: bool | None = None, parent: QWidget | None = None) -> None:
        """``confirming``: the rep pressed A and the card waits for Confirm (True once the dry run is known,
        False while it is asked for); None: not confirming."""
        super().__init__(parent)
        self.action = action
        self.confirming = (
            confirming if action.state == "proposed" and action.proposal.verdict.kind != "blocked" else None
        )
        p, verdict = action.proposal, action.proposal.verdict
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setObjectName("actionCard")
        self.setStyleSheet(
            "#actionCard { background: palette(base); border: 1px solid #c8c0a8; border-radius: 5px; }"
            "#actionCard:focus { border: 2px solid #2d6cdf; }"
        )
        color, label = _VERDICT[verdict.kind]
        label = label.format(role=verdict.approver_role or "lead")
        why = f"<br><span style='color:#555'>Why: {escape(p.why)}</span>" if p.why else ""
        rule = ""
        if verdict.kind != "allowed":
            clause = p.verdict_citation or verdict.clause
            rule = (
                f"<br>{escape(verdict.reason)} <span style='color:#4a5a7a'>({escape(verdict.rule)} · "
                f"{escape(clause)})</span>"
            )
        cites = cited_clauses(p.citations, "Allowed by: ")
        undo = f"Can be undone ({p.undo.replace('_', ' ')})" if p.undo else "Cannot be undone here"
        state = _STATE[action.state]
        outcome = f"<br><b>{escape(state)}</b>" if state else ""
        if action.message:
            outcome += f"{': ' if state else '<br>'}{escape(action.message)}"
        if action.preview and action.state in ("proposed", "awaiting_second"):
            outcome = f"<br><span style='color:#333'>Will change: {escape(changes(action))}</span>{outcome}"
        elif self.confirming is not None:
            outcome += f"<br><i>{CHECKING if not self.confirming else NO_PREVIEW}</i>"
        if self.confirming is not None:
            outcome += "<br><b>Confirm to approve it; nothing has run yet.</b>"
        args = escape(", ".join(f"{k}: {v}" for k, v in p.arguments.items()))
        party = f"<br><span style='color:#4a3a7a'>{escape(whose(p))}</span>" if p.party else ""
        self.text = (
            f"<b>{escape(describe(p))}</b>{party}<br>"
            f"<span style='color:{color}'>● {escape(label)}</span>{rule}{why}{cites}"
            f"<br><span style='color:#666'>{args} · {undo}</span>{outcome}"
        )
        body = QLabel(self.text)
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.RichText)
        self.setAccessibleName(f"Proposed action: {describe(p)}{' ' + p.party if p.party else ''}; {label}")
        self.setAccessibleDescription(
            "Enter confirms, Escape cancels."
            if self.confirming is not None
            else "Press A to see what it changes and confirm, E to edit its arguments, Delete to reject."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.addWidget(body)
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for verb, text in self._choices():
            button = QPushButton(text)
            button.clicked.connect(lambda _=False, v=verb: self.requested.emit(v, action.id))
            row.addWidget(button)
            self.buttons[verb] = button
        row.addStretch(1)
        layout.addLayout(row)

    def _choices(self) -> list[tuple[str, str]]:
        a, p = self.action, self.action.proposal
        if self.confirming is not None:
            return (
                [("confirm", "Confirm (Enter)"), ("cancel", "Cancel (Esc)")]
                if self.confirming
                else [("cancel", "Cancel (Esc)")]
            )
        if a.state == "proposed" and p.verdict.kind != "blocked":
            return [("approve", "Approve… (A)"), ("edit", "Edit…"), ("reject", "Reject")]
        if a.state == "proposed" and p.verdict.lookup_call is not None:
            return [("lookup", "Look it up (L)"), ("reject", "Reject")]
        if a.state == "proposed" and p.verdict.rule in FILLABLE:
            return [("edit", "Fill in… (E)"), ("reject", "Reject")]
        if a.state == "awaiting_second":
            return [
                ("second", f"{(p.verdict.approver_role or 'lead').capitalize()} approves… (A)"),
                ("reject", "Reject"),
            ]
        if a.state == "approved":
            return [("run", "Run again")]
        if a.state == "unknown":
            return [("reconcile", "Check the system")]
        if a.state == "done" and p.undo:
            return [("undo", "Undo…")]
        return []

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and "confirm" in self.buttons:
            self.buttons["confirm"].click()
        elif key == Qt.Key.Key_Escape and "cancel" in self.buttons:
            self.buttons["cancel"].click()
        elif key == Qt.Key.Key_E and "edit" in self.buttons:
            self.buttons["edit"].click()
        elif key == Qt.Key.Key_L and "lookup" in self.buttons:
            self.buttons["lookup"].click()
        elif key == Qt.Key.Key_A:
            button = self.buttons.get("approve") or self.buttons.get("second")
            if button is not None:
                button.click()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and "reject" in self.buttons:
            self.buttons["reject"].click()
        elif (said := shared_key(key, Kind.ACTION, self.action.id)) is not None:
            if said.outcome is not Outcome.REJECTED or "reject" in self.buttons:
                self.feedback.emit(said)
        elif not move_between_cards(self, key):
            super().keyPressEvent(event)


class ActionsSection(CardColumn[ActionCard]):
    """The "Actions" list; replaced on every change of the conversation's actions, keeping the focus."""

    requested = Signal(str, str)
    """(verb, action id) from any card; see ActionCard.requested."""
    feedback = Signal(object)
    """A Feedback from any card; see ActionCard.feedback."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Actions",
            "Actions appear here when a path calls for one and the system confirms the order or customer.",
            parent,
        )
        self._actions: list[Action] = []
        self._confirming: dict[str, bool] = {}
        """Actions waiting for the rep's confirm: True once what they would change is known."""

    def card(self, action_id: str) -> ActionCard | None:
        return next((c for c in self.cards if c.action.id == action_id), None)

    @property
    def confirming(self) -> set[str]:
        """The actions waiting for the rep's confirm."""
        return set(self._confirming)

    def confirm(self, action_id: str, known: bool) -> None:
        """Show ``action_id`` waiting for the rep's confirm; ``known``: what it would change is known (or that
        the system cannot tell), else it is being asked for."""
        self._confirming[action_id] = known
        self.show_actions(self._actions)

    def end_confirm(self, action_id: str) -> None:
        """Confirmed or cancelled: the card shows its usual buttons again."""
        self._confirming.pop(action_id, None)
        self.show_actions(self._actions)

    def show_actions(self, actions: list[Action]) -> None:
        focused = next((c.action.id for c in self.cards if c.hasFocus()), None)
        self._clear()
        self._actions = actions
        shown = [a for a in actions if a.state != "rejected"]
        for action in shown:
            card = ActionCard(action, self._confirming.get(action.id))
            card.requested.connect(self.requested)
            card.feedback.connect(self.feedback)
            self._add(card)
            if action.id == focused:
                card.setFocus(Qt.FocusReason.OtherFocusReason)
        waiting = sum(
            1 for a in shown if a.state in ("proposed", "awaiting_second") and a.proposal.verdict.kind != "blocked"
        )
        self._status.setText(
            f"{waiting} waiting for approval (Ctrl+Shift+A focuses the first)."
            if waiting
            else "Nothing waits for approval."
            if shown
            else "Actions appear here when a path calls for one and the system confirms the order or customer."
        )
