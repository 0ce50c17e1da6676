"""The action desk and its audit log where the data folder's settings put them: the folder's own files on one desk,
the team's PostgreSQL database in team mode (docs/deployment.md). The app, the command line and ``copilot audit``
open them only here, so a desk never writes one log while an admin checks another.

In team mode each desk still keeps its own ``actions.sqlite3`` (what it proposed and approved, for its panel), but a
write runs only under the desk's claim on its idempotency key (``ClaimedSystems``), so two desks approving the same
action give one effect, and every step goes to the team's one audit chain (``TeamAuditLog``). The records follow
the same settings in copilot/records/folder.py.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import TextIO

from sqlalchemy import Engine

from base.errors import CopilotError
from connectors.systems import Systems
from copilot.actions.approvals import ACTIONS_FILE, Desk
from copilot.actions.audit import AUDIT_FILE, AuditLog, Verification, verification
from copilot.actions.claims import ActionClaims, ClaimedSystems
from copilot.actions.team_audit import TeamAuditLog, team_keys
from copilot.records.database import engine_for, upgrade
from copilot.settings import Settings, TeamServers


def open_desk(folder: Path, settings: Settings, systems: Systems) -> Desk:
    """The desk of the data folder ``folder``: its audit log and, in team mode, the team's claims on actions."""
    team = settings.team()
    audit: AuditLog | TeamAuditLog
    if team is None:
        audit = AuditLog(folder / AUDIT_FILE)
    else:
        engine = _team_engine(team)
        audit = TeamAuditLog(engine, team_keys(folder))
        systems = ClaimedSystems(systems.systems, ActionClaims(engine, desk_name(folder, settings)))
    return Desk(folder / ACTIONS_FILE, audit, systems, settings.user(), settings.role)


def open_audit(folder: Path, settings: Settings) -> AuditLog | TeamAuditLog:
    """The audit log this desk appends to: ``audit.sqlite3`` here, or the team's log."""
    team = settings.team()
    return AuditLog(folder / AUDIT_FILE) if team is None else TeamAuditLog(_team_engine(team), team_keys(folder))


def audit_verification(folder: Path, settings: Settings) -> Verification:
    """``copilot audit verify``: this desk's log, or the team's; every problem named, never an exception."""
    team = settings.team()
    if team is None:
        return verification(folder / AUDIT_FILE)  # read as it is: opening the log would create or repair it
    try:
        engine = _team_engine(team)
    except CopilotError as exc:
        return Verification(0, (str(exc),), (), None)
    return TeamAuditLog(engine, team_keys(folder)).verification()


def export_audit(folder: Path, settings: Settings, out: TextIO) -> int:
    """``copilot audit export``: every record of this desk's log, or the team's, as JSON lines."""
    return open_audit(folder, settings).export(out)


def rotate_audit_key(folder: Path, settings: Settings) -> str:
    """Sign this desk's log with a new key from now on; where the key is. A team's key is every desk's, so it is
    not rotated from one desk."""
    audit = open_audit(folder, settings)
    if isinstance(audit, TeamAuditLog):
        raise CopilotError(
            "storage is 'team': the team's audit key is shared by every desk and is not rotated from one; "
            "docs/deployment.md says how the key is kept"
        )
    return audit.rotate_key()


def desk_name(folder: Path, settings: Settings) -> str:
    """How other desks see this one when it claims an action: the rep, the machine, and which data folder (two
    folders on one machine are two desks)."""
    place = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:6]
    return f"{settings.user()}@{socket.gethostname()}#{place}"


def _team_engine(team: TeamServers) -> Engine:
    """The team database, brought up to the newest schema (the audit and claims tables are revision 0004)."""
    engine = engine_for(team.database_url)
    upgrade(engine)
    return engine
