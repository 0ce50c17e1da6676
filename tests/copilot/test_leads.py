"""Leads' credentials (copilot/actions/credentials.py), the Desk's two-person rule on them, and `copilot leads`."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from base.errors import ApprovalError, CopilotError
from connectors.systems import Systems
from copilot.actions.approvals import Desk
from copilot.actions.audit import AUDIT_FILE, KEY_DIR_ENV, AuditLog
from copilot.actions.credentials import LEADS_FILE, LOCK_FOR, MAX_TRIES, Approver, Leads, at_desk, os_login
from copilot.actions.proposals import Proposal, proposal_id
from copilot.actions.verdict import Verdict

PASS = "correct horse battery"
OTHER = "a different long phrase"


class Clock:
    """A clock the test moves on (the lock's five minutes, without waiting them)."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def leads(tmp_path: Path, clock: Clock) -> Iterator[Leads]:
    store = Leads(tmp_path / LEADS_FILE, clock)
    store.add("Lee Lead", PASS, ("lee",), None)
    yield store
    store.close()


def refund_above_limit(desk: Desk) -> str:
    """A refund the demo pack's rep limit sends to a lead, offered at ``desk``; its action id."""
    arguments = {"order_id": "NW-20001", "amount": 250.0, "reason": "damaged"}
    verdict = Verdict(
        "needs_approval",
        "250.0 USD is above the rep limit of 100.0; a lead must approve too.",
        "refund-limit-rep",
        "refunds.approval-limits",
        "lead",
    )
    proposal = Proposal(
        proposal_id("c1", "refund_payment", arguments),
        "c1",
        "refund_payment",
        arguments,
        "The item arrived damaged",
        (),
        verdict,
    )
    desk.offer((proposal,))
    return proposal.id


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, leads: Leads) -> Iterator[Desk]:
    monkeypatch.setenv(KEY_DIR_ENV, str(tmp_path / "keys"))
    desk = Desk(tmp_path / "actions.sqlite3", AuditLog(tmp_path / AUDIT_FILE), Systems([]), "Ana Rep", leads=leads)
    yield desk
    desk.close()


# The credential store


def test_a_lead_is_proven_by_their_passphrase_and_only_its_hash_is_stored(leads: Leads, tmp_path: Path) -> None:
    lee = leads.verify("lee lead", PASS)  # names are matched without regard to case
    assert (lee.name, lee.role, lee.method, lee.logins, lee.verified) == (
        "Lee Lead",
        "lead",
        "passphrase",
        ("lee",),
        True,
    )
    (stored,) = sqlite3.connect(tmp_path / LEADS_FILE).execute("SELECT hash FROM leads").fetchone()
    assert stored.startswith("$argon2id$")
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith(LEADS_FILE))
    assert PASS.encode() not in data


def test_an_approver_cannot_be_made_from_a_typed_name() -> None:
    with pytest.raises(TypeError, match=r"Leads\.verify"):
        Approver("Lee Lead", "lead", "passphrase", ())
    rep = at_desk("", "rep")
    assert (rep.name, rep.method, rep.verified) == (os_login(), "desk", False)
    assert at_desk("Lee Lead", "lead").verified is False, "a desk that calls itself a lead proves nothing"


def test_wrong_passphrases_count_down_then_lock_until_a_time_then_unlock(leads: Leads, clock: Clock) -> None:
    for left in range(MAX_TRIES - 1, 0, -1):
        with pytest.raises(ApprovalError, match=f"Wrong passphrase for Lee Lead. {left} more wrong"):
            leads.verify("Lee Lead", "not the passphrase")
    until = clock.now + LOCK_FOR
    with pytest.raises(ApprovalError, match="locked after 5 wrong passphrases, until") as locked:
        leads.verify("Lee Lead", "not the passphrase")
    assert until.astimezone().strftime("%H:%M:%S") in str(locked.value)
    assert leads.enrolled()[0].locked_until == until
    clock.now += LOCK_FOR - timedelta(seconds=1)
    with pytest.raises(ApprovalError, match="locked"):
        leads.verify("Lee Lead", PASS)  # the right passphrase does not open a lock early
    clock.now += timedelta(seconds=1)
    assert leads.verify("Lee Lead", PASS).verified
    assert leads.enrolled()[0].locked_until is None


