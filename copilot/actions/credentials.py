"""Who approves: the desk's own person, and leads proven by a passphrase of their own.

A two-person rule is only as good as the second person's identity. A lead is enrolled once (``copilot
leads add``) with a passphrase stored as an argon2id hash in ``leads.sqlite3`` in the data folder (never the
passphrase itself), and approves by typing it. Five wrong passphrases lock that lead's approvals for five
minutes; the count and the lock live in the same file, so a restart does not reset them.

The Desk takes an ``Approver``, never a name: an Approver is made only here, by ``Leads.verify`` (a
passphrase checked) or ``at_desk`` (the person this desk's settings and OS login name, with no credential),
and says which of the two it is, so a typed name can never pass for a verified lead.
"""

from __future__ import annotations

import getpass
import json
import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from base.errors import ApprovalError, CopilotError
from base.sqlite import open_db

LEADS_FILE = "leads.sqlite3"
LEAD = "lead"
"""The role an enrolled credential proves."""
MAX_TRIES = 5
"""Wrong passphrases in a row after which the lead's approvals are locked."""
LOCK_FOR = timedelta(minutes=5)
MIN_PASSPHRASE = 10
"""Characters a passphrase needs at least: a lead types it in front of others, so it should be a phrase."""
ENROL_HINT = "An admin enrols a lead on this computer with: copilot leads add NAME"
Method = Literal["desk", "passphrase"]
"""How an approver's identity is known: ``desk`` (the name this desk's settings or OS login give, no
credential) or ``passphrase`` (an enrolled lead's passphrase, checked against its argon2id hash)."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS leads (
    name TEXT PRIMARY KEY COLLATE NOCASE,
    hash TEXT NOT NULL,
    logins TEXT NOT NULL,
    enrolled_at TEXT NOT NULL,
    failures INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT
);
"""
_MINT = object()
"""Held only by this module: an Approver made anywhere else is refused."""


def spaced(text: str) -> str:
    """A name as stored and looked up: no leading, trailing or repeated spaces."""
    return " ".join(text.split())


def person_key(text: str) -> str:
    """A name or login as compared between approvals: case and runs of spaces do not make another person."""
    return spaced(text).casefold()


def os_login() -> str:
    """The OS account this process runs as (empty when the system cannot say)."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # no login variable and no password-database entry (some containers)
        return ""


@dataclass(frozen=True)
class Approver:
    """A person whose approval the Desk accepts, and how that person was identified.

    Made only by ``Leads.verify`` and ``at_desk``; constructing one elsewhere raises ``TypeError``."""

    name: str
    role: str
    method: Method
    logins: tuple[str, ...]
    """The OS logins this person is known by: the desk's login, or those enrolled with the lead."""
    _mint: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._mint is not _MINT:
            raise TypeError("an Approver comes from Leads.verify (a checked passphrase) or at_desk, not a typed name")

    @property
    def verified(self) -> bool:
        """Whether a credential proved who this is (a desk's person is only named)."""
        return self.method == "passphrase"


def at_desk(name: str, role: str) -> Approver:
    """The person at this desk: named by the settings' ``user_name`` (else the OS login), not proven."""
    login = os_login()
    return Approver(name or login, role, "desk", (login,) if login else (), _MINT)


@dataclass(frozen=True)
class Lead:
    """One enrolled lead, as ``copilot leads list`` shows it (never the hash)."""

    name: str
    logins: tuple[str, ...]
    enrolled_at: str
    locked_until: datetime | None
    """When a lock after wrong passphrases ends (None: not locked now)."""


