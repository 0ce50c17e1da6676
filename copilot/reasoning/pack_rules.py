"""Compliance rules an admin writes in the pack's ``rules.toml``: phrases or patterns, a scope, regions
and conditions, turned into the same kind of rule as those in ``rules.py``.
"""

from __future__ import annotations

from copilot.conversation.language import reading_languages
from copilot.reasoning.guidance import Guidance, PackRule
from copilot.reasoning.rules import Draft, Flag, Rule, disclosed, identity_verified
from copilot.reasoning.signals import fold, found, sentences
from retrieval.jurisdiction import covers


def _holds(condition: str, draft: Draft) -> bool:
    rep_texts = draft.earlier("rep")
    if condition == "identity_verified":
        return identity_verified(rep_texts)
    return disclosed(rep_texts, draft.disclosure_lines)


def compile_rule(rule: PackRule, languages: tuple[str, ...] = ("en",)) -> Rule:
    """The rule as a check; ``languages`` are the pack's (its default first): a text is read with the phrases
    and patterns of the language it is written in beside the default language's."""

    def check(draft: Draft) -> list[Flag]:
        if rule.jurisdictions and not covers(rule.jurisdictions, draft.jurisdiction):
            return []
        if any(_holds(condition, draft) for condition in rule.unless):
            return []
        pattern = rule.pattern(reading_languages(draft.text, languages))
        for sentence in sentences(draft.text) if pattern else ():
            hit = found(pattern, fold(sentence))
            if hit:
                return [
                    Flag(
                        rule.id,
                        rule.category,
                        rule.message,
                        sentence[hit.start() : hit.end()],
                        rule.clause,
                        rule.severity,
                    )
                ]
        return []

    return check


def pack_rules(guidance: Guidance, scope: str) -> tuple[Rule, ...]:
    """The pack's rules that watch ``scope`` (``customer``, ``rep``, ``draft`` or ``action``)."""
    return tuple(compile_rule(r, guidance.languages) for r in guidance.rules if scope in r.scope)