def test_a_right_passphrase_resets_the_count_of_wrong_ones(leads: Leads) -> None:
    for _ in range(MAX_TRIES - 1):
        with pytest.raises(ApprovalError, match="Wrong passphrase"):
            leads.verify("Lee Lead", "nope")
    leads.verify("Lee Lead", PASS)
    with pytest.raises(ApprovalError, match=f"{MAX_TRIES - 1} more wrong"):
        leads.verify("Lee Lead", "nope")


def test_with_no_lead_enrolled_nobody_is_a_lead_and_the_message_says_how_to_enrol(tmp_path: Path) -> None:
    empty = Leads(tmp_path / "none" / LEADS_FILE)
    with pytest.raises(ApprovalError, match=r"No lead is enrolled.*copilot leads add NAME"):
        empty.verify("Lee Lead", PASS)
    empty.close()


def test_an_unknown_lead_is_named(leads: Leads) -> None:
    with pytest.raises(ApprovalError, match="No lead named 'Bo' is enrolled"):
        leads.verify("Bo", PASS)


def test_once_a_lead_exists_only_a_verified_lead_adds_or_removes_one(leads: Leads) -> None:
    with pytest.raises(CopilotError, match="Only an enrolled lead may enrol Bo"):
        leads.add("Bo", OTHER, (), None)
    with pytest.raises(CopilotError, match="Only an enrolled lead may enrol Bo"):
        leads.add("Bo", OTHER, (), at_desk("Lee Lead", "lead"))
    lee = leads.verify("Lee Lead", PASS)
    leads.add("Bo  Second", OTHER, ("bo", " bo "), lee)
    assert [(lead.name, lead.logins) for lead in leads.enrolled()] == [("Bo Second", ("bo",)), ("Lee Lead", ("lee",))]
    with pytest.raises(CopilotError, match="already enrolled"):
        leads.add("LEE LEAD", OTHER, (), lee)
    with pytest.raises(CopilotError, match="Only an enrolled lead may remove Bo Second"):
        leads.remove("Bo Second", at_desk("Ana", "rep"))
    leads.remove("bo second", lee)
    assert [lead.name for lead in leads.enrolled()] == ["Lee Lead"]


def test_passphrases_too_short_or_equal_to_the_name_are_refused(tmp_path: Path) -> None:
    store = Leads(tmp_path / LEADS_FILE)
    with pytest.raises(CopilotError, match="too short: use at least 10 characters"):
        store.add("Lee", "short", (), None)
    with pytest.raises(CopilotError, match="must not be the name itself"):
        store.add("Lee Leadership", "lee leadership", (), None)
    assert store.enrolled() == []
    store.close()


def test_a_changed_passphrase_replaces_the_old_one(leads: Leads) -> None:
    leads.change(leads.verify("Lee Lead", PASS), OTHER)
    assert leads.verify("Lee Lead", OTHER).verified
    with pytest.raises(ApprovalError, match="Wrong passphrase"):
        leads.verify("Lee Lead", PASS)


# The Desk's two-person rule


def test_a_rep_and_a_verified_lead_complete_the_approval_and_the_audit_log_says_how_each_was_known(
    desk: Desk, leads: Leads, tmp_path: Path
) -> None:
    action_id = refund_above_limit(desk)
    waiting = desk.approve(action_id)
    assert (waiting.state, waiting.message) == ("awaiting_second", "Waiting for a lead to approve as well.")
    done = desk.approve(action_id, leads.verify("Lee Lead", PASS))
    assert done.state == "approved" and done.runnable
    assert [(a.role, a.name, a.method) for a in done.approvals] == [
        ("rep", "Ana Rep", "desk"),
        ("lead", "Lee Lead", "passphrase"),
    ]
    records = [r for r in AuditLog(tmp_path / AUDIT_FILE).records() if r.kind == "approved"]
    assert [(r.actor, r.result["role"], r.result["authenticated"]) for r in records] == [
        ("Ana Rep", "rep", "desk"),
        ("Lee Lead", "lead", "passphrase"),
    ]
    assert {r.result["desk_login"] for r in records} == {os_login()}
    assert [a.method for a in desk.get(action_id).approvals] == ["desk", "passphrase"], "kept across a reopen"