def local_time(moment: datetime) -> str:
    """A moment as the people at this desk read it: their local time, with its zone."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S %Z")


class Leads:
    """The enrolled leads of this data folder: their argon2id hashes, logins, wrong tries and locks."""

    def __init__(self, path: Path, clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.path = path
        self._clock = clock
        self._hasher = PasswordHasher()  # argon2id with RFC 9106's low-memory parameters (64 MiB, t=3)
        self._lock = threading.Lock()
        self._db: sqlite3.Connection | None = None
        """Opened on first use: a damaged file then refuses every lead, and the app still starts."""

    def close(self) -> None:
        if self._db is not None:
            self._db.close()

    @contextmanager
    def _using(self) -> Iterator[sqlite3.Connection]:
        """The database, under this object's lock; a file that is not (or no longer) the leads' database
        proves nobody, with a message saying what to do."""
        with self._lock:
            try:
                if self._db is None:
                    self._db = open_db(self.path, _SCHEMA)
                yield self._db
            except sqlite3.DatabaseError as exc:
                raise ApprovalError(
                    f"{self.path}: cannot be read as the leads' database ({exc}), so nobody can give a lead's "
                    "approval; move it away and enrol the leads again (copilot leads add NAME)"
                ) from None

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """One transaction holding SQLite's write lock, so tries counted by two processes never overwrite
        each other; it commits also when the block raises (a wrong try must be counted)."""
        with self._using() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            finally:
                db.execute("COMMIT")

    def enrolled(self) -> list[Lead]:
        """Every enrolled lead, by name."""
        with self._using() as db:
            rows = db.execute("SELECT name, logins, enrolled_at, locked_until FROM leads ORDER BY name").fetchall()
        now = self._clock()
        return [
            Lead(
                name,
                tuple(json.loads(logins)),
                enrolled_at,
                until if (until := _moment(locked)) and until > now else None,
            )
            for name, logins, enrolled_at, locked in rows
        ]

    def verify(self, name: str, passphrase: str) -> Approver:
        """The lead ``name``, proven by ``passphrase``. A wrong one is counted; the fifth in a row locks the
        lead's approvals for ``LOCK_FOR``. Raises ApprovalError saying what is wrong and what to do."""
        with self._writing() as db:
            if db.execute("SELECT 1 FROM leads LIMIT 1").fetchone() is None:
                raise ApprovalError(f"No lead is enrolled, so nobody can give a lead's approval. {ENROL_HINT}")
            row = db.execute(
                "SELECT name, hash, logins, failures, locked_until FROM leads WHERE name = ?", (spaced(name),)
            ).fetchone()
            if row is None:
                raise ApprovalError(f"No lead named {spaced(name)!r} is enrolled (copilot leads list names them)")
            name, stored, logins, failures, locked = row
            now = self._clock()
            if (until := _moment(locked)) is not None and until > now:
                raise ApprovalError(_locked(name, until))
            try:
                self._hasher.verify(stored, passphrase)
            except VerifyMismatchError:
                failures += 1
                if failures >= MAX_TRIES:
                    until = now + LOCK_FOR
                    db.execute(
                        "UPDATE leads SET failures = 0, locked_until = ? WHERE name = ?", (until.isoformat(), name)
                    )
                    raise ApprovalError(_locked(name, until)) from None
                db.execute("UPDATE leads SET failures = ?, locked_until = NULL WHERE name = ?", (failures, name))
                left = MAX_TRIES - failures
                raise ApprovalError(
                    f"Wrong passphrase for {name}. {left} more wrong {'try locks' if left == 1 else 'tries lock'} "
                    f"{name}'s approvals for {_minutes(LOCK_FOR)}."
                ) from None
            except (VerificationError, InvalidHashError):
                raise ApprovalError(
                    f"{self.path}: the stored passphrase hash of {name} cannot be read; another lead removes "
                    f"and enrols {name} again (copilot leads remove / add)"
                ) from None
            db.execute("UPDATE leads SET failures = 0, locked_until = NULL WHERE name = ?", (name,))
            if self._hasher.check_needs_rehash(stored):  # stronger parameters since it was stored
                db.execute("UPDATE leads SET hash = ? WHERE name = ?", (self._hasher.hash(passphrase), name))
        return Approver(name, LEAD, "passphrase", tuple(json.loads(logins)), _MINT)

    def add(self, name: str, passphrase: str, logins: tuple[str, ...], by: Approver | None) -> Lead:
        """Enrol ``name``. Once any lead is enrolled, only a verified lead (``by``) may enrol another, so
        a rep cannot make themselves a lead while real leads exist."""
        name = spaced(name)
        if not name:
            raise CopilotError("A lead needs a name (as the audit log will record it)")
        self._check_passphrase(name, passphrase)
        digest = self._hasher.hash(passphrase)
        clean = tuple(dict.fromkeys(login.strip() for login in logins if login.strip()))
        with self._writing() as db:
            if db.execute("SELECT 1 FROM leads LIMIT 1").fetchone() is not None:
                _authorised(by, f"enrol {name}")
            if db.execute("SELECT 1 FROM leads WHERE name = ?", (name,)).fetchone() is not None:
                raise CopilotError(f"{name} is already enrolled; copilot leads passphrase {name!r} changes it")
            enrolled = self._clock().isoformat(timespec="seconds")
            db.execute(
                "INSERT INTO leads (name, hash, logins, enrolled_at) VALUES (?, ?, ?, ?)",
                (name, digest, json.dumps(clean), enrolled),
            )
        return Lead(name, clean, enrolled, None)

    def remove(self, name: str, by: Approver) -> None:
        """Remove ``name`` (any verified lead may, also the lead themselves)."""
        _authorised(by, f"remove {name}")
        with self._writing() as db:
            if db.execute("DELETE FROM leads WHERE name = ?", (spaced(name),)).rowcount == 0:
                raise CopilotError(f"No lead named {spaced(name)!r} is enrolled (copilot leads list names them)")

    def change(self, lead: Approver, passphrase: str) -> None:
        """Give the verified ``lead`` a new passphrase."""
        _authorised(lead, f"change the passphrase of {lead.name}")
        self._check_passphrase(lead.name, passphrase)
        digest = self._hasher.hash(passphrase)
        with self._writing() as db:
            db.execute(
                "UPDATE leads SET hash = ?, failures = 0, locked_until = NULL WHERE name = ?", (digest, lead.name)
            )

    @staticmethod
    def _check_passphrase(name: str, passphrase: str) -> None:
        if len(passphrase.strip()) < MIN_PASSPHRASE:
            raise CopilotError(
                f"The passphrase of {name} is too short: use at least {MIN_PASSPHRASE} characters (a few words)"
            )
        if person_key(passphrase) == person_key(name):
            raise CopilotError(f"The passphrase of {name} must not be the name itself")


def _authorised(by: Approver | None, what: str) -> None:
    if by is None or not by.verified or by.role != LEAD:
        raise CopilotError(f"Only an enrolled lead may {what}: give a lead's name with --by and that lead's passphrase")


def _moment(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _minutes(span: timedelta) -> str:
    minutes = round(span.total_seconds() / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def _locked(name: str, until: datetime) -> str:
    return (
        f"Approval by {name} is locked after {MAX_TRIES} wrong passphrases, until {local_time(until)}. "
        "Try again then, or ask another lead."
    )
