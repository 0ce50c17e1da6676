"""Resolution paths for the current state: the intent's playbook paths that the known facts allow, with
each step marked done or still waiting for a fact. Nothing is suggested below the intent floor.
"""

from __future__ import annotations

from dataclasses import dataclass

from copilot.reasoning.facts import Facts
from copilot.reasoning.guidance import Guidance, Playbook, ResolutionPath
from copilot.reasoning.intent import Intent


@dataclass(frozen=True)
class StepState:
    text: str
    done: bool
    missing: tuple[str, ...] = ()
    """Facts the step needs that are not known yet."""


@dataclass(frozen=True)
class Suggestion:
    """One resolution path for the rep, with the clauses that govern it."""

    intent: str
    playbook: str
    title: str
    confidence: float
    steps: tuple[StepState, ...]
    citations: tuple[str, ...]
    actions: tuple[str, ...]
    template: str
    matched: tuple[str, ...] = ()
    """Facts whose known value selected this path (``status=processing``)."""

    @property
    def next_step(self) -> StepState | None:
        return next((s for s in self.steps if not s.done), None)


def _allowed(path: ResolutionPath, facts: Facts) -> tuple[bool, tuple[str, ...]]:
    """A path is ruled out by a known fact with another value; returns the facts that matched."""
    matched = []
    for name, values in path.when.items():
        known = facts.get(name)
        if known is None:
            continue
        if known.lower() not in {v.lower() for v in values}:
            return False, ()
        matched.append(f"{name}={known}")
    return True, tuple(matched)


def _steps(path: ResolutionPath, facts: Facts) -> tuple[StepState, ...]:
    states = []
    for step in path.steps:
        missing = tuple(n for n in step.needs if facts.get(n) is None)
        done = bool(step.provides) and facts.get(step.provides) is not None
        states.append(StepState(step.text, done, missing))
    return tuple(states)


def suggest(intent: Intent, guidance: Guidance, facts: Facts) -> list[Suggestion]:
    """The intent's applicable paths, those confirmed by known facts first, at most ``max_suggestions``."""
    playbook: Playbook | None = next((p for p in guidance.playbooks if p.intent == intent.id), None)
    if playbook is None or not intent.known:
        return []
    found = []
    for order, path in enumerate(playbook.path):
        allowed, matched = _allowed(path, facts)
        if not allowed:
            continue
        citations = guidance.cite(path.clauses or playbook.clauses)
        found.append(
            (
                -len(matched),
                order,
                Suggestion(
                    intent.id,
                    playbook.title,
                    path.title,
                    intent.confidence,
                    _steps(path, facts),
                    citations,
                    path.actions,
                    path.draft,
                    matched,
                ),
            )
        )
    return [s for *_, s in sorted(found, key=lambda f: (f[0], f[1]))][: guidance.settings.max_suggestions]
