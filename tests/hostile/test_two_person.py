"""Issue 15, item 6: one person must never be both approvers of a two-person rule.

The review approved a refund above the rep's limit as rep, then again "as lead" by typing a lead's name.
Here a lead is only someone whose own passphrase was checked; the same person is refused as the second
approver whether they share the first approver's name or OS login; wrong passphrases lock, also for the next
process; every approval in the audit log says who and how they were known; and without the leads file
nobody is a lead (it fails closed).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from base.errors import ApprovalError
from connectors.systems import Systems
from copilot.actions.approvals import Desk
from copilot.actions.audit import AUDIT_FILE, KEY_DIR_ENV, AuditLog
from copilot.actions.credentials import LEADS_FILE, MAX_TRIES, Approver, Leads, at_desk
from tests.copilot.test_leads import PASS, leads_command, refund_above_limit

LOGIN_VARIABLES = ("LOGNAME", "USER", "LNAME", "USERNAME")
"""Where getpass finds the OS login first."""

TRY = """
import sys
from pathlib import Path
from base.errors import ApprovalError
from copilot.actions.credentials import Leads

leads = Leads(Path(sys.argv[1]))
print("ready", flush=True)
sys.stdin.readline()
for _ in range(int(sys.argv[2])):
    try:
        leads.verify("Lee Lead", "not the passphrase")
    except ApprovalError as exc:
        print(exc, flush=True)
"""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder in which Lee Lead (OS login ``lee``) is enrolled."""
    monkeypatch.setenv(KEY_DIR_ENV, str(tmp_path / "keys"))
    leads = Leads(tmp_path / LEADS_FILE)
    leads.add("Lee Lead", PASS, ("lee",), None)
    leads.close()
    return tmp_path


def open_desk(home: Path, user: str) -> Desk:
    """The app's desk in ``home`` for the settings' ``user`` (empty: the OS login)."""
    return Desk(home / "actions.sqlite3", AuditLog(home / AUDIT_FILE), Systems([]), user)


