"""The audit log of actions: every proposal, approval, rejection, execution and result, in ``audit.sqlite3``.

Tamper-evident in the manner of Certificate Transparency. Records form a hash chain (each holds the
SHA-256 of its content and of the record before it); each record's place in the chain (log, seq,
hash) is signed with the log's Ed25519 key; and after every append a signed head (the newest seq and
its hash) overwrites ``audit.head.json`` beside the database. The key is in neither file: it is in the
OS keyring where one works, else in a key file outside the data folder (``AuditKeys``). So an edited
record fails its hash, a recomputed chain fails its signatures, and a log with rows deleted, truncated,
dropped or removed falls short of a head that nobody without the key can sign again.

Appends hold SQLite's write lock from reading the newest record to writing the new one
(``BEGIN IMMEDIATE``), so writers in several processes queue instead of forking the chain; the head is
signed in a second short transaction, so it never claims a record that is not committed. A log written
by an older, unkeyed version opens as it is and is signed from its next append on.

``verification`` reads everything without writing and names every problem; ``export`` writes JSONL.
What this detects and what it cannot: docs/security.md.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
import sqlite3
import stat
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, TextIO

import keyring
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from base.errors import CopilotError
from base.sqlite import open_db
from connectors.secrets import KEYRING_FAILURES

AUDIT_FILE = "audit.sqlite3"
GENESIS = "0" * 64
KEY_DIR_ENV = "COPILOT_AUDIT_KEY_DIR"
"""Set: the audit key is a file in this folder and the OS keyring is not used (tests, servers, admins)."""
KEYRING_SERVICE = "copilot-audit"
"""The OS keyring service of audit keys; the user name is the log's database path."""

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
    hash TEXT NOT NULL,
    key_id TEXT,
    signature TEXT
);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
_COLUMNS = (
    "seq",
    "at",
    "actor",
    "conversation_id",
    "kind",
    "action_id",
    "tool",
    "arguments",
    "result",
    "citations",
    "prev_hash",
    "hash",
    "key_id",
    "signature",
)
_TEXT_FIELDS = ("at", "actor", "conversation_id", "kind", "action_id", "tool", "prev_hash", "hash")

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
    key_id: str | None = None
    """Which of the log's keys signed it; None for a record an older, unkeyed version wrote."""
    signature: str | None = None
    """Ed25519 over the log id, ``seq`` and ``hash`` (base64)."""


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    body = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


def _content(record: AuditRecord) -> dict[str, Any]:
    data = asdict(record)
    data["citations"] = list(record.citations)
    for key in ("seq", "prev_hash", "hash", "key_id", "signature"):
        del data[key]
    return data


def _signed_place(log_id: str, seq: int, chain_hash: str) -> bytes:
    """What a record's signature covers: its seq and hash in this log (so renumbering or splicing shows)."""
    return f"copilot-audit-record/1\n{log_id}\n{seq}\n{chain_hash}".encode()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _key_id(public: bytes) -> str:
    return hashlib.sha256(public).hexdigest()[:16]


# Keys


@dataclass(frozen=True)
class KeySet:
    """One log's keys: the current private key and the public half of every key it has signed with."""

    log_id: str
    current: str
    """Key id (16 hex digits of the SHA-256 of the public key) of the key that signs from now on."""
    private: bytes | None
    """The current key's 32 raw bytes; None in a copy kept only to verify."""
    public: dict[str, bytes] = field(default_factory=dict)
    """Key id → raw public key, retired keys included, so older records still verify after a rotation."""

    @classmethod
    def new(cls, log_id: str) -> KeySet:
        private = Ed25519PrivateKey.generate()
        public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        raw = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(log_id, _key_id(public), raw, {_key_id(public): public})

    def rotated(self) -> KeySet:
        """A new current key; the old one keeps only its public half, so nothing can sign as it again."""
        fresh = KeySet.new(self.log_id)
        return replace(fresh, public={**self.public, **fresh.public})

    def sign(self, message: bytes) -> str:
        if self.private is None:
            raise CopilotError(f"the audit key of log {self.log_id} holds no private key: it can verify, not sign")
        return _b64(Ed25519PrivateKey.from_private_bytes(self.private).sign(message))

    def verifies(self, key_id: str, message: bytes, signature: str) -> bool:
        public = self.public.get(key_id)
        if public is None:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(public).verify(base64.b64decode(signature, validate=True), message)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def to_json(self) -> str:
        data: dict[str, Any] = {
            "log": self.log_id,
            "current": self.current,
            "public": {kid: _b64(raw) for kid, raw in self.public.items()},
        }
        if self.private is not None:
            data["private"] = _b64(self.private)
        return json.dumps(data, indent=2)

    @classmethod
    def from_json(cls, text: str) -> KeySet:
        """Raises ValueError naming what is wrong."""
        data = json.loads(text)
        if not isinstance(data, dict) or not isinstance(data.get("public"), dict):
            raise ValueError("not an audit key (expected an object with 'log', 'current' and 'public')")
        public = {str(kid): base64.b64decode(raw, validate=True) for kid, raw in data["public"].items()}
        private = data.get("private")
        key = cls(
            str(data["log"]),
            str(data["current"]),
            base64.b64decode(private, validate=True) if private is not None else None,
            public,
        )
        if key.private is not None:
            derived = Ed25519PrivateKey.from_private_bytes(key.private).public_key()
            if _key_id(derived.public_bytes(Encoding.Raw, PublicFormat.Raw)) != key.current:
                raise ValueError("its private key is not its current key")
        return key


