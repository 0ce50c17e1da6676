"""The QA check kinds: each reads one transcript with one check of the pack's qa.toml and says whether the
check applies to it and, where it does, every failure with its turn and reason.

A check applies to a conversation only where what it judges happened (a commitment made, an escalation
due, an action run) and the source records what it needs (the records keep no calls nor regions): pass rates
are over the conversations a check applies to.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from copilot.qa.policy import (
    BackedCheck,
    BeforeCheck,
    ConfirmationCheck,
    DisclosureCheck,
    EscalationCheck,
    Evidence,
    FlagsCheck,
    QaPolicy,
)
from copilot.qa.transcript import Step, Transcript, folded
from copilot.reasoning.rules import disclosed
from copilot.reasoning.signals import sentences
from retrieval.jurisdiction import covers

SEVERITIES = ("info", "warning", "error")
FOLLOWED = frozenset({"inserted", "sent", "edited"})
"""An escalation card the rep acted on in one of these ways was followed (records)."""
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
_QUOTED = 80
"""Characters of a message quoted in a reason."""


@dataclass(frozen=True)
class Failure:
    """One way a conversation failed a check: where, why and the clause it breaks."""

    check: str
    conversation: str
    seq: int
    reason: str
    citation: str = ""

    def record(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "conversation": self.conversation,
            "seq": self.seq,
            "reason": self.reason,
            "citation": self.citation,
        }


Result = list[Failure] | None
"""None: the check does not apply to the conversation; a list: its failures (empty: it passed)."""


def _quote(text: str) -> str:
    text = " ".join(text.split())
    return f"“{text[:_QUOTED]}{'…' if len(text) > _QUOTED else ''}”"


def _said(pattern: re.Pattern[str] | None, text: str) -> bool:
    """Whether ``text`` (already ``folded``) has the words of ``pattern``."""
    return pattern is not None and pattern.search(text) is not None


def _fails(check: Any, transcript: Transcript, policy: QaPolicy, found: Iterable[tuple[int, str]]) -> list[Failure]:
    return [Failure(check.id, transcript.id, seq, reason, policy.cite(check.clause)) for seq, reason in found]


def disclosure(check: DisclosureCheck, transcript: Transcript, policy: QaPolicy) -> Result:
    where = transcript.jurisdiction
    scopes = check.jurisdictions if check.jurisdictions is not None else policy.guidance.disclosure.jurisdictions
    reps = list(transcript.of("rep"))
    if not where or not reps or not covers(scopes, where):
        return None
    first = reps[: check.within]
    texts = [s.text for s in first]
    if disclosed(texts, policy.disclosure_lines) or any(_said(policy.words[check.id], s.folded) for s in first):
        return []
    reason = f"no AI disclosure in the first {len(first)} rep message(s) ({where} requires one)"
    return _fails(check, transcript, policy, [(first[-1].seq, reason)])


def _happened(evidence: Evidence, words: re.Pattern[str] | None, step: Step) -> bool:
    if step.kind == "call":
        return step.name in evidence.tools
    return step.kind == evidence.role and _said(words, step.folded)


def before(check: BeforeCheck, transcript: Transcript, policy: QaPolicy) -> Result:
    first, then = policy.words[f"{check.id}.first"], policy.words[f"{check.id}.then"]
    calls = transcript.has("call")
    if not (first or (calls and check.first.tools)) or not (then or (calls and check.then.tools)):
        return None  # the source records neither side's evidence
    seen = applies = False
    for step in transcript.steps:
        if _happened(check.first, first, step):
            seen = True
        elif _happened(check.then, then, step):
            applies = True
            if not seen:
                what = f"call of {step.name}" if step.kind == "call" else _quote(step.text)
                return _fails(check, transcript, policy, [(step.seq, f"{what} came first ({check.title.lower()})")])
    return [] if applies else None


def _figures(text: str) -> list[str]:
    return [f.replace(",", "") for f in _FIGURE.findall(text)]


def backed(check: BackedCheck, transcript: Transcript, policy: QaPolicy) -> Result:
    words = policy.words[check.id]
    acted = any(s.kind == "call" and s.name in check.tools for s in transcript.steps)
    known: list[str] = []  # texts that back a figure: results and the customer's own words so far
    failures: list[tuple[int, str]] = []
    applies = False
    for step in transcript.steps:
        if step.kind in ("result", "customer"):
            known.append(step.text.replace(",", ""))
            continue
        if step.kind != "rep":
            continue
        for sentence in sentences(step.text):
            if not _said(words, folded(sentence)):
                continue
            applies = True
            cited = [policy.clause_texts.get(c.rsplit("#", 1)[-1], "") for c in step.citations]
            figures = _figures(sentence)
            loose = [
                f
                for f in figures
                if not any(f in t for t in known) and not any(f in t for t in (cited or policy.clause_texts.values()))
            ]
            if loose:
                failures.append((step.seq, f"{_quote(sentence)}: {', '.join(loose)} backed by no record nor clause"))
            elif not figures and not acted and not step.citations:
                failures.append((step.seq, f"{_quote(sentence)}: a commitment no action nor cited clause backs"))
    return _fails(check, transcript, policy, failures) if applies else None


def flags_resolved(check: FlagsCheck, transcript: Transcript, policy: QaPolicy) -> Result:
    floor = SEVERITIES.index(check.severity)
    flags = [
        s
        for s in transcript.of("flag")
        if (not check.rules or s.name in check.rules)
        and (not s.severity or SEVERITIES.index(s.severity) >= floor)
        and s.outcome != "rejected"
    ]
    if not flags:
        return None
    correction = policy.words[f"{check.id}.correction"]
    corrected = [s.seq for s in transcript.of("rep") if _said(correction, s.folded)]
    found = (
        (f.seq, f"flag {f.name} ({_quote(f.text)}) left unresolved")
        for f in flags
        if not any(seq > f.seq for seq in corrected)
    )
    return _fails(check, transcript, policy, found)


def escalation_made(check: EscalationCheck, transcript: Transcript, policy: QaPolicy) -> Result:
    due = [s for s in transcript.of("escalation") if not check.categories or s.name in check.categories]
    if not due:
        return None
    tools = check.tools or ((policy.transfer_tool,) if policy.transfer_tool else ())
    words = policy.words[check.id]
    handed = [
        s.seq
        for s in transcript.steps
        if (s.kind == "call" and s.name in tools) or (s.kind == "rep" and _said(words, s.folded))
    ]
    found = (
        (e.seq, f"escalation {e.name} due ({_quote(e.text)}) but never made")
        for e in due
        if e.outcome not in FOLLOWED and not any(seq >= e.seq for seq in handed)
    )
    return _fails(check, transcript, policy, found)


def confirmed(check: ConfirmationCheck, transcript: Transcript, policy: QaPolicy) -> Result:
    if not transcript.has("call"):
        return None
    words = policy.words[check.id]
    last_customer: Step | None = None
    failures: list[tuple[int, str]] = []
    applies = False
    for step in transcript.steps:
        if step.kind == "customer":
            last_customer = step
        elif step.kind == "call" and step.name in check.tools:
            applies = True
            if last_customer is None or not _said(words, last_customer.folded):
                said = _quote(last_customer.text) if last_customer else "nothing"
                failures.append((step.seq, f"{step.name} ran without the customer's yes (they last said {said})"))
    return _fails(check, transcript, policy, failures) if applies else None


KIND_CHECKS: dict[str, Callable[[Any, Transcript, QaPolicy], Result]] = {
    "disclosure": disclosure,
    "before": before,
    "backed": backed,
    "flags_resolved": flags_resolved,
    "escalation_made": escalation_made,
    "confirmed": confirmed,
}
"""The engine's check kinds, by the ``kind`` a qa.toml check names (the ``Check`` models of copilot/qa/policy.py)."""