@pytest.fixture
def login_lee(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Run as the OS account ``lee`` (as getpass reads it)."""
    for variable in LOGIN_VARIABLES:
        monkeypatch.setenv(variable, "lee")
    yield


def test_a_lead_approving_their_own_refund_at_their_desk_is_refused(home: Path) -> None:
    desk = open_desk(home, "Lee Lead")  # the lead's own desk: settings name them
    action_id = refund_above_limit(desk)
    assert desk.approve(action_id).state == "awaiting_second"
    with pytest.raises(
        ApprovalError,
        match=r"Lee Lead approved this already, as rep \(Lee Lead\): the second approval must come from another",
    ):
        desk.approve(action_id, desk.leads.verify("Lee Lead", PASS))
    assert desk.get(action_id).state == "awaiting_second"
    assert [r.kind for r in AuditLog(home / AUDIT_FILE).records(action_id)] == ["proposed", "approved"]
    desk.close()


def test_the_same_lead_is_recognised_by_their_os_login_under_another_name(home: Path, login_lee: None) -> None:
    desk = open_desk(home, "")  # no user name in the settings: the desk is the OS login, lee
    action_id = refund_above_limit(desk)
    assert desk.approve(action_id).approvals[0].name == "lee"
    with pytest.raises(ApprovalError, match=r"Lee Lead approved this already, as rep \(lee\)"):
        desk.approve(action_id, desk.leads.verify("Lee Lead", PASS))
    renamed = open_desk(home, "Leland")  # a new name in the settings does not make another person
    with pytest.raises(ApprovalError, match=r"approved this already, as rep \(lee\)"):
        renamed.approve(action_id, renamed.leads.verify("Lee Lead", PASS))
    renamed.close()
    desk.close()


def test_a_typed_lead_name_never_counts_as_the_lead(home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    desk = open_desk(home, "Ana Rep")
    action_id = refund_above_limit(desk)
    desk.approve(action_id)
    with pytest.raises(TypeError):
        Approver("Lee Lead", "lead", "passphrase", ("lee",))  # what the old dialog's typed name stood for
    for variable in LOGIN_VARIABLES:  # another desk, logged in as lee, whose settings claim to be the lead
        monkeypatch.setenv(variable, "lee")
    claimed = at_desk("Lee Lead", "lead")
    with pytest.raises(ApprovalError, match="given with the lead's own passphrase"):
        desk.approve(action_id, claimed)
    assert desk.get(action_id).state == "awaiting_second"
    desk.close()


def test_five_wrong_passphrases_lock_and_the_lock_survives_new_processes(home: Path) -> None:
    for n in range(1, MAX_TRIES + 1):  # each try in a process of its own, as separate app runs would be
        tried = leads_command(home, "passphrase", "Lee Lead", stdin="not the passphrase\n")
        assert tried.returncode == 2
        assert ("locked" in tried.stderr) == (n == MAX_TRIES), tried.stderr
    locked = leads_command(home, "passphrase", "Lee Lead", stdin=f"{PASS}\n")
    assert "Approval by Lee Lead is locked after 5 wrong passphrases, until" in locked.stderr
    assert "LOCKED until" in leads_command(home, "list").stdout
    desk = open_desk(home, "Ana Rep")  # the app, started again
    action_id = refund_above_limit(desk)
    desk.approve(action_id)
    with pytest.raises(ApprovalError, match="locked"):
        desk.approve(action_id, desk.leads.verify("Lee Lead", PASS))
    assert desk.get(action_id).state == "awaiting_second"
    desk.close()


def test_wrong_tries_from_two_processes_at_once_are_all_counted(home: Path) -> None:
    children = [
        subprocess.Popen(
            [sys.executable, "-c", TRY, str(home / LEADS_FILE), "3"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])},
        )
        for _ in range(2)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    for child in children:  # both start together
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    said = [line for child in children for line in child.communicate(timeout=120)[0].splitlines()]
    assert len(said) == 6
    assert sum("Wrong passphrase" in line for line in said) == MAX_TRIES - 1, "no try lost to the other process"
    assert sum("locked" in line for line in said) == 2  # the fifth locked it; the sixth met the lock


def test_every_approval_in_the_audit_log_names_the_identity_and_how_it_was_proven(home: Path) -> None:
    desk = open_desk(home, "Ana Rep")
    action_id = refund_above_limit(desk)
    desk.approve(action_id)
    assert desk.approve(action_id, desk.leads.verify("Lee Lead", PASS)).state == "approved"
    desk.close()
    log = AuditLog(home / AUDIT_FILE)
    approvals = [
        (r.actor, r.result["role"], r.result["authenticated"]) for r in log.records(action_id) if r.kind == "approved"
    ]
    assert approvals == [("Ana Rep", "rep", "desk"), ("Lee Lead", "lead", "passphrase")]
    assert log.verify() == []


def test_without_the_leads_file_nobody_is_a_lead(home: Path) -> None:
    desk = open_desk(home, "Ana Rep")
    action_id = refund_above_limit(desk)
    desk.approve(action_id)
    desk.close()
    for leftover in home.glob(f"{LEADS_FILE}*"):  # someone with the data folder deletes it
        leftover.unlink()
    desk = open_desk(home, "Ana Rep")
    with pytest.raises(ApprovalError, match="No lead is enrolled, so nobody can give a lead's approval"):
        desk.leads.verify("Lee Lead", PASS)
    assert desk.get(action_id).state == "awaiting_second"
    desk.close()


def test_a_damaged_hash_proves_nobody(home: Path) -> None:
    with sqlite3.connect(home / LEADS_FILE) as db:
        db.execute("UPDATE leads SET hash = 'not an argon2 hash'")
    leads = Leads(home / LEADS_FILE)
    with pytest.raises(ApprovalError, match="stored passphrase hash of Lee Lead cannot be read"):
        leads.verify("Lee Lead", PASS)
    leads.close()


def test_a_leads_file_that_is_not_a_database_proves_nobody_and_the_desk_still_opens(home: Path) -> None:
    for leftover in home.glob(f"{LEADS_FILE}*"):
        leftover.unlink()
    (home / LEADS_FILE).write_bytes(b"not a database" * 100)
    desk = open_desk(home, "Ana Rep")
    action_id = refund_above_limit(desk)
    desk.approve(action_id)
    with pytest.raises(ApprovalError, match="cannot be read as the leads' database"):
        desk.leads.verify("Lee Lead", PASS)
    assert desk.get(action_id).state == "awaiting_second"
    desk.close()
    listed = leads_command(home, "list")
    assert listed.returncode == 2 and "move it away and enrol the leads again" in listed.stderr
