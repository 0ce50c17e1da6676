"""Compliance rules an admin writes in the pack's ``rules.toml``: phrases or patterns, a scope, regions
and conditions, turned into the same kind of rule as those in ``rules.py``.
"""

from __future__ import annotations

from functools import lru_cache

from copilot.reasoning.guidance import Guidance, PackRule
from copilot.reasoning.rules import Draft, Flag, Rule, disclosed, identity_verified
from copilot.reasoning.signals import found, sentences
from retrieval.jurisdiction import covers


def _holds(condition: str, draft: Draft) -> bool:
    rep_texts = draft.earlier("rep")
    if condition == "identity_verified":
        return identity_verified(rep_texts)
    return disclosed(rep_texts)


@lru_cache(maxsize=512)
def compile_rule(rule: PackRule) -> Rule:
    pattern = rule.matcher()

    def check(draft: Draft) -> list[Flag]:
        if rule.jurisdictions and not covers(rule.jurisdictions, draft.jurisdiction):
            return []
        if any(_holds(condition, draft) for condition in rule.unless):
            return []
        for sentence in sentences(draft.text):
            hit = found(pattern, sentence)
            if hit:
                return [Flag(rule.id, rule.category, rule.message, hit.group(), rule.clause, rule.severity)]
        return []

    return check


def pack_rules(guidance: Guidance, scope: str) -> tuple[Rule, ...]:
    """The pack's rules that watch ``scope`` (``customer``, ``rep``, ``draft`` or ``action``)."""
    return tuple(compile_rule(r) for r in guidance.rules if scope in r.scope)
