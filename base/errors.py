"""The one error tree: every error a user can see names what is wrong, where, and what to do.

    CopilotError
    ├── LineError          a line of a JSONL file that cannot be read (file, line, field)
    │   └── EventError     a conversation event line; the rest of the file still plays
    ├── PackError          a policy pack that cannot be loaded (file, line, problem, fix)
    ├── StoreError         the clause store cannot be opened or written
    ├── RecordsError       the records database cannot be opened, upgraded or written, or a record is unknown
    ├── ModelError         the embedding model cannot be loaded
    ├── LlmError           the optional language model failed; drafts fall back to templates
    ├── ApprovalError      an approval or run that is not allowed now
    ├── BusinessRefusal    a back office (the demo store) refuses a request, in words a rep can read out
    └── ConnectorError     a connected system failed; the subclass says what is known about a write
        ├── ConfigError        connectors.toml cannot be read
        ├── SystemUnavailable  never delivered: safe to retry
        ├── ReplyLost          may have been applied: reconcile before retrying
        │   └── MalformedReply the answer is not a result
        └── ToolRefused        the system answered no

It sits in ``base/``, below every other package, so each layer raises from the same tree.
"""

from __future__ import annotations

from dataclasses import dataclass


class CopilotError(Exception):
    """Base of every error the copilot reports to a person."""


@dataclass
class LineError(CopilotError):
    """One unreadable line of a JSONL file (events, labelled cases, passages, examples)."""

    file: str
    """Path (or a name such as ``<typed>``) of the source."""
    line: int
    """1-based line number in that file (0: the file as a whole)."""
    field: str
    """The field at fault, or ``"line"`` when the line is not a JSON object at all."""
    problem: str
    """What is wrong, in plain words."""

    def __str__(self) -> str:
        where = f"field '{self.field}': " if self.field not in ("line", "file") else ""
        return f"{self.file}:{self.line}: {where}{self.problem}"


@dataclass
class EventError(LineError):
    """One unreadable line of a conversation event file; the rest of the file still plays."""


@dataclass
class PackError(CopilotError):
    """A policy pack that fails validation; the previously active pack stays in force."""

    file: str
    """The file inside the pack (or the pack path itself) that is at fault."""
    line: int | None
    """1-based line, where the problem sits on one."""
    problem: str
    """What is wrong."""
    fix: str
    """What to do about it."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.problem}. Fix: {self.fix}"


class StoreError(CopilotError):
    """The clause store under the app data folder cannot be opened or written."""


class RecordsError(CopilotError):
    """The records of what reps did (SQLite or a team's PostgreSQL) cannot be used as asked."""


class ModelError(CopilotError):
    """The embedding model could not be loaded (missing package, bad folder)."""


class LlmError(CopilotError):
    """The LLM could not be used: not allowed, unreachable, too slow, refused, or its answer is unusable."""


class ApprovalError(CopilotError):
    """An approval or run that is not allowed now; the message says why and what to do."""


class BusinessRefusal(CopilotError):
    """A back office refuses a request for a business reason, with a plain sentence for the rep.

    For example: 'Order A-1001 has shipped; it can no longer be cancelled.'
    """


class ConnectorError(CopilotError):
    """A connected system (MCP or HTTP) could not answer; the message names the system and what to do.

    The subclass says what is known about a write: ``SystemUnavailable`` means the request was never
    delivered (safe to retry), ``ReplyLost`` means it may have been applied (reconcile before retrying),
    ``ToolRefused`` means the system answered no.
    """


class ConfigError(ConnectorError):
    """``connectors.toml`` cannot be read; the message names the file, the entry and the field."""


class SystemUnavailable(ConnectorError):
    """The system could not be reached, so the request was not delivered."""


class ReplyLost(ConnectorError):
    """The request went out but no usable reply came back (timeout, dropped connection, server error)."""


class ToolRefused(ConnectorError):
    """The system answered with a refusal or an error result, in its own plain words."""


class MalformedReply(ReplyLost):
    """The system answered with something that is not a result (not JSON, wrong shape)."""
