"""A lead's approval at a rep's desk: the lead picks their name and types their own passphrase, which is
checked before the dialog closes; with no lead enrolled it says how to enrol one and accepts nothing."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from base.errors import CopilotError
from copilot.actions.credentials import ENROL_HINT, Approver, Leads
from copilot.actions.verdict import Verdict


class LeadApprovalDialog(QDialog):
    """Asks for an enrolled lead and their passphrase; ``approver`` is the verified lead once accepted."""

    def __init__(self, leads: Leads, action: str, verdict: Verdict, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._leads = leads
        self.approver: Approver | None = None
        """The lead the passphrase proved (set when the dialog is accepted)."""
        role = verdict.approver_role or "lead"
        self.setWindowTitle(f"{role.capitalize()} approval")
        self.setAccessibleName(f"{role.capitalize()} approval")
        try:
            enrolled = [lead.name for lead in leads.enrolled()]
            unavailable = (
                f"No {role} is enrolled on this computer, so nobody can give a {role}'s approval here. "
                f"{ENROL_HINT}, then approve again."
            )
        except CopilotError as exc:  # a damaged leads file proves nobody
            enrolled, unavailable = [], str(exc)
        intro = QLabel(f"{action}\n\n{verdict.reason}")
        intro.setWordWrap(True)
        intro.setMinimumWidth(360)
        self.name = QComboBox()
        self.name.addItems(enrolled)
        self.name.setAccessibleName(f"The approving {role}")
        self.passphrase = QLineEdit()
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase.setAccessibleName(f"The {role}'s own passphrase")
        self.problem = QLabel()
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #a33;")
        self.ok = QPushButton(f"Approve as {role}")
        self.ok.setDefault(True)
        self.ok.clicked.connect(self.accept)
        cancel = QPushButton("Cancel" if enrolled else "Close")
        cancel.clicked.connect(self.reject)
        form = QFormLayout()
        form.addRow(f"{role.capitalize()}:", self.name)
        form.addRow("Passphrase:", self.passphrase)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.ok)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addLayout(buttons)
        if not enrolled:  # fail closed: nobody to prove, so nothing to accept
            self.problem.setText(unavailable)
            for widget in (self.name, self.passphrase, self.ok):
                widget.setEnabled(False)
        else:
            self.passphrase.setFocus()

    def accept(self) -> None:
        """Close only for a passphrase that proves the chosen lead; otherwise say why (a wrong try, a lock
        and until when) and let them try again. Checking takes about a quarter second (argon2id)."""
        if not self.ok.isEnabled():
            return
        try:
            self.approver = self._leads.verify(self.name.currentText(), self.passphrase.text())
        except CopilotError as exc:
            self.problem.setText(str(exc))
            self.adjustSize()  # taller for the message (wrapped lines are not in the window's minimum size)
            self.passphrase.clear()
            self.passphrase.setFocus()
            return
        super().accept()
