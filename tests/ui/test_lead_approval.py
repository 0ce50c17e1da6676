"""The lead's approval dialog: it closes only for a passphrase that proves the chosen lead, says why not
(a wrong try, a lock and until when), and with no lead enrolled says how to enrol one and accepts nothing."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QDialog, QLineEdit

from copilot.actions.credentials import LEADS_FILE, MAX_TRIES, Leads
from copilot.actions.verdict import Verdict
from ui.lead_approval import LeadApprovalDialog

PASS = "correct horse battery"
VERDICT = Verdict("needs_approval", "250.0 USD is above the rep limit of 100.0", "refund-limit-rep", "", "lead")


def dialog(qtbot, leads: Leads) -> LeadApprovalDialog:  # type: ignore[no-untyped-def]
    shown = LeadApprovalDialog(leads, "Refund 250.0 on NW-20001", VERDICT)
    qtbot.addWidget(shown)
    return shown


def test_with_no_lead_enrolled_it_says_how_to_enrol_one_and_accepts_nothing(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    leads = Leads(tmp_path / LEADS_FILE)
    shown = dialog(qtbot, leads)
    assert "No lead is enrolled on this computer" in shown.problem.text()
    assert "copilot leads add NAME" in shown.problem.text()
    assert not shown.ok.isEnabled() and not shown.passphrase.isEnabled()
    shown.accept()
    assert shown.result() != QDialog.DialogCode.Accepted and shown.approver is None
    leads.close()


def test_only_the_right_passphrase_closes_it_with_the_verified_lead(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    leads = Leads(tmp_path / LEADS_FILE)
    leads.add("Lee Lead", PASS, (), None)
    shown = dialog(qtbot, leads)
    assert shown.passphrase.echoMode() == QLineEdit.EchoMode.Password
    assert [shown.name.itemText(i) for i in range(shown.name.count())] == ["Lee Lead"], "chosen, never typed"
    shown.passphrase.setText("wrong passphrase")
    shown.ok.click()
    assert shown.result() != QDialog.DialogCode.Accepted and shown.approver is None
    assert "Wrong passphrase for Lee Lead" in shown.problem.text() and shown.passphrase.text() == ""
    shown.passphrase.setText(PASS)
    shown.ok.click()
    assert shown.result() == QDialog.DialogCode.Accepted
    assert shown.approver is not None and (shown.approver.name, shown.approver.verified) == ("Lee Lead", True)
    leads.close()


def test_a_locked_lead_is_told_until_when(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    leads = Leads(tmp_path / LEADS_FILE)
    leads.add("Lee Lead", PASS, (), None)
    shown = dialog(qtbot, leads)
    for _ in range(MAX_TRIES):
        shown.passphrase.setText("wrong passphrase")
        shown.ok.click()
    assert "locked after 5 wrong passphrases, until" in shown.problem.text()
    shown.passphrase.setText(PASS)
    shown.ok.click()
    assert shown.result() != QDialog.DialogCode.Accepted and "locked" in shown.problem.text()
    leads.close()


def test_a_damaged_leads_file_is_said_and_nothing_is_accepted(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / LEADS_FILE).write_bytes(b"not a database" * 100)
    leads = Leads(tmp_path / LEADS_FILE)
    shown = dialog(qtbot, leads)
    assert "cannot be read as the leads' database" in shown.problem.text() and not shown.ok.isEnabled()
    leads.close()