@dataclass(frozen=True)
class AuditKeys:
    """Where one log's key is kept: the OS keyring entry where a keyring works, else the key file; never the log."""

    file: Path
    """The key file (mode 0600, in a 0700 folder): ``$COPILOT_AUDIT_KEY_DIR/<db name>.key`` when set, else
    in ``<data folder>-keys/`` beside the data folder, so copies and syncs of the data folder carry no key."""
    keyring_user: str | None
    """The OS keyring entry (service ``copilot-audit``); None: the keyring is not used."""

    @classmethod
    def for_log(cls, path: Path) -> AuditKeys:
        name = f"{path.name}.key"
        chosen = os.environ.get(KEY_DIR_ENV)
        if chosen:
            return cls(Path(chosen).expanduser() / name, None)
        folder = path.resolve().parent
        return cls(folder.with_name(f"{folder.name}-keys") / name, str(path.resolve()))

    def where(self) -> str:
        keyring_part = f"the OS keyring ({KEYRING_SERVICE} / {self.keyring_user}), else " if self.keyring_user else ""
        return f"{keyring_part}{self.file}"

    def load(self) -> tuple[KeySet, str] | None:
        """The key and where it was found; None when there is none. Raises CopilotError for an unreadable one."""
        sources: list[tuple[str, str | None]] = []
        if self.keyring_user:
            with suppress(*KEYRING_FAILURES):
                sources.append(
                    (f"the OS keyring ({KEYRING_SERVICE})", keyring.get_password(KEYRING_SERVICE, self.keyring_user))
                )
        try:
            sources.append((str(self.file), self.file.read_text(encoding="utf-8")))
        except FileNotFoundError:
            pass
        except OSError as exc:
            raise CopilotError(f"the audit key {self.file} cannot be read: {exc}") from None
        for where, text in sources:
            if text == "" and where == str(self.file):
                raise CopilotError(f"the audit key {self.file} is empty: restore it from its backup")
            if text:
                try:
                    return KeySet.from_json(text), where
                except (ValueError, KeyError, TypeError, binascii.Error) as exc:
                    raise CopilotError(f"the audit key in {where} cannot be read: {exc}") from None
        return None

    def save(self, key: KeySet, *, new: bool) -> str:
        """Store the key where it lives (a new one: the keyring where one works); returns where.

        A new key never replaces one; a rotated key replaces the old one in the same place, so no copy of the
        retired private key is left behind.
        """
        if self.keyring_user and (new or not self.file.exists()):
            try:
                if new and keyring.get_password(KEYRING_SERVICE, self.keyring_user):
                    raise CopilotError(f"an audit key for {self.keyring_user} is already in the OS keyring")
                keyring.set_password(KEYRING_SERVICE, self.keyring_user, key.to_json())
            except KEYRING_FAILURES:
                pass
            else:
                return f"the OS keyring ({KEYRING_SERVICE})"
        self.file.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        target = self.file if new else self.file.with_name(f"{self.file.name}.{os.getpid()}.partial")
        descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(key.to_json())
            out.flush()
            os.fsync(out.fileno())
        if not new:
            target.replace(self.file)
        return str(self.file)


