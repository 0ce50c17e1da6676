"""Who runs an action when several desks share one team database: the first desk to claim its idempotency key.

Two reps may approve the same proposal (the same conversation open on two desks, or a lead and a rep) and both
desks would call the tool. The claim is one INSERT whose primary key is the idempotency key, so the database, not
a lock in any one process, lets exactly one desk through; every other desk is told who has it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError

from base.errors import ApprovalError
from copilot.records.database import shown
from copilot.records.team_tables import action_claims


@dataclass(frozen=True)
class Claim:
    """Whose run an action is."""

    key: str
    """The idempotency key (the proposal id)."""
    desk: str
    """The desk that claimed it first."""
    ours: bool
    """Whether that is the desk asking: only then may it call the tool."""
    outcome: str | None
    """What the claiming desk recorded after the run (None: still running, or stopped before saying)."""


class ActionClaims:
    """The team's claims on actions, in its PostgreSQL database (revision 0004's ``action_claims``)."""

    def __init__(self, engine: Engine, desk: str) -> None:
        self._engine = engine
        self.desk = desk

    def claim(self, key: str, tool: str) -> Claim:
        """Claim the run of action ``key``; a key another desk claimed first stays theirs."""
        at = datetime.now(UTC).isoformat()
        row = {"key": key, "desk": self.desk, "tool": tool, "claimed_at": at}
        with self._failing(), self._engine.begin() as db:
            inserted = db.execute(
                insert(action_claims).values(**row).on_conflict_do_nothing().returning(action_claims.c.key)
            ).first()
            desk, outcome = db.execute(
                select(action_claims.c.desk, action_claims.c.outcome).where(action_claims.c.key == key)
            ).one()
        return Claim(key, str(desk), inserted is not None, outcome)

    def settle(self, key: str, outcome: str) -> None:
        """Record how this desk's run of ``key`` ended (done, failed, unknown), for the desks that were refused."""
        with self._failing(), self._engine.begin() as db:
            db.execute(
                update(action_claims)
                .where(action_claims.c.key == key, action_claims.c.desk == self.desk)
                .values(outcome=outcome)
            )

    @contextmanager
    def _failing(self) -> Iterator[None]:
        """A database error becomes an ApprovalError naming the database: the action is not run."""
        try:
            yield
        except SQLAlchemyError as exc:
            raise ApprovalError(
                f"the team database {shown(self._engine.url)} could not be asked who runs this action "
                f"({exc.__class__.__name__}); nothing was run: try again when it is reachable"
            ) from None
