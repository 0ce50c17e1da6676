"""The one path from a conversation state to advice, shared by the panel, replay and (later) eval."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from copilot.conversation.language import customer_language
from copilot.conversation.query import build_query
from copilot.conversation.state import Conversation
from copilot.reasoner import Advice, Reasoner
from copilot.timing import ms_since
from copilot.workspace import Workspace
from retrieval.search import ClauseHit


@dataclass(frozen=True)
class Insight:
    """Everything the panel shows for one (conversation, seq); immutable so it can cross threads."""

    conversation_id: str
    seq: int
    role: str
    clauses: tuple[ClauseHit, ...]
    """Relevant clauses above the floor, best first."""
    notices: tuple[str, ...] = ()
    """Plain-language caveats for the rep, e.g. that the customer writes in a language we do not cover."""
    packs: tuple[str, ...] = ()
    """``name@version`` of the pack versions that governed this result."""
    timings_ms: dict[str, float] = field(default_factory=dict)
    """Per-stage wall time: embed, search, signals, escalation, suggest, draft, flags, total."""
    advice: Advice = field(default_factory=Advice)

    @property
    def grounded(self) -> bool:
        """Whether any clause or playbook path backs advice for this message ("no grounded answer" if not)."""
        return bool(self.clauses or self.advice.suggestions)


class Pipeline:
    """Runs every stage for one message; blocking, so the UI calls it from a worker thread."""

    def __init__(self, workspace: Workspace, pinned: tuple[str, ...] = ()) -> None:
        self.workspace = workspace
        self.pinned = pinned
        """Pack version keys to use instead of the active ones (``replay --pack``); empty means active."""
        self.reasoner = Reasoner(workspace)

    def run(self, conversation: Conversation, seq: int) -> Insight:
        started = time.perf_counter()
        turn = conversation.turn(seq)
        role = turn.role if turn else ""
        packs = self.pinned or tuple(v.key for v in self.workspace.applicable(conversation))
        query = build_query(conversation, seq)
        if query is None:
            return Insight(conversation.id, seq, role, (), (), packs, {"total": ms_since(started)})
        notices: list[str] = []
        language = customer_language(conversation, seq)
        if language:
            notices.append(
                f"The customer writes in {language}: policy matches and suggestions cover "
                "English only for now, so check them with care."
            )
        if not packs:
            notices.append(
                "No active policy pack covers this conversation's region and date; load or activate one in Packs."
            )
        result = self.workspace.searcher.search(query.focus, query.context, packs, conversation.jurisdiction)
        advice, timings = self.reasoner.advise(conversation, seq, packs, [h.text for h in result.hits])
        timings = {
            "embed": round(result.embed_ms, 2),
            "search": round(result.search_ms, 2),
            **timings,
            "total": ms_since(started),
        }
        return Insight(conversation.id, seq, role, result.hits, tuple(notices), packs, timings, advice)