def test_an_unverified_second_approval_is_refused(desk: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    action_id = refund_above_limit(desk)
    desk.approve(action_id)
    for variable in ("LOGNAME", "USER", "LNAME", "USERNAME"):  # another person's login, as getpass reads it
        monkeypatch.setenv(variable, "lee")
    other_desk_person = at_desk("Lee Lead", "lead")
    with pytest.raises(ApprovalError, match="waits for a lead's approval, given with the lead's own passphrase"):
        desk.approve(action_id, other_desk_person)
    assert desk.get(action_id).state == "awaiting_second"


def test_approvals_stored_before_they_recorded_how_still_read(desk: Desk, tmp_path: Path) -> None:
    action_id = refund_above_limit(desk)
    desk.approve(action_id)
    with sqlite3.connect(tmp_path / "actions.sqlite3") as db:
        db.execute("UPDATE actions SET approvals = ? WHERE id = ?", ('[["rep", "Ana Rep"]]', action_id))
    (old,) = desk.get(action_id).approvals
    assert (old.role, old.name, old.method, old.verified) == ("rep", "Ana Rep", "unrecorded", False)


# `copilot leads`


def leads_command(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COPILOT_HOME": str(home)}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "leads", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def test_the_leads_command_adds_lists_changes_and_removes(tmp_path: Path) -> None:
    added = leads_command(tmp_path, "add", "Lee Lead", "--login", "lee", stdin=f"{PASS}\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "Enrolled Lee Lead (logins: lee)"
    refused = leads_command(tmp_path, "add", "Bo", stdin=f"{OTHER}\n")
    assert refused.returncode == 2 and "only one of them may add Bo (--by LEAD" in refused.stderr
    by = leads_command(tmp_path, "add", "Bo", "--by", "Lee Lead", stdin=f"{PASS}\n{OTHER}\n")
    assert by.returncode == 0 and "without --login" in by.stderr
    listed = leads_command(tmp_path, "list")
    assert [line.split("  ")[0] for line in listed.stdout.splitlines()] == ["Bo", "Lee Lead"]
    assert "logins: lee" in listed.stdout and PASS not in listed.stdout
    changed = leads_command(tmp_path, "passphrase", "Bo", stdin=f"{OTHER}\n{PASS} too\n")
    assert changed.returncode == 0 and changed.stdout.strip() == "Changed the passphrase of Bo"
    wrong = leads_command(tmp_path, "remove", "Lee Lead", "--by", "Bo", stdin=f"{OTHER}\n")
    assert wrong.returncode == 2 and "Wrong passphrase for Bo. 4 more wrong tries" in wrong.stderr
    removed = leads_command(tmp_path, "remove", "Lee Lead", "--by", "Bo", stdin=f"{PASS} too\n")
    assert removed.returncode == 0 and removed.stdout.strip() == "Removed Lee Lead"
    assert leads_command(tmp_path, "list").stdout.split("  ")[0] == "Bo"
    short = leads_command(tmp_path / "fresh", "add", "Cy", stdin="short\n")
    assert short.returncode == 2 and "too short" in short.stderr and "Traceback" not in short.stderr
    missing = leads_command(tmp_path / "fresh", "add", "Cy")
    assert missing.returncode == 2 and "expected as a line on standard input" in missing.stderr
    none = leads_command(tmp_path / "fresh", "list")
    assert "No lead is enrolled" in none.stdout and "copilot leads add NAME" in none.stdout