# The signed head

_HEAD_SIZE = 512


def head_path(path: Path) -> Path:
    """The signed head's file beside the database: ``audit.sqlite3`` → ``audit.head.json``."""
    return path.with_name(f"{path.stem}.head.json")


@dataclass(frozen=True)
class Head:
    """The statement signed after every append: log ``log_id`` holds records up to ``seq``, the last hashing to
    ``root``."""

    log_id: str
    seq: int
    root: str
    """The chain hash of record ``seq`` (GENESIS for an empty log)."""
    unkeyed: int
    """Records up to this seq were written by an older version without a key (0: none)."""
    at: str
    key_id: str
    signature: str = ""

    def message(self) -> bytes:
        data = asdict(self)
        del data["signature"]
        return b"copilot-audit-head/1\n" + json.dumps(data, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def read(cls, path: Path) -> Head | None:
        """None when there is no head; raises ValueError naming what is wrong with one that cannot be read.

        A read that overlaps an append's write can see half a block: it is read again before being called bad.
        """
        for attempt in range(3):
            try:
                block = path.read_bytes()[:_HEAD_SIZE]
            except FileNotFoundError:
                return None
            except OSError as exc:
                raise ValueError(str(exc)) from None
            try:
                return cls._parse(block)
            except (ValueError, RecursionError):
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    @classmethod
    def _parse(cls, block: bytes) -> Head:
        data = json.loads(block)
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        for name, kind in (("log_id", str), ("seq", int), ("root", str), ("unkeyed", int), ("at", str)):
            if not isinstance(data.get(name), kind) or isinstance(data.get(name), bool):
                raise ValueError(f"'{name}' is missing or of the wrong type")
        for name in ("key_id", "signature"):
            if not isinstance(data.get(name), str):
                raise ValueError(f"'{name}' is missing or of the wrong type")
        return cls(
            data["log_id"], data["seq"], data["root"], data["unkeyed"], data["at"], data["key_id"], data["signature"]
        )

    def write(self, path: Path, *, first: bool = False) -> None:
        """Overwrite the head in place as one 512-byte block (one disk sector: a crash leaves the old or the new).

        Renaming a fresh file over the old head would cost a journal commit on every append (4 ms on ext4, as much
        as the record itself). The first head is flushed to disk, so a keyed log always has one; a later one lost
        to a power cut only leaves the newest records past the head until the next append signs them.
        """
        text = json.dumps(asdict(self), separators=(",", ":"))
        block = text.ljust(_HEAD_SIZE - 1).encode() + b"\n"
        if len(block) != _HEAD_SIZE:
            raise ValueError(f"a signed head is {len(block)} bytes, over {_HEAD_SIZE}")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            os.write(descriptor, block)
            if os.fstat(descriptor).st_size != _HEAD_SIZE:
                os.ftruncate(descriptor, _HEAD_SIZE)
            if first:
                os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _read_head(path: Path) -> tuple[Head | None, str]:
    """The head, or why it cannot be read."""
    try:
        return Head.read(path), ""
    except (ValueError, TypeError, RecursionError) as exc:
        return None, f"the signed head {path.name} cannot be read ({exc})"


# Rows


def _decode(row: tuple[object, ...]) -> tuple[AuditRecord | None, list[str]]:
    """A table row as a record, or what is wrong with it (never raises)."""
    values = dict(zip(_COLUMNS, row, strict=True))
    problems = [
        f"{name} is {_what(values[name])}, not text" for name in _TEXT_FIELDS if not isinstance(values[name], str)
    ]
    decoded: dict[str, Any] = {}
    for name, kind in (("arguments", dict), ("result", dict), ("citations", list)):
        raw = values[name]
        if not isinstance(raw, str):
            problems.append(f"{name} is {_what(raw)}, not JSON text")
            continue
        try:
            decoded[name] = json.loads(raw)
        except (ValueError, RecursionError):
            problems.append(f"{name} is not valid JSON ({raw[:40]!r})")
            continue
        if not isinstance(decoded[name], kind):
            problems.append(f"{name} is not a JSON {'object' if kind is dict else 'array'}")
        elif kind is list and not all(isinstance(c, str) for c in decoded[name]):
            problems.append(f"{name} holds something other than text")
    problems.extend(
        f"{name} is {_what(values[name])}, not text"
        for name in ("key_id", "signature")
        if values[name] is not None and not isinstance(values[name], str)
    )
    if problems or not isinstance(values["seq"], int):
        return None, problems
    text = {name: str(values[name]) for name in _TEXT_FIELDS}
    record = AuditRecord(
        values["seq"],
        text["at"],
        text["actor"],
        text["conversation_id"],
        text["kind"],
        text["action_id"],
        text["tool"],
        decoded["arguments"],
        decoded["result"],
        tuple(decoded["citations"]),
        text["prev_hash"],
        text["hash"],
        values["key_id"] if isinstance(values["key_id"], str) else None,
        values["signature"] if isinstance(values["signature"], str) else None,
    )
    if record.kind not in KINDS:
        problems.append(f"kind {record.kind!r} is not one of {', '.join(KINDS)}")
    return record, problems


def _what(value: object) -> str:
    return "empty (NULL)" if value is None else f"of type {type(value).__name__}"


def _select(db: sqlite3.Connection, where: str = "", parameters: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    """Rows in seq order, every column (NULL for the two an older, unmigrated table lacks)."""
    present = {r[1] for r in db.execute("PRAGMA table_info(records)")}
    columns = ", ".join(c if c in present else "NULL" for c in _COLUMNS)
    return list(db.execute(f"SELECT {columns} FROM records {where} ORDER BY seq", parameters))


@contextmanager
def _write_lock(db: sqlite3.Connection) -> Iterator[None]:
    """One transaction holding SQLite's write lock from its start: other writers, in any process, wait."""
    db.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        db.execute("ROLLBACK")
        raise
    db.execute("COMMIT")


def _meta(db: sqlite3.Connection, name: str) -> str | None:
    row = db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
    return str(row[0]) if row else None


def _tail(db: sqlite3.Connection) -> tuple[int, str]:
    row = db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
    return (int(row[0]), str(row[1])) if row else (0, GENESIS)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class AuditTrail(Protocol):
    """Where the action desk records each step: a desk's own ``AuditLog`` or the team's ``TeamAuditLog``
    (copilot/actions/team_audit.py); copilot/actions/ledger.py picks one by the settings."""

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
        """Record one step, or raise CopilotError recording nothing."""
        ...


class AuditLog:
    """Append-only, signed, thread- and process-safe; each append is one committed row, then a signed head."""

    def __init__(self, path: Path, keys: AuditKeys | None = None) -> None:
        self.path = path
        self.head_path = head_path(path)
        self.keys = keys or AuditKeys.for_log(path)
        self._db = open_db(path, _SCHEMA)
        self._lock = threading.Lock()
        self._key: KeySet | None = None
        with self._lock, _write_lock(self._db):
            present = {r[1] for r in self._db.execute("PRAGMA table_info(records)")}
            for column in ("key_id", "signature"):
                if column not in present:
                    self._db.execute(f"ALTER TABLE records ADD COLUMN {column} TEXT")

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
        """Record one step. Raises CopilotError, recording nothing, when the log no longer matches its head."""
        if kind not in KINDS:
            raise ValueError(f"audit kind {kind!r} is not one of {', '.join(KINDS)}")
        with self._lock:
            with _write_lock(self._db):
                log_id, key = self._identity()
                _, prev = _tail(self._db)
                draft = AuditRecord(
                    0,
                    _now(),
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
                chained = replace(draft, hash=_digest(prev, _content(draft)))
                cursor = self._db.execute(
                    "INSERT INTO records (at, actor, conversation_id, kind, action_id, tool, arguments, result, "
                    "citations, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        chained.at,
                        chained.actor,
                        chained.conversation_id,
                        chained.kind,
                        chained.action_id,
                        chained.tool,
                        json.dumps(chained.arguments, sort_keys=True),
                        json.dumps(chained.result, sort_keys=True),
                        json.dumps(list(chained.citations)),
                        chained.prev_hash,
                        chained.hash,
                    ),
                )
                seq = int(cursor.lastrowid or 0)
                record = replace(
                    chained, seq=seq, key_id=key.current, signature=key.sign(_signed_place(log_id, seq, chained.hash))
                )
                self._db.execute(
                    "UPDATE records SET key_id = ?, signature = ? WHERE seq = ?", (record.key_id, record.signature, seq)
                )
            self._sign_head(log_id, key)
        return record

    def rotate_key(self) -> str:
        """Sign from now on with a new key; the old one keeps only its public half. Returns where the key is."""
        with self._lock:
            with _write_lock(self._db):
                log_id, key = self._identity()
                rotated = key.rotated()
                where = self.keys.save(rotated, new=False)
                self._key = rotated
            self._sign_head(log_id, rotated)
        return where

    def _identity(self) -> tuple[str, KeySet]:
        """The log id and its key, inside the append's transaction; makes both on the first keyed append.

        Refuses (CopilotError) when the log does not match its head or key: appending would overwrite the
        head, the only evidence of records deleted from the end, so nothing is recorded until an admin looks.
        """
        log_id = _meta(self._db, "log")
        head, unreadable = _read_head(self.head_path)
        if self._key and head and head.key_id not in self._key.public:
            self._key = None  # rotated by another process: read the key again
        found = None if self._key else self.keys.load()
        key = self._key or (found[0] if found else None)
        fix = "run `copilot audit verify`; docs/security.md (Audit log) says how to start a new log"
        if unreadable:
            raise CopilotError(f"{unreadable}: nothing more is recorded; {fix}")
        if log_id is None and key is None and head is None:
            return self._create()
        if log_id is None and key is not None and head is not None and head.log_id == key.log_id:
            # A first keyed append stopped after signing the head and before committing: adopt its id (the
            # checks below still hold the log to that head).
            log_id = key.log_id
            self._db.execute("INSERT INTO meta VALUES ('log', ?)", (log_id,))
            self._db.execute("INSERT INTO meta VALUES ('unkeyed', ?)", (str(head.unkeyed),))
        if key is None:
            raise CopilotError(
                f"no audit key for {self.path} in {self.keys.where()}: restore it from its backup; {fix}"
            )
        if log_id != key.log_id or head is None or head.log_id != key.log_id:
            raise CopilotError(
                f"{self.path.name}, its signed head and its key ({self.keys.where()}) do not belong to the same log "
                f"(deleted or replaced): nothing more is recorded; {fix}"
            )
        row = self._db.execute("SELECT hash FROM records WHERE seq = ?", (head.seq,)).fetchone()
        at_head = str(row[0]) if row else (GENESIS if head.seq == 0 else None)
        if not key.verifies(head.key_id, head.message(), head.signature) or at_head != head.root:
            raise CopilotError(f"{self.path.name} does not match its signed head: nothing more is recorded; {fix}")
        self._key = key
        return log_id, key

    def _create(self) -> tuple[str, KeySet]:
        """Key a new log, or an older unkeyed one: key first, then a head over what is there, then the id."""
        log_id = uuid.uuid4().hex
        key = KeySet.new(log_id)
        self.keys.save(key, new=True)
        seq, root = _tail(self._db)
        head = Head(log_id, seq, root, seq, _now(), key.current)
        replace(head, signature=key.sign(head.message())).write(self.head_path, first=True)
        self._db.execute("INSERT INTO meta VALUES ('log', ?)", (log_id,))
        self._db.execute("INSERT INTO meta VALUES ('unkeyed', ?)", (str(seq),))
        self._key = key
        return log_id, key

    def _sign_head(self, log_id: str, key: KeySet) -> None:
        """Sign the newest committed record as the head, under the write lock so heads never go backwards."""
        with _write_lock(self._db):
            seq, root = _tail(self._db)
            head, _ = _read_head(self.head_path)
            if head is not None and head.seq > seq:
                return
            unkeyed = int(_meta(self._db, "unkeyed") or 0)
            signed = Head(log_id, seq, root, unkeyed, _now(), key.current)
            replace(signed, signature=key.sign(signed.message())).write(self.head_path)

    def records(self, action_id: str | None = None) -> Iterator[AuditRecord]:
        """Every readable record in seq order; a row that cannot be read is left out (``verify`` names it)."""
        with self._lock:
            try:
                rows = _select(self._db, "WHERE action_id = ?" if action_id else "", (action_id,) if action_id else ())
            except sqlite3.DatabaseError:
                rows = []
        for row in rows:
            record, problems = _decode(row)
            if record is not None and not problems:
                yield record

    def verify(self) -> list[str]:
        """Problems found, in plain words, one per record and fault; empty when the log is intact and whole."""
        return list(verification(self.path, self.keys).problems)

    def export(self, out: TextIO) -> int:
        """Write every row as one JSON line (a row that cannot be read: its raw columns and why); returns how many."""
        with self._lock:
            try:
                rows = _select(self._db)
            except sqlite3.DatabaseError:
                rows = []
        return export_rows(rows, out)


def export_rows(rows: list[tuple[object, ...]], out: TextIO) -> int:
    """Write each row of a log (columns in ``records`` order) as one JSON line: a readable record as it is, any
    other row as its raw columns and why it cannot be read; returns how many."""
    for row in rows:
        record, problems = _decode(row)
        if record is not None and not problems:
            data = asdict(record)
            data["citations"] = list(record.citations)
        else:
            raw = {
                c: v if isinstance(v, str | int | float | None) else repr(v) for c, v in zip(_COLUMNS, row, strict=True)
            }
            data = {"seq": row[0], "unreadable": problems, "row": raw}
        out.write(json.dumps(data, ensure_ascii=False) + "\n")
    return len(rows)


# Verification


@dataclass(frozen=True)
class Verification:
    """What ``copilot audit verify`` found."""

    records: int
    """Rows in the log (readable or not)."""
    problems: tuple[str, ...]
    """Each fault, naming the record (seq) or the file; any problem means the log was changed outside the app."""
    notes: tuple[str, ...]
    """What is true but not a fault: records an older version wrote without a key, records after the head."""
    head_seq: int | None
    """The newest record the signed head covers; None without a readable head."""


@dataclass
class _Snapshot:
    rows: list[tuple[object, ...]]
    log_id: str | None
    unkeyed: int | None
    issued: int
    """The highest seq SQLite ever handed out (records deleted from the end of an unkeyed log show here)."""


def _snapshot(path: Path) -> _Snapshot | str:
    """The whole log read in one read-only transaction, or why it cannot be read ("" when there is no file)."""
    if not path.exists():
        return ""
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        return f"{path.name} cannot be opened ({exc})"
    try:
        db.execute("BEGIN")
        tables = {str(r[0]) for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "records" not in tables:
            return f"{path.name} has no records table (dropped)"
        rows = _select(db)
        meta = dict(db.execute("SELECT name, value FROM meta")) if "meta" in tables else {}
        issued = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'records'").fetchone()
    except sqlite3.DatabaseError as exc:
        return f"{path.name} cannot be read ({exc})"
    finally:
        db.close()
    unkeyed = meta.get("unkeyed")
    return _Snapshot(
        rows,
        str(meta["log"]) if meta.get("log") is not None else None,
        int(unkeyed) if isinstance(unkeyed, str) and unkeyed.isdigit() else None,
        int(issued[0]) if issued and isinstance(issued[0], int) else 0,
    )


def verification(path: Path, keys: AuditKeys | None = None) -> Verification:
    """Check the log at ``path`` against its signed head and key, writing nothing; never raises for a bad row."""
    keys = keys or AuditKeys.for_log(path)
    problems: list[str] = []
    notes: list[str] = []
    try:
        found = keys.load()
    except CopilotError as exc:
        problems.append(str(exc))
        found = None
    key = found[0] if found else None
    from_file = found is not None and found[1] == str(keys.file)
    if from_file and os.name == "posix" and keys.file.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        notes.append(f"the key file {keys.file} can be read by other users: chmod 600 it")
    head_file = head_path(path)
    head, unreadable = _read_head(head_file)
    if unreadable:
        problems.append(unreadable)
    head_seq = head.seq if head else None
    snapshot = _snapshot(path)
    if isinstance(snapshot, str):
        if snapshot or key or head or unreadable:
            evidence = (
                f"its signed head covers records up to {head.seq}"
                if head
                else f"its key is in {keys.where()}"
                if key
                else f"{head_file.name} is there"
            )
            problems.insert(0, f"{snapshot or f'{path.name} is missing (deleted)'}, but {evidence}")
        return Verification(0, tuple(problems), tuple(notes), head_seq)
    named = {
        "database": snapshot.log_id,
        "signed head": head.log_id if head else None,
        "key": key.log_id if key else None,
    }
    log_ids = {i for i in named.values() if i}
    keyed = bool(log_ids) or any(row[13] is not None for row in snapshot.rows)
    if len(log_ids) > 1:
        problems.append(
            "the database, its signed head and its key belong to different logs ("
            + ", ".join(f"{part}: {i or 'none'}" for part, i in named.items())
            + "): one was replaced"
        )
    log_id = next((i for i in (named["key"], named["signed head"], named["database"]) if i), "")
    if keyed and key is None:
        problems.append(f"no key for this log in {keys.where()}: signatures cannot be checked (restore the key)")
    if head is not None and key is not None and not key.verifies(head.key_id, head.message(), head.signature):
        problems.append(f"the signed head {head_file.name} does not carry this log's signature (forged)")
    elif keyed and head is None and not unreadable:
        problems.append(
            f"the signed head {head_file.name} is missing (deleted): records removed from the end cannot be ruled out"
        )
    if head is not None:
        unkeyed = head.unkeyed
    elif snapshot.unkeyed is not None:
        unkeyed = snapshot.unkeyed
    else:
        unkeyed = 0 if keyed else snapshot.issued
    problems.extend(_check_rows(snapshot.rows, key, log_id, unkeyed, notes))
    last = max((row[0] for row in snapshot.rows if isinstance(row[0], int)), default=0)
    if head is not None:
        problems.extend(_check_against_head(snapshot.rows, head, last, notes))
    end = max(last, head_seq or 0)
    if snapshot.issued > end:
        problems.append(f"records {end + 1}..{snapshot.issued} are missing (deleted from the end)")
    return Verification(len(snapshot.rows), tuple(problems), tuple(notes), head_seq)


def _check_rows(
    rows: list[tuple[object, ...]], key: KeySet | None, log_id: str, unkeyed: int, notes: list[str]
) -> list[str]:
    """Each row on its own (readable, hash, signature) and against the one before it (seq, link)."""
    problems: list[str] = []
    prev_hash: object = GENESIS
    expected = 1
    legacy: list[int] = []
    for row in rows:
        seq = row[0]
        record, faults = _decode(row)
        said = [f"record {seq}: {fault}" for fault in faults]
        if isinstance(seq, int) and seq > expected:
            problems.append(f"records {expected}..{seq - 1} are missing (deleted)")
        if row[10] != prev_hash:
            said.append(f"record {seq}: does not follow the record before it (one was deleted or replaced)")
        if record is not None and _digest(record.prev_hash, _content(record)) != record.hash:
            said.append(f"record {seq}: content does not match its hash (edited)")
        key_id, signature, chain_hash = row[12], row[13], row[11]
        if key_id is None and signature is None:
            if isinstance(seq, int) and seq <= unkeyed:
                legacy.append(seq)
            else:
                said.append(f"record {seq}: not signed (added outside the app)")
        elif key is not None and not (
            isinstance(key_id, str)
            and isinstance(signature, str)
            and isinstance(seq, int)
            and isinstance(chain_hash, str)
            and key.verifies(key_id, _signed_place(log_id, seq, chain_hash), signature)
        ):
            said.append(f"record {seq}: signature does not match (edited, forged or renumbered)")
        problems.extend(said)
        prev_hash = chain_hash
        expected = seq + 1 if isinstance(seq, int) else expected + 1
    if legacy:
        span = f"records {legacy[0]}..{legacy[-1]}"
        notes.append(
            f"{span} were written by an older version without a key: the chain protects them only from the first "
            "signed record on, so an edit made before this version signed the log cannot be ruled out"
            if len(legacy) < len(rows) or log_id
            else f"{span} carry no signature (an older version wrote them): their integrity is not provable; "
            "the next append signs the log from there on"
        )
    return problems


def _check_against_head(rows: list[tuple[object, ...]], head: Head, last: int, notes: list[str]) -> list[str]:
    if head.seq > last:
        first = last + 1
        return [
            f"records {first}..{head.seq} are missing (deleted from the end: the signed head covers records up to "
            f"{head.seq})"
        ]
    at_head = next((row for row in rows if row[0] == head.seq), None)
    stored = at_head[11] if at_head else (GENESIS if head.seq == 0 else None)
    if stored != head.root:
        return [f"record {head.seq}: does not match the signed head (the log was rewritten)"]
    if last > head.seq:
        notes.append(
            f"records {head.seq + 1}..{last} come after the signed head (the app stopped before signing it; the "
            "next append signs them): their deletion would go unnoticed"
        )
    return []
