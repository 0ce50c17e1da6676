"""The records of a data folder as its settings say: where they are, whose desk, redacted or not, kept how long."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from base.errors import CopilotError, RecordsError
from copilot.records.columns import now
from copilot.records.database import DEFAULT_FILE, sqlite_url
from copilot.records.store import Purged, Records
from copilot.settings import SETTINGS_FILE, Settings


def records_url(folder: Path, settings: Settings) -> str:
    """The admin's ``records_url``; else the team's database in team mode, or the SQLite file in the data folder."""
    if settings.records_url:
        return settings.records_url
    try:
        team = settings.team()
    except CopilotError as exc:
        raise RecordsError(str(exc)) from None
    return team.database_url if team is not None else sqlite_url(folder / DEFAULT_FILE)


def retention_days(folder: Path, settings: Settings) -> int:
    days = settings.records_retention_days
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise RecordsError(
            f"{folder / SETTINGS_FILE}: records_retention_days must be a whole number of days, 1 or more "
            f"(it is {days!r}); fix it or delete the line to keep records 90 days"
        )
    return days


def cutoff(days: int, at: datetime | None = None) -> datetime:
    """The time before which records are older than ``days``."""
    return (at or now()) - timedelta(days=days)


def open_records(folder: Path, settings: Settings) -> tuple[Records, Purged]:
    """This desk's records, upgraded, with what the retention period no longer allows already deleted."""
    days = retention_days(folder, settings)
    records = Records.open(records_url(folder, settings), settings.user(), settings.redact_records)
    return records, records.purge(cutoff(days))
