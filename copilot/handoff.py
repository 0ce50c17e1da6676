"""The handoff package for the colleague who takes a case over: what happened, how the customer feels,
what was tried, what to do next, the policy behind it and a reply to start from.

The summary is extractive (sentences picked from the conversation, never invented), so it needs no
language model and cannot misstate what the customer said.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from copilot.conversation.state import Conversation
from copilot.pipeline import Insight
from copilot.reasoning.signals import sentences

_TRIED = re.compile(
    r"\b(?:I'?ve|I have|we'?ve|we have|I|we)\s+(?:just\s+|now\s+|already\s+)?(?:checked|looked|sent|issued|"
    r"offered|opened|cancell?ed|refunded|verified|updated|changed|escalated|reset|arranged|raised|booked|"
    r"confirmed|processed|applied|tried|can see|found)\b",
    re.IGNORECASE,
)


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in sentences(text) if len(s.strip()) > 3]


@dataclass(frozen=True)
class Handoff:
    summary: str
    sentiment: dict[str, Any]
    escalations: list[dict[str, Any]]
    tried: list[str]
    paths: list[dict[str, Any]]
    citations: list[str]
    suggested_response: str
    plans: list[dict[str, Any]] = field(default_factory=list)
    """The conversation's multi-step plans that ran or stopped (``PlanRun.record()``): steps done, the step that
    stopped and why, so the colleague goes on from there instead of repeating what was done."""

    def record(self) -> dict[str, Any]:
        return {
            "summary": self.summary,
            "sentiment": self.sentiment,
            "escalations": self.escalations,
            "tried": self.tried,
            "paths": self.paths,
            "citations": self.citations,
            "suggested_response": self.suggested_response,
            "plans": self.plans,
        }

    def markdown(self, title: str) -> str:
        lines = [
            f"## Handoff: {title}",
            "",
            self.summary,
            "",
            f"**Customer sentiment:** {self.sentiment['score']:+.2f} ({self.sentiment['trend']})",
        ]
        if self.escalations:
            lines += ["", "**Escalation**"]
            lines += [
                f"- {e['category'].replace('_', ' ')} ({e['severity']}): “{e['evidence']}”, turn {e['seq']}"
                + (f" → {e['queue']}" if e["queue"] else "")
                for e in self.escalations
            ]
        if self.tried:
            lines += ["", "**Tried so far**", *[f"- {t}" for t in self.tried]]
        if self.paths:
            lines += ["", "**Recommended next**"]
            lines += [
                f"- {p['title']}: next, {p['next_step']}" if p["next_step"] else f"- {p['title']}" for p in self.paths
            ]
        for plan in self.plans:
            lines += ["", f"**Plan: {plan['plan']}** ({plan['state'].replace('_', ' ')})"]
            lines += [f"{plan['message']}"] if plan["message"] else []
            lines += [
                f"{n}. {s['label']}: {s['state']}" + (f" ({s['outcome']})" if s["outcome"] else "")
                for n, s in enumerate(plan["steps"], start=1)
            ]
        if self.citations:
            lines += ["", "**Policy**", *[f"- `{c}`" for c in self.citations]]
        lines += [
            "",
            "**Suggested response**",
            "",
            *[f"> {line}" if line else ">" for line in self.suggested_response.splitlines()],
        ]
        return "\n".join(lines) + "\n"


def build_handoff(conversation: Conversation, insight: Insight, plans: Sequence[Mapping[str, Any]] = ()) -> Handoff:
    """The package for the state ``insight`` describes (normally after the newest message), with the state of
    the conversation's ``plans`` that got under way (``PlanRun.record()``; one only offered is left out)."""
    advice = insight.advice
    customer = [t for t in conversation.turns_upto(insight.seq) if t.role == "customer"]
    who = conversation.customer_name or "The customer"
    where = f" ({conversation.jurisdiction})" if conversation.jurisdiction else ""
    parts: list[str] = []
    if customer:
        parts.append(f"{who}{where} wrote: “{' '.join(_sentences(customer[0].text)[:2])}”")
    topics = [t for t in advice.topics.topics if t.known]
    if len(topics) == 1:
        parts.append(f"Topic: {topics[0].title.lower()}.")
    elif topics:
        now = advice.topics.topic
        named = [t.title.lower() + (" (the latest)" if t is now else "") for t in topics]
        parts.append(f"Topics: {'; '.join(named)}.")
    for escalation in advice.escalations:
        turn = conversation.turn(escalation.seq)
        if turn is not None and turn is not (customer[0] if customer else None):
            evidence = next((s for s in _sentences(turn.text) if escalation.evidence.split(" (")[0] in s), None)
            if evidence:
                parts.append(f"Later: “{evidence}”")
    facts = advice.facts
    known = [k for k in facts.values if facts.sources.get(k) != "conversation" and k != "currency"]
    shown = list(dict.fromkeys(["order_id", *known] if facts.get("order_id") else known))
    if shown:
        parts.append("Known: " + ", ".join(f"{k.replace('_', ' ')} {facts.shown(k)}" for k in shown) + ".")
    if len(customer) > 1:
        parts.append(f"Last from the customer: “{' '.join(_sentences(customer[-1].text)[:2])}”")
    tried = [
        s
        for t in conversation.turns_upto(insight.seq)
        if t.role == "rep"
        for s in _sentences(t.text)
        if _TRIED.search(s)
    ]
    tried += [
        f"Looked up in the systems: {t.name.replace('_', ' ')}"
        for t in conversation.tools
        if t.kind == "call" and t.seq <= insight.seq
    ]
    paths = [
        {
            "title": s.title,
            "next_step": s.next_step.text if s.next_step else "",
            "citations": list(s.citations),
            "actions": list(s.actions),
        }
        for s in advice.suggestions
    ]
    citations = list(
        dict.fromkeys(
            [
                *(c for s in advice.suggestions for c in s.citations),
                *(c for e in advice.escalations for c in e.citations),
                *(h.citation for h in insight.clauses[:3]),
            ]
        )
    )
    return Handoff(
        " ".join(parts) or "No customer messages yet.",
        {"score": advice.sentiment.score, "trend": advice.sentiment.trend},
        [
            {
                "category": e.category,
                "severity": e.severity,
                "seq": e.seq,
                "evidence": e.evidence,
                "queue": e.queue,
                "tone": e.tone,
                "citations": list(e.citations),
            }
            for e in advice.escalations
        ],
        tried,
        paths,
        citations,
        advice.reply.text,
        [dict(plan) for plan in plans if plan["state"] not in ("offered", "dismissed")],
    )
