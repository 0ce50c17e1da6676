"""Scoring detectors on labelled cases (format in docs/eval.md): precision and recall
per category and micro-averaged, for `copilot eval flags` and `copilot eval escalation`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from base.errors import CopilotError
from base.jsonl import read_jsonl
from copilot.conversation.state import Conversation, Turn


@dataclass(frozen=True)
class LabelledCase:
    """A short conversation and the categories that must (and only those that must) fire on it."""

    id: str
    conversation: Conversation
    expected: frozenset[str]
    ai_drafted: bool = False
    """The last rep turn was drafted by the copilot (AI disclosure rules apply)."""


def read_cases(path: Path, kind: str, categories: tuple[str, ...]) -> list[LabelledCase]:
    """Cases of ``kind`` (cases of another kind are skipped); a bad line is an error naming file and line."""
    cases = []
    for line in read_jsonl(path):
        row = line.value
        try:
            labels = set(map(str, row.get("expected", [])))
            # No kind given: the case belongs here unless its labels are another family's.
            if row.get("kind", kind) != kind or ("kind" not in row and not labels <= set(categories)):
                continue
            turns = tuple(Turn(i + 1, str(t["role"]), str(t["text"])) for i, t in enumerate(row["turns"]))
            expected = frozenset(map(str, row["expected"]))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise line.error(f"not a labelled case ({exc}); see docs/eval.md for the format") from None
        unknown = expected - set(categories)
        if unknown:
            raise line.error(f"unknown category {sorted(unknown)[0]!r}; known: {', '.join(categories)}")
        case_id = str(row.get("id", line.number))
        conversation = Conversation(case_id, jurisdiction=str(row.get("jurisdiction", "")), turns=turns)
        cases.append(LabelledCase(case_id, conversation, expected, bool(row.get("ai_drafted"))))
    if not cases:
        raise CopilotError(f"{path}: no cases of kind '{kind}'")
    return cases


class Scores(TypedDict):
    """Precision, recall and support per category, and the micro averages (``--json`` prints this)."""

    per_category: dict[str, dict[str, float]]
    micro: dict[str, float]


def score(
    cases: list[LabelledCase], detect: Callable[[LabelledCase], set[str]], categories: tuple[str, ...]
) -> tuple[Scores, list[str]]:
    """The JSON summary and one line per wrong case (for reading, not for tuning to single cases)."""
    tp = dict.fromkeys(categories, 0)
    fp = dict(tp)
    fn = dict(tp)
    mistakes = []
    for case in cases:
        got = detect(case) & set(categories)
        for c in categories:
            tp[c] += c in got and c in case.expected
            fp[c] += c in got and c not in case.expected
            fn[c] += c not in got and c in case.expected
        if got != case.expected:
            mistakes.append(f"{case.id}: expected {sorted(case.expected)}, got {sorted(got)}")

    def ratio(a: int, b: int) -> float:
        return round(a / b, 4) if b else 1.0

    per = {
        c: {"precision": ratio(tp[c], tp[c] + fp[c]), "recall": ratio(tp[c], tp[c] + fn[c]), "support": tp[c] + fn[c]}
        for c in categories
    }
    t, p, n = sum(tp.values()), sum(fp.values()), sum(fn.values())
    precision, recall = ratio(t, t + p), ratio(t, t + n)
    f1 = round(2 * precision * recall / (precision + recall), 4) if precision + recall else 0.0
    return Scores(per_category=per, micro={"precision": precision, "recall": recall, "f1": f1}), mistakes
