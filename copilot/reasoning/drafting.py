"""The deterministic draft: the best path's template filled with facts and clause values, in the pack's
voice. It always exists, so the rep has something to edit with or without a language model.

Figures never come from the template author's memory: ``{refunds.processing-time:duration}`` takes the first
duration written in that clause, so a new pack version changes the draft with the policy. A fact that
is not known yet stays visible as ``[order id]`` for the rep to fill in.

A customer writing one of the pack's other languages gets the draft in that language when the pack has its
body in it (the path's ``draft_by_language``, or the settings' generic, handoff and acknowledgement texts), with
the greeting, opening, disclosure and closing in it too; otherwise the English draft, and the panel's notice says
the customer writes another language.

A draft follows the case, not only the message (``draft_reply``): the AI disclosure leads every draft until a rep
message has said it (so once per conversation when the rep sends the draft; a draft never omits what the
disclosure rule would then flag),
an escalation's opening only the reply to the message that raised it, a question the template marks with the
fact it asks for (``{?email}Which email is on the account?{/?}``) is left out once that fact is known, a message
that only thanks or agrees gets a closing reply, and facts read as a person writes them ($35.00, 12 March 2025).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from copilot.reasoning.case import Case
from copilot.reasoning.claims import quantities
from copilot.reasoning.escalation import Escalation
from copilot.reasoning.facts import ENGLISH_DATES, DateStyle, Facts
from copilot.reasoning.guidance import Category, Guidance, PlaybookSettings, in_language
from copilot.reasoning.rules import disclosed
from copilot.reasoning.suggest import Suggestion
from copilot.reasoning.topics import Topics
from retrieval.jurisdiction import covers

_PLACEHOLDER = re.compile(r"\{([a-z0-9][a-z0-9._-]*)(?::(duration|amount|percent))?\}")
_KIND_UNITS = {"duration": ("hour", "day", "week", "month", "year"), "percent": ("%",)}
_ASKED = re.compile(r"(\s*)\{\?([a-z][a-z0-9_]*)\}(.*?)\{/\?\}", re.DOTALL)
"""A question marked with the fact it asks for (guidance.ASKS), with the space before it."""


@dataclass(frozen=True)
class Reply:
    """A draft for the rep, the clauses it rests on and the facts it still lacks."""

    text: str
    citations: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()
    """Facts shown as ``[name]`` in the text, for the rep to fill in."""
    source: str = "template"
    """``template`` (a playbook path), ``generic``, ``closing`` (the reply to an acknowledgement), or ``llm``."""


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
    template: str,
    facts: Facts,
    clause_text: Callable[[str], str | None],
    currency: str = "USD",
    dates: DateStyle = ENGLISH_DATES,
) -> tuple[str, tuple[str, ...]]:
    """Leave out the questions for known facts and replace placeholders (facts as a person reads them, dates in
    ``dates``' style); returns the text and the facts that were missing."""
    missing: list[str] = []

    def asked(match: re.Match[str]) -> str:
        return "" if facts.get(match.group(2)) is not None else match.group(1) + match.group(3)

    def value(match: re.Match[str]) -> str:
        name, kind = match.group(1), match.group(2)
        found = clause_value(clause_text(name) or "", kind, currency) if kind else facts.shown(name, dates)
        if found is None:
            missing.append(name)
            return f"[{name.replace('_', ' ')}]"
        return found

    template = _ASKED.sub(asked, template)
    return _PLACEHOLDER.sub(value, template), tuple(dict.fromkeys(missing))


def draft_reply(
    case: Case,
    suggestion: Suggestion | None,
    escalations: Sequence[Escalation],
    clause_text: Callable[[str], str | None],
    topics: Topics | None = None,
) -> Reply:
    """The draft for the case's newest message, following the case: the disclosure only while no rep message has
    said it, each escalation's opening only in the reply to the message that raised it, and a closing reply
    when the customer only thanks or agrees and asks for nothing new (``topics``: the topics after the message;
    without them, as when the rep picks a path, the path's draft)."""
    return compose(
        suggestion,
        [e for e in escalations if not case.replied_after(e.seq)],
        case.guidance,
        case.facts,
        case.jurisdiction,
        [t.text for t in case.turns if t.role == "rep"],
        clause_text,
        case.language,
        acknowledged=topics is not None and not topics.change and case.acknowledges,
    )


def _dates(settings: PlaybookSettings, language: str | None) -> DateStyle:
    """The date style of ``language`` (the default language's when None or the pack has no month names for it)."""
    months = settings.months_by_language.get(language) if language else None
    if not months:
        return DateStyle(settings.date_format)
    return DateStyle(in_language(settings.date_format, settings.date_format_by_language, language), months)


def compose(
    suggestion: Suggestion | None,
    escalations: Sequence[Escalation],
    guidance: Guidance,
    facts: Facts,
    jurisdiction: str,
    rep_texts: list[str],
    clause_text: Callable[[str], str | None],
    language: str | None = None,
    *,
    acknowledged: bool = False,
) -> Reply:
    """Greeting, an opening for the gravest escalation, the body (a closing reply when the customer only
    ``acknowledged``, else the path's template, a handoff or the generic reply), closing; in the customer's
    ``language`` (a code) when the pack has the body in it.

    The pack's AI disclosure line leads when the region requires it and no rep message has told the customer yet.
    """
    settings = guidance.settings
    category = next((c for e in escalations if (c := guidance.category(e.category)) is not None), None)
    body, language, citations, source = _body(suggestion, category, guidance, language, acknowledged)
    parts: list[str] = []
    if (
        covers(guidance.disclosure.jurisdictions, jurisdiction)
        and jurisdiction
        and not disclosed(rep_texts, guidance.disclosure.lines)
    ):
        parts.append(in_language(guidance.disclosure.line, guidance.disclosure.line_by_language, language))
    if category and category.opening:
        parts.append(in_language(category.opening, category.opening_by_language, language))
    parts.append(body)
    dates = _dates(settings, language)
    text, missing = fill(
        " ".join(p for p in parts if p),
        facts,
        lambda cid: clause_text(guidance.citations.get(cid, "")),
        currency_of(jurisdiction),
        dates,
    )
    greeting = in_language(settings.greeting, settings.greeting_by_language, language)
    greeting = greeting if facts.get("customer_first_name") else re.sub(r"\s*\{[^}]*\}", "", greeting)
    greeting, _ = fill(greeting, facts, clause_text)
    closing = in_language(settings.closing, settings.closing_by_language, language)
    return Reply("\n\n".join(p for p in (greeting, text, closing) if p), citations, missing, source)


def _body(
    suggestion: Suggestion | None,
    category: Category | None,
    guidance: Guidance,
    language: str | None,
    acknowledged: bool,
) -> tuple[str, str | None, tuple[str, ...], str]:
    """The draft's body, the language it is in (None: the default), its citations and its source."""
    settings = guidance.settings
    if acknowledged:
        said = guidance.acknowledgement
        if said.reply:
            text, language = _in(said.reply, said.reply_by_language, language)
        else:
            text, language = "", language if language in settings.closing_by_language else None
        return text, language, (), "closing"
    template, in_template = _template(suggestion, guidance, language)
    if suggestion and template:
        return template, in_template, suggestion.citations, "template"
    if category:
        text, language = _in(settings.handoff, settings.handoff_by_language, language)
        return text.replace("{queue}", category.queue), language, guidance.cite(category.clauses), "template"
    text, language = _in(settings.generic, settings.generic_by_language, language)
    return text, language, (), "generic"


def _in(text: str, by_language: dict[str, str], language: str | None) -> tuple[str, str | None]:
    """``text`` in ``language`` and that language where the pack gives it; else the default text and None."""
    return (by_language[language], language) if language and language in by_language else (text, None)


def _template(suggestion: Suggestion | None, guidance: Guidance, language: str | None) -> tuple[str, str | None]:
    """The suggested path's template in ``language`` and that language where its playbook gives one; else its
    own template and None (then all of the draft is in the default language)."""
    if suggestion is None:
        return "", None
    playbook = next((p for p in guidance.playbooks if p.intent == suggestion.intent), None)
    path = next((p for p in playbook.path if p.title == suggestion.title), None) if playbook else None
    translated = path.draft_by_language.get(language) if path and language else None
    return (translated, language) if translated else (suggestion.template, None)
