"""`copilot eval redaction`: recall per kind of personal data and false positives, on a labelled JSONL set.

One case a line (docs/eval.md): ``{"id", "lang", "text", "spans": [{"kind", "text"}], "known": {...}}``.
A labelled value counts as caught when every letter and digit of every occurrence of it in the line is
inside a redacted span, whatever kind the detector called it: what matters is that it does not leave. A
redacted span that touches no labelled value is a false positive; a line with no labelled value is a
negative, and the share of negatives with anything redacted is the false-positive rate.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from base.jsonl import JsonLine, read_jsonl
from copilot.llm.pii.detect import find
from copilot.llm.pii.known import PrivateValues
from copilot.llm.pii.protected import CITATION
from copilot.llm.pii.span import Span

KINDS = (
    "card", "iban", "bank", "national_id", "passport", "email", "phone", "secret", "token",
    "ip", "address", "name", "dob", "order",
)  # fmt: skip
"""The kinds a labelled span may have."""
TARGETS = {
    **dict.fromkeys(("card", "iban", "national_id", "email", "phone", "secret", "token"), 0.98),
    **dict.fromkeys(("address", "name"), 0.9),
}
"""Recall each kind must reach (issue 15): secrets and tokens are the password-like ones."""
_KNOWN = {"name": "names", "email": "emails", "phone": "phones", "address": "addresses", "id": "ids"}
"""Keys of a case's ``known`` object (the values a system record holds) → PrivateValues fields."""


@dataclass(frozen=True)
class Case:
    """One labelled line."""

    id: str
    lang: str
    text: str
    spans: tuple[tuple[str, str], ...]
    """(kind, text) of every personal value in ``text``; empty for a negative."""
    known: PrivateValues = field(default_factory=PrivateValues)


@dataclass(frozen=True)
class Miss:
    """A labelled value that was not (wholly) redacted, or a redaction of nothing labelled."""

    case: str
    kind: str
    text: str


@dataclass
class Score:
    """Counts over a labelled set, and what went wrong."""

    support: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    caught: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    redacted: int = 0
    """Spans redacted in all lines."""
    false_positives: int = 0
    negatives: int = 0
    negatives_touched: int = 0
    citations: int = 0
    citations_kept: int = 0
    misses: list[Miss] = field(default_factory=list)
    extras: list[Miss] = field(default_factory=list)
    """Redacted text that was no labelled value (kind: the detector's)."""

    def recall(self, kind: str) -> float:
        return self.caught[kind] / self.support[kind] if self.support[kind] else 1.0

    def as_dict(self) -> dict[str, Any]:
        """The numbers, as `copilot eval redaction --json` prints them."""
        total, caught = sum(self.support.values()), sum(self.caught.values())
        return {
            "per_kind": {
                kind: {
                    "recall": round(self.recall(kind), 4),
                    "support": self.support[kind],
                    "target": TARGETS.get(kind),
                }
                for kind in KINDS
                if self.support[kind]
            },
            "overall": {
                "recall": round(caught / total, 4) if total else 1.0,
                "support": total,
                "redacted_spans": self.redacted,
                "false_positives": self.false_positives,
                "precision": round(1 - self.false_positives / self.redacted, 4) if self.redacted else 1.0,
                "negatives": self.negatives,
                "negatives_with_redaction": self.negatives_touched,
                "false_positive_rate_on_negatives": round(self.negatives_touched / self.negatives, 4)
                if self.negatives
                else 0.0,
                "citations_kept": f"{self.citations_kept}/{self.citations}",
            },
            "targets_met": self.targets_met(),
        }

    def targets_met(self) -> bool:
        return all(self.recall(kind) >= target for kind, target in TARGETS.items() if self.support[kind])


def read_cases(path: Path) -> list[Case]:
    """The labelled cases of a JSONL file; a malformed line raises LineError naming its field."""
    return [_case(line) for line in read_jsonl(path)]


def _case(line: JsonLine) -> Case:
    value = line.value
    for name in ("id", "text"):
        if not isinstance(value.get(name), str) or not value[name]:
            raise line.error("must be a non-empty string", name)
    spans = value.get("spans", [])
    if not isinstance(spans, list):
        raise line.error("must be a list of {kind, text}", "spans")
    labelled: list[tuple[str, str]] = []
    for number, span in enumerate(spans):
        where = f"spans[{number}]"
        if not isinstance(span, dict) or not isinstance(span.get("text"), str) or not span["text"]:
            raise line.error("must be an object with a non-empty text", where)
        if span.get("kind") not in KINDS:
            raise line.error(f"kind must be one of {', '.join(KINDS)}", f"{where}.kind")
        if span["text"] not in value["text"]:
            raise line.error(f"'{span['text'][:40]}' does not occur in the line's text", f"{where}.text")
        labelled.append((span["kind"], span["text"]))
    return Case(value["id"], str(value.get("lang", "")), value["text"], tuple(labelled), _known(line))


def _known(line: JsonLine) -> PrivateValues:
    known = line.value.get("known", {})
    if not isinstance(known, dict) or any(key not in _KNOWN for key in known):
        raise line.error(f"must be an object with keys among {', '.join(_KNOWN)}", "known")
    values: dict[str, tuple[str, ...]] = {}
    for key, found in known.items():
        if not isinstance(found, list) or not all(isinstance(v, str) for v in found):
            raise line.error("must be a list of strings", f"known.{key}")
        values[_KNOWN[key]] = tuple(found)
    return PrivateValues(**values)


def evaluate(cases: Iterable[Case]) -> Score:
    """Redact every case as the LLM client would and count what was caught, missed and taken in excess."""
    score = Score()
    for case in cases:
        found = find(case.text, case.known)
        covered = {i for span in found for i in range(span.start, span.stop)}
        labelled: list[range] = []
        for kind, value in case.spans:
            places = _occurrences(case.text, value)
            labelled += places
            score.support[kind] += 1
            if all(i in covered for place in places for i in place if case.text[i].isalnum()):
                score.caught[kind] += 1
            else:
                score.misses.append(Miss(case.id, kind, value))
        _count_extras(score, case, found, labelled)
        for m in CITATION.finditer(case.text):
            score.citations += 1
            score.citations_kept += not any(i in covered for i in range(m.start(), m.end()))
    return score


def _count_extras(score: Score, case: Case, found: list[Span], labelled: list[range]) -> None:
    score.redacted += len(found)
    extras = [s for s in found if not any(s.start < place.stop and place.start < s.stop for place in labelled)]
    score.false_positives += len(extras)
    score.extras += [Miss(case.id, span.kind, case.text[span.start : span.stop]) for span in extras]
    if not case.spans:
        score.negatives += 1
        score.negatives_touched += bool(found)


def _occurrences(text: str, value: str) -> list[range]:
    """Every place ``value`` stands in ``text``."""
    places, start = [], text.find(value)
    while start >= 0:
        places.append(range(start, start + len(value)))
        start = text.find(value, start + 1)
    return places
