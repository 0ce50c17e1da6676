"""The one JSONL reader: every file of one JSON object a line (events, labelled cases, passages, examples).

Each caller turns a :class:`~base.errors.LineError` into its own kind of message (an event line that is
skipped, a pack that is refused), so every file names a bad line the same way: ``file:line: problem``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from base.errors import LineError


@dataclass(frozen=True)
class JsonLine:
    """One object read from a JSONL source, with where it stood."""

    origin: str
    """The file (or a name such as ``<typed>``) the line came from."""
    number: int
    """1-based line number."""
    value: dict[str, Any]

    def error(self, problem: str, field: str = "line") -> LineError:
        """An error about this line, in the reader's one style."""
        return LineError(self.origin, self.number, field, problem)


def parse_jsonl(
    lines: Iterable[str], origin: str, on_error: Callable[[LineError], None] | None = None
) -> Iterator[JsonLine]:
    """The objects of ``lines``; blank lines are passed over.

    A line that is not a JSON object raises :class:`LineError`, or, with ``on_error``, is reported to
    it and skipped so the lines after it are still read.
    """
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            value = json.loads(raw)
        except json.JSONDecodeError as exc:
            problem = f"not JSON ({exc.msg} at column {exc.colno})"
        except RecursionError:
            problem = "nested too deeply to read"
        except ValueError as exc:  # json's own limits, e.g. an integer of thousands of digits
            problem = f"not readable JSON ({str(exc).splitlines()[0]})"
        else:
            if isinstance(value, dict):
                yield JsonLine(origin, number, value)
                continue
            problem = f"a JSON {type(value).__name__}, not an object"
        error = LineError(origin, number, "line", problem)
        if on_error is None:
            raise error
        on_error(error)


def read_jsonl(path: Path, on_error: Callable[[LineError], None] | None = None) -> Iterator[JsonLine]:
    """The objects of a JSONL file; a file that cannot be read raises :class:`LineError` on line 0."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise LineError(str(path), 0, "file", f"cannot be read ({exc})") from None
    return parse_jsonl(text.splitlines(), str(path), on_error)
