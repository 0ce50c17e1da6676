"""A team's audit log in its PostgreSQL database: one chain that every desk appends to, with the signed head in a
table of its own (``audit_heads``), the second place docs/security.md asks for.

The hash chain, the record signatures and the head's statement are those of a desk's log (``audit.py``), so one
verification reads both. What differs is who keeps appends in order: each append is one transaction that first
locks the log's head row (``SELECT ... FOR UPDATE``), checks the newest record is the one the head signed, writes
the next record and the new signed head, and commits; a second desk's append waits on the row lock, so two apps
never link to the same predecessor and the head never claims a record that is not committed.

Every desk of the team signs with the team's key (``team-audit.key`` in ``COPILOT_AUDIT_KEY_DIR``, else in the
folder beside the data folder): the first append anywhere makes it; an admin copies it to the other desks.
"""

from __future__ import annotations

import json
import os
import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import Connection, Engine, Row, insert, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from base.errors import CopilotError
from copilot.actions.audit import (
    GENESIS,
    KEY_DIR_ENV,
    KINDS,
    AuditKeys,
    AuditRecord,
    Head,
    KeySet,
    Verification,
    _check_against_head,
    _check_rows,
    _content,
    _decode,
    _digest,
    _now,
    _signed_place,
    export_rows,
)
from copilot.records.database import shown
from copilot.records.team_tables import audit_heads, audit_records

TEAM_KEY_FILE = "team-audit.key"
_FIRST_APPEND = 0x6175646974
"""Advisory lock key held by a desk writing the team log's first head (``audit`` in ASCII)."""


def team_keys(home: Path) -> AuditKeys:
    """Where this desk keeps the team's audit key: a file, never the OS keyring (an admin copies it between desks)."""
    chosen = os.environ.get(KEY_DIR_ENV)
    folder = Path(chosen).expanduser() if chosen else home.resolve().with_name(f"{home.resolve().name}-keys")
    return AuditKeys(folder / TEAM_KEY_FILE, None)


_ROW = tuple(c for c in audit_records.c if c.name != "log")
"""A record's columns in the order of a desk's ``records`` table, so ``audit.py`` checks them as they come."""


