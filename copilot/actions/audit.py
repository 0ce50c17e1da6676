"""The audit log of actions: every proposal, approval, rejection, execution and result, in ``audit.sqlite3``.

Records are appended, never changed. Each carries the SHA-256 of its own content and of the record
before it, so editing any record breaks its hash and deleting one breaks the chain (a deleted last
record shows as a gap against SQLite's own row counter). ``copilot audit verify`` reads the whole
chain; ``copilot audit export`` writes it as JSONL for people and tools outside the app.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from base.sqlite import open_db

AUDIT_FILE = "audit.sqlite3"
GENESIS = "0" * 64

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    action_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    arguments TEXT NOT NULL,
    result TEXT NOT NULL,
    citations TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
"""

KINDS = ("proposed", "approved", "rejected", "executing", "executed", "failed", "unknown", "reconciled")


@dataclass(frozen=True)
class AuditRecord:
    seq: int
    at: str
    actor: str
    conversation_id: str
    kind: str
    """One of ``KINDS``."""
    action_id: str
    tool: str
    arguments: dict[str, Any]
    result: dict[str, Any]
    citations: tuple[str, ...]
    prev_hash: str
    hash: str


def _stored(record: AuditRecord) -> tuple[str, ...]:
    """The record as its table row holds it (all but ``seq``, which the database assigns)."""
    return (
        record.at,
        record.actor,
        record.conversation_id,
        record.kind,
        record.action_id,
        record.tool,
        json.dumps(record.arguments, sort_keys=True),
        json.dumps(record.result, sort_keys=True),
        json.dumps(list(record.citations)),
        record.prev_hash,
        record.hash,
    )


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _content(record: AuditRecord) -> dict[str, Any]:
    data = asdict(record)
    data["citations"] = list(record.citations)
    for key in ("seq", "prev_hash", "hash"):
        del data[key]
    return data


class AuditLog:
    """Append-only and thread-safe; each append is one committed row, so a crash loses nothing written."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._db = open_db(path, _SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._db.close()

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
        if kind not in KINDS:
            raise ValueError(f"audit kind {kind!r} is not one of {', '.join(KINDS)}")
        with self._lock:
            row = self._db.execute("SELECT hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            prev = row[0] if row else GENESIS
            at = datetime.now(UTC).isoformat(timespec="milliseconds")
            draft = AuditRecord(
                0,
                at,
                actor,
                conversation_id,
                kind,
                action_id,
                tool,
                arguments,
                result or {},
                tuple(citations),
                prev,
                "",
            )
            record = replace(draft, hash=_digest(prev, _content(draft)))
            cursor = self._db.execute(
                "INSERT INTO records (at, actor, conversation_id, kind, action_id, tool, arguments, result, citations, "
                "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _stored(record),
            )
        return replace(record, seq=int(cursor.lastrowid or 0))

    def records(self, action_id: str | None = None) -> Iterator[AuditRecord]:
        query = "SELECT * FROM records" + (" WHERE action_id = ?" if action_id else "") + " ORDER BY seq"
        with self._lock:
            rows = self._db.execute(query, (action_id,) if action_id else ()).fetchall()
        for r in rows:
            yield AuditRecord(
                r[0],
                r[1],
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                json.loads(r[7]),
                json.loads(r[8]),
                tuple(json.loads(r[9])),
                r[10],
                r[11],
            )

    def verify(self) -> list[str]:
        """Problems found in the chain, in plain words; empty when every record is intact and present."""
        problems: list[str] = []
        prev, expected_seq = GENESIS, 1
        for record in self.records():
            if record.seq != expected_seq:
                problems.append(f"records {expected_seq}..{record.seq - 1} are missing (deleted)")
            if record.prev_hash != prev:
                problems.append(
                    f"record {record.seq}: does not follow the record before it (one was deleted or replaced)"
                )
            if _digest(record.prev_hash, _content(record)) != record.hash:
                problems.append(f"record {record.seq}: content does not match its hash (edited)")
            prev, expected_seq = record.hash, record.seq + 1
        with self._lock:
            row = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'records'").fetchone()
        issued = int(row[0]) if row else 0
        if issued >= expected_seq:
            problems.append(f"records {expected_seq}..{issued} are missing (deleted from the end)")
        return problems

    def export(self, out: TextIO) -> int:
        """Write every record as one JSON line; returns how many."""
        count = 0
        for record in self.records():
            data = asdict(record)
            data["citations"] = list(record.citations)
            out.write(json.dumps(data, ensure_ascii=False) + "\n")
            count += 1
        return count
