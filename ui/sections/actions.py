"""Proposed actions: what would run, why, the verdict of the guardrails, and approval from the keyboard.

A card shows the tool and its arguments, the clauses that allow it, whether it can be undone, and
its state. Focused, ``A`` approves (or, for an action waiting for a lead, asks for the lead's
approval) and ``Delete`` rejects. Nothing runs without that click or key.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from copilot.actions.approvals import Action
from copilot.actions.proposals import NEEDS_INPUT, Proposal
from ui.sections.cards import CardColumn, cited_clauses, move_between_cards

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


def describe(proposal: Proposal) -> str:
    """The action in a few words: the pack's label for it, else the tool and its arguments."""
    if proposal.label:
        return proposal.label
    name = proposal.tool.replace("_", " ").capitalize()
    shown = ", ".join(f"{k}={v}" for k, v in proposal.arguments.items())
    return f"{name} ({shown})" if shown else name


class ActionCard(QFrame):
    """One proposed action with the buttons its state allows."""

    requested = Signal(str, str)
    """(verb, action id): ``approve``, ``second`` (a lead's approval), ``preview``, ``reject``, ``run``,
    ``reconcile``, ``undo``, ``edit`` (fill in its arguments), ``lookup`` (read the record it waits for)."""

    def __init__(self, action: Action, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.action = action
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
        if action.preview:
            changes = "; ".join(
                f"{c.get('entity')} {c.get('field')}: {c.get('before')} → {c.get('after')}" for c in action.preview[:4]
            )
            outcome = (
                f"<br><span style='color:#333'>Will change: {escape(changes)}</span>{outcome}"
                if action.state in ("proposed", "awaiting_second")
                else outcome
            )
        args = escape(", ".join(f"{k}: {v}" for k, v in p.arguments.items()))
        self.text = (
            f"<b>{escape(describe(p))}</b><br>"
            f"<span style='color:{color}'>● {escape(label)}</span>{rule}{why}{cites}"
            f"<br><span style='color:#666'>{args} · {undo}</span>{outcome}"
        )
        body = QLabel(self.text)
        body.setWordWrap(True)
        body.setTextFormat(Qt.TextFormat.RichText)
        self.setAccessibleName(f"Proposed action: {describe(p)}; {label}")
        self.setAccessibleDescription("Press A to approve, E to edit its arguments, Delete to reject.")
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
        if a.state == "proposed" and p.verdict.kind != "blocked":
            preview = [] if a.preview is not None else [("preview", "Preview")]
            return [("approve", "Approve (A)"), *preview, ("edit", "Edit…"), ("reject", "Reject")]
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
        if key == Qt.Key.Key_E and "edit" in self.buttons:
            self.buttons["edit"].click()
        elif key == Qt.Key.Key_L and "lookup" in self.buttons:
            self.buttons["lookup"].click()
        elif key == Qt.Key.Key_A:
            button = self.buttons.get("approve") or self.buttons.get("second")
            if button is not None:
                button.click()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and "reject" in self.buttons:
            self.buttons["reject"].click()
        elif not move_between_cards(self, key):
            super().keyPressEvent(event)


class ActionsSection(CardColumn[ActionCard]):
    """The "Actions" list; replaced on every change of the conversation's actions, keeping the focus."""

    requested = Signal(str, str)
    """(verb, action id) from any card; see ActionCard.requested."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(
            "Actions",
            "Actions appear here when a path calls for one and the system confirms the order or customer.",
            parent,
        )

    def card(self, action_id: str) -> ActionCard | None:
        return next((c for c in self.cards if c.action.id == action_id), None)

    def show_actions(self, actions: list[Action]) -> None:
        focused = next((c.action.id for c in self.cards if c.hasFocus()), None)
        self._clear()
        shown = [a for a in actions if a.state != "rejected"]
        for action in shown:
            card = ActionCard(action)
            card.requested.connect(self.requested)
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
