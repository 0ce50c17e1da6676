"""PII redaction: personal data becomes placeholders before text leaves the machine, and comes back after.

The detectors live in `copilot.llm.pii` (one module per kind; its docstring says why they are built on
phonenumbers and python-stdnum rather than Presidio). Values the company's systems hold about the customer
(`PrivateValues`) are redacted wherever they appear; citations and the clause texts a request quotes never are.
Detection leans to over-redaction: a digit run taken for a phone costs the model a little context, a missed
card number is a leak.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from copilot.llm.pii.detect import find
from copilot.llm.pii.known import PrivateValues

_PLACEHOLDER = re.compile(r"\[[A-Z]+_\d+\]")
_PLACEHOLDER_PREFIX = re.compile(r"\[[A-Z]*(?:_\d*)?")
"""What the start of a placeholder looks like while its end has not arrived yet."""
_LONGEST_PLACEHOLDER = 24


@dataclass(frozen=True)
class Redaction:
    """A redacted text and how to undo it."""

    text: str
    """The text with every piece of personal data replaced by a placeholder."""
    mapping: dict[str, str]
    """Placeholder (``[EMAIL_1]``) -> the original it stands for."""

    def restore(self, text: str) -> str:
        """Put the originals back; placeholders the mapping does not know (a model's invention) stay."""
        return _PLACEHOLDER.sub(lambda m: self.mapping.get(m.group(), m.group()), text)


def redact(
    text: str,
    known: Redaction | None = None,
    names: tuple[str, ...] = (),
    private: PrivateValues | None = None,
    quoted: Sequence[tuple[int, int]] = (),
) -> Redaction:
    """Replace personal data in ``text``; with ``known``, an original seen before keeps its placeholder.

    ``private`` holds the customer's values from the systems (``names`` is a shorthand for its names), and
    ``quoted`` the ranges of ``text`` that are clause texts, which stay as written.
    """
    values = (private or PrivateValues()) | PrivateValues(names=names)
    mapping = dict(known.mapping) if known else {}
    placeholder_of = {original: placeholder for placeholder, original in mapping.items()}
    numbered = Counter(placeholder[1:].rsplit("_", 1)[0] for placeholder in mapping)
    parts: list[str] = []
    end = 0
    for start, stop, kind in find(text, values, quoted):
        original = text[start:stop]
        if original not in placeholder_of:
            numbered[kind] += 1
            placeholder_of[original] = f"[{kind}_{numbered[kind]}]"
            mapping[placeholder_of[original]] = original
        parts += [text[end:start], placeholder_of[original]]
        end = stop
    parts.append(text[end:])
    return Redaction("".join(parts), mapping)


class StreamRestorer:
    """Restores placeholders in streamed text, holding back a placeholder split across chunks ("[EMA" + "IL_1]")."""

    def __init__(self, redaction: Redaction) -> None:
        self._redaction = redaction
        self._pending = ""

    def feed(self, chunk: str) -> str:
        """The part of the text so far that is safe to show, restored."""
        text = self._pending + chunk
        cut = text.rfind("[")
        if cut >= 0 and len(text) - cut < _LONGEST_PLACEHOLDER and _PLACEHOLDER_PREFIX.fullmatch(text, cut):
            self._pending = text[cut:]
            text = text[:cut]
        else:
            self._pending = ""
        return self._redaction.restore(text)

    def flush(self) -> str:
        """Whatever was held back, at the end of the stream (an unfinished "[EMA" is shown as it is)."""
        text, self._pending = self._pending, ""
        return self._redaction.restore(text)
