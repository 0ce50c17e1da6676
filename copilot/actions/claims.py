"""Who runs an action when several desks share one team database: the first desk to claim its idempotency key.

Two reps may approve the same proposal (the same conversation open on two desks, or a lead and a rep) and both
desks would call the tool. The claim is one INSERT whose primary key is the idempotency key, so the database, not
a lock in any one process, lets exactly one desk through; every other desk is told who has it.

``ClaimedSystems`` is how a team desk's ``Desk`` (approvals.py) calls the systems: each write that carries an
idempotency key (the Desk gives one to every tool that takes it) runs only under this desk's claim on that key.
A write tool that takes no key cannot be told apart from a new request of the same call, so it is not claimed:
connect systems whose writes take keys (docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.exc import SQLAlchemyError

from base.errors import ApprovalError, SystemUnavailable, ToolRefused
from connectors.systems import System, Systems
from copilot.records.database import shown
from copilot.records.team_tables import action_claims

log = logging.getLogger("copilot")


@dataclass(frozen=True)
class Claim:
    """Whose run an action is."""

    key: str
    """The idempotency key (the proposal id)."""
    desk: str
    """The desk that claimed it first."""
    ours: bool
    """Whether that is the desk asking (claimed now, or on an earlier try of the same run): only then may it call
    the tool."""
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
        return Claim(key, str(desk), inserted is not None or desk == self.desk, outcome)

    def settle(self, key: str, outcome: str) -> None:
        """Record how this desk's run of ``key`` ended (done, failed, unknown), for the desks that were refused."""
        with self._failing(), self._engine.begin() as db:
            db.execute(
                update(action_claims)
                .where(action_claims.c.key == key, action_claims.c.desk == self.desk)
                .values(outcome=outcome)
            )

    def close(self) -> None:
        """Close the pooled connections to the team database (a later claim opens new ones)."""
        self._engine.dispose()

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


class ClaimedSystems(Systems):
    """The connected systems as a team desk calls them: a keyed write runs only under this desk's claim on its key,
    and its outcome is written on the claim for the desks that were refused."""

    def __init__(self, systems: list[System], claims: ActionClaims) -> None:
        super().__init__(systems)
        self.claims = claims

    async def call(self, tool: str, arguments: dict[str, Any]) -> dict[str, Any]:
        """Call ``tool``; a keyed write another desk claimed first is refused (ToolRefused naming that desk)."""
        key = arguments.get("idempotency_key")
        info = await self.info(tool)
        if info is None or info.read_only or arguments.get("dry_run") or not isinstance(key, str) or not key:
            return await super().call(tool, arguments)
        try:
            claim = await asyncio.to_thread(self.claims.claim, key, tool)
        except ApprovalError as exc:  # nothing was sent: the Desk keeps the approval and the rep may try again
            raise SystemUnavailable(str(exc)) from None
        if not claim.ours:
            how = f"; it ended {claim.outcome}" if claim.outcome else ", and has not said how it ended yet"
            raise ToolRefused(
                f"{claim.desk} ran this action first{how}: it is not run again here (one team, one run of each action)"
            )
        outcome = "unknown"  # a reply lost, unreadable or cancelled: the Desk settles it by reading the system
        try:
            result = await super().call(tool, arguments)
            outcome = "done"
            return result
        except ToolRefused:
            outcome = "failed"
            raise
        except SystemUnavailable:
            outcome = "not delivered"
            raise
        finally:
            await self._settle(key, outcome)

    async def aclose(self) -> None:
        await super().aclose()
        self.claims.close()

    async def _settle(self, key: str, outcome: str) -> None:
        """Write the outcome on the claim; a database that fails now loses only this note, never the result."""
        try:
            await asyncio.to_thread(self.claims.settle, key, outcome)
        except ApprovalError as exc:
            log.warning("the outcome of %s was not written on its claim: %s", key, exc)
