"""The deterministic draft: the best path's template filled with facts and clause values, in the pack's
voice. It always exists, so the rep has something to edit with or without a language model.

Figures never come from the template author's memory: ``{refunds.processing-time:duration}`` takes the first
duration written in that clause, so a new pack version changes the draft with the policy. A fact that
is not known yet stays visible as ``[order id]`` for the rep to fill in.

A customer writing one of the pack's other languages gets the draft in that language when the path has a
template in it (``draft_by_language``), with the greeting, opening, disclosure and closing in it too;
otherwise the English draft, and the panel's notice says the customer writes another language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from copilot.reasoning.claims import quantities
from copilot.reasoning.escalation import Escalation
from copilot.reasoning.facts import Facts
from copilot.reasoning.guidance import Guidance, in_language
from copilot.reasoning.rules import disclosed
from copilot.reasoning.suggest import Suggestion
from retrieval.jurisdiction import covers

_PLACEHOLDER = re.compile(r"\{([a-z0-9][a-z0-9._-]*)(?::(duration|amount|percent))?\}")
_KIND_UNITS = {"duration": ("hour", "day", "week", "month", "year"), "percent": ("%",)}
GENERIC = "Thanks for your message. Let me look into this for you now."
HANDOFF = "I'd like to bring in a colleague from our {queue}, who can take this further with you."


@dataclass(frozen=True)
class Reply:
    """A draft for the rep, the clauses it rests on and the facts it still lacks."""

    text: str
    citations: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    """Facts shown as ``[name]`` in the text, for the rep to fill in."""
    source: str = "template"
    """``template`` (a playbook path), ``generic``, or ``llm``."""


def currency_of(jurisdiction: str) -> str:
    return {"UK": "GBP", "EU": "EUR"}.get(jurisdiction.split("-")[0], "USD")


def clause_value(text: str, kind: str, currency: str = "USD") -> str | None:
    """The first duration, amount (in ``currency`` when the clause lists several) or percentage in a clause."""
    found = quantities(text, ranges=False)
    if kind == "amount":
        amounts = [q for q in found if q.unit.isupper()]
        return next((q.text for q in amounts if q.unit == currency), amounts[0].text if amounts else None)
    for quantity in found:
        if quantity.unit in _KIND_UNITS.get(kind, ()):
            return quantity.text
    return None


def fill(
    template: str, facts: Facts, clause_text: Callable[[str], str | None], currency: str = "USD"
) -> tuple[str, tuple[str, ...]]:
    """Replace placeholders; returns the text and the facts that were missing."""
    missing: list[str] = []

    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        found = clause_value(clause_text(name) or "", kind, currency) if kind else facts.get(name)
        if found is None:
            missing.append(name)
            return f"[{name.replace('_', ' ')}]"
        return found

    return _PLACEHOLDER.sub(value, template), tuple(dict.fromkeys(missing))


def compose(
    suggestion: Suggestion | None,
    escalations: Sequence[Escalation],
    guidance: Guidance,
    facts: Facts,
    jurisdiction: str,
    rep_texts: list[str],
    clause_text: Callable[[str], str | None],
    language: str | None = None,
) -> Reply:
    """Greeting, an opening for the gravest escalation, the path's template (or a handoff), closing; in the
    customer's ``language`` (a code) when the path has a template in it.

    The pack's AI disclosure line leads when the region requires it and the customer was not told yet.
    """
    settings = guidance.settings
    template, language = _template(suggestion, guidance, language)
    parts: list[str] = []
    if (
        covers(guidance.disclosure.jurisdictions, jurisdiction)
        and jurisdiction
        and not disclosed(rep_texts, guidance.disclosure.lines)
    ):
        parts.append(in_language(guidance.disclosure.line, guidance.disclosure.line_by_language, language))
    category = next((c for e in escalations if (c := guidance.category(e.category)) is not None), None)
    if category and category.opening:
        parts.append(in_language(category.opening, category.opening_by_language, language))
    citations: tuple[str, ...] = ()
    if suggestion and template:
        parts.append(template)
        citations = suggestion.citations
        source = "template"
    elif category:
        parts.append(HANDOFF.replace("{queue}", category.queue))
        citations = guidance.cite(category.clauses)
        source = "template"
    else:
        parts.append(GENERIC)
        source = "generic"
    body, missing = fill(
        " ".join(parts), facts, lambda cid: clause_text(guidance.citations.get(cid, "")), currency_of(jurisdiction)
    )
    greeting = in_language(settings.greeting, settings.greeting_by_language, language)
    greeting = greeting if facts.get("customer_first_name") else re.sub(r"\s*\{[^}]*\}", "", greeting)
    greeting, _ = fill(greeting, facts, clause_text)
    closing = in_language(settings.closing, settings.closing_by_language, language)
    text = "\n\n".join(p for p in (greeting, body, closing) if p)
    return Reply(text, citations, missing, source)


def _template(suggestion: Suggestion | None, guidance: Guidance, language: str | None) -> tuple[str, str | None]:
    """The suggested path's template in ``language`` and that language where its playbook gives one; else its
    own template and None (then all of the draft is in the default language)."""
    if suggestion is None:
        return "", None
    playbook = next((p for p in guidance.playbooks if p.intent == suggestion.intent), None)
    path = next((p for p in playbook.path if p.title == suggestion.title), None) if playbook else None
    translated = path.draft_by_language.get(language) if path and language else None
    return (translated, language) if translated else (suggestion.template, None)