class TeamAuditLog:
    """The team's append-only, signed log; appends from any number of desks form one chain."""

    def __init__(self, engine: Engine, keys: AuditKeys) -> None:
        """``engine``: the team database, already upgraded by the records' migrations (revision 0004)."""
        self._engine = engine
        self.keys = keys

    def append(
        self,
        *,
        actor: str,
        conversation_id: str,
        kind: str,
        action_id: str,
        tool: str,
        arguments: dict[str, Any],
        result: dict[str, Any] | None = None,
        citations: tuple[str, ...] = (),
    ) -> AuditRecord:
        """Record one step in one transaction. Raises CopilotError, recording nothing, when the log no longer
        matches its signed head or this desk lacks the team's key."""
        if kind not in KINDS:
            raise ValueError(f"audit kind {kind!r} is not one of {', '.join(KINDS)}")
        try:
            with self._engine.begin() as db:
                head, key = self._locked_head(db)
                draft = AuditRecord(
                    head.seq + 1,
                    _now(),
                    actor,
                    conversation_id,
                    kind,
                    action_id,
                    tool,
                    arguments,
                    result or {},
                    tuple(citations),
                    head.root,
                    "",
                )
                chained = replace(draft, hash=_digest(head.root, _content(draft)))
                record = replace(
                    chained,
                    key_id=key.current,
                    signature=key.sign(_signed_place(head.log_id, chained.seq, chained.hash)),
                )
                db.execute(insert(audit_records).values(log=head.log_id, **_columns(record)))
                signed = Head(head.log_id, record.seq, record.hash, 0, record.at, key.current)
                db.execute(
                    update(audit_heads).where(audit_heads.c.log == head.log_id).values(**_head_columns(signed, key))
                )
        except SQLAlchemyError as exc:
            raise CopilotError(
                f"the team audit log in {shown(self._engine.url)} could not be written ({exc.__class__.__name__}); "
                "the step was not recorded. Check database_url in settings.json and that the server is reachable"
            ) from None
        return record

    def _locked_head(self, db: Connection) -> tuple[Head, KeySet]:
        """The log's head row, locked until the transaction ends (the first append anywhere makes key and head)."""
        row = db.execute(select(audit_heads).with_for_update()).first()
        if row is None:
            # Nothing to lock yet: desks starting the log at once queue on an advisory lock instead.
            db.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _FIRST_APPEND})
            row = db.execute(select(audit_heads).with_for_update()).first() or self._start(db)
        loaded = self.keys.load()
        head = Head(row.log, row.seq, row.root, row.unkeyed, row.at, row.key_id, row.signature)
        fix = "nothing more is recorded; an admin checks it with `copilot audit verify` (docs/security.md)"
        if loaded is None:
            raise CopilotError(
                f"this desk has no copy of the team's audit key (looked in {self.keys.where()}): nothing is recorded "
                "until an admin copies team-audit.key there from a desk that has it (docs/deployment.md)"
            )
        key = loaded[0]
        if key.log_id != head.log_id or not key.verifies(head.key_id, head.message(), head.signature):
            raise CopilotError(f"the team audit log and the key in {self.keys.where()} are not the same log's; {fix}")
        newest = db.execute(
            select(audit_records.c.seq, audit_records.c.hash)
            .where(audit_records.c.log == head.log_id)
            .order_by(audit_records.c.seq.desc())
            .limit(1)
        ).first()
        tail = (newest[0], newest[1]) if newest else (0, GENESIS)
        if tail != (head.seq, head.root):
            raise CopilotError(f"the team audit log does not match its signed head; {fix}")
        return head, key

    def _start(self, db: Connection) -> Row[Any]:
        """The first append of the team: this desk's key (made now if it has none) signs the empty log's head."""
        loaded = self.keys.load()
        key = loaded[0] if loaded else KeySet.new(uuid.uuid4().hex)
        if loaded is None:
            self.keys.save(key, new=True)
        genesis = Head(key.log_id, 0, GENESIS, 0, _now(), key.current)
        db.execute(insert(audit_heads).values(log=key.log_id, **_head_columns(genesis, key)))
        return db.execute(select(audit_heads).with_for_update()).one()

    def records(self, action_id: str | None = None) -> list[AuditRecord]:
        """Every readable record in seq order (of one action, when named)."""
        query = select(*_ROW).order_by(audit_records.c.seq)
        if action_id is not None:
            query = query.where(audit_records.c.action_id == action_id)
        with self._engine.connect() as db:
            rows = [tuple(r) for r in db.execute(query)]
        return [record for row in rows if (record := _decode(row)[0]) is not None]

    def verify(self) -> list[str]:
        """Problems found, in plain words (empty: the chain is whole, every signature and the head hold)."""
        return list(self.verification().problems)

    def verification(self) -> Verification:
        """What ``copilot audit verify`` reports: every problem named, nothing written, and never an exception (an
        unreachable database or a missing key is a problem like any other)."""
        problems: list[str] = []
        notes: list[str] = []
        try:
            loaded = self.keys.load()
        except CopilotError as exc:
            loaded = None
            problems.append(str(exc))
        try:
            head_row, rows = self._snapshot()
        except SQLAlchemyError as exc:
            return Verification(0, (self._unreadable(exc),), (), None)
        if head_row is None:
            found = ["the team audit log has no signed head (audit_heads is empty)"] if rows else []
            return Verification(len(rows), tuple(found), (), None)
        head = Head(
            head_row.log,
            head_row.seq,
            head_row.root,
            head_row.unkeyed,
            head_row.at,
            head_row.key_id,
            head_row.signature,
        )
        key = loaded[0] if loaded else None
        if key is None and not problems:
            problems.append(f"the team's audit key is not in {self.keys.where()}: signatures cannot be checked")
        elif key is not None and (
            key.log_id != head.log_id or not key.verifies(head.key_id, head.message(), head.signature)
        ):
            problems.append("the signed head (audit_heads) does not carry this log's signature (forged)")
        problems.extend(_check_rows(rows, key, head.log_id, 0, notes))
        last = max((r[0] for r in rows if isinstance(r[0], int)), default=0)
        problems.extend(_check_against_head(rows, head, last, notes))
        return Verification(len(rows), tuple(problems), tuple(notes), head.seq)

    def export(self, out: TextIO) -> int:
        """Write every record as one JSON line, as ``copilot audit export`` does for a desk's log; returns how many."""
        try:
            _, rows = self._snapshot()
        except SQLAlchemyError as exc:
            raise CopilotError(self._unreadable(exc)) from None
        return export_rows(rows, out)

    def _snapshot(self) -> tuple[Row[Any] | None, list[tuple[object, ...]]]:
        """The head and every record, read in one repeatable-read transaction so they are of the same moment."""
        with self._engine.connect().execution_options(isolation_level="REPEATABLE READ") as db, db.begin():
            head = db.execute(select(audit_heads)).first()
            rows = [tuple(r) for r in db.execute(select(*_ROW).order_by(audit_records.c.seq))]
        return head, rows

    def _unreadable(self, exc: SQLAlchemyError) -> str:
        return (
            f"the team audit log in {shown(self._engine.url)} cannot be read ({exc.__class__.__name__}); check "
            "database_url in settings.json and that the server is reachable"
        )


def _head_columns(head: Head, key: KeySet) -> dict[str, Any]:
    """A head's row, signed with ``key``."""
    return {
        "seq": head.seq,
        "root": head.root,
        "unkeyed": head.unkeyed,
        "at": head.at,
        "key_id": head.key_id,
        "signature": key.sign(head.message()),
    }


def _columns(record: AuditRecord) -> dict[str, Any]:
    """A record as the table keeps it: JSON texts written as a desk's log writes them."""
    return {
        "seq": record.seq,
        "at": record.at,
        "actor": record.actor,
        "conversation_id": record.conversation_id,
        "kind": record.kind,
        "action_id": record.action_id,
        "tool": record.tool,
        "arguments": json.dumps(record.arguments, sort_keys=True),
        "result": json.dumps(record.result, sort_keys=True),
        "citations": json.dumps(list(record.citations)),
        "prev_hash": record.prev_hash,
        "hash": record.hash,
        "key_id": record.key_id,
        "signature": record.signature,
    }
