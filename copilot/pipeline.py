"""The one path from a conversation state to advice, shared by the panel, replay and eval."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field

from copilot.conversation.language import customer_language
from copilot.conversation.query import build_query
from copilot.conversation.state import Conversation
from copilot.reasoner import Advice, Reasoner
from copilot.timing import ms_since, stage
from copilot.workspace import Workspace
from retrieval.search import ClauseHit, SearchResult


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
        # Retrieval searches in its own thread (embedding and vector maths let go of the GIL) while the
        # stages that need no clause run here; the draft and the flags wait for its clauses.
        searching: Future[SearchResult] = Future()
        threading.Thread(
            target=self._search,
            args=(searching, query.focus, query.context, packs, conversation.jurisdiction),
            name="retrieval",
            daemon=True,
        ).start()
        timings: dict[str, float] = {}
        with stage(timings, "language"):
            notices = self._notices(conversation, seq, packs)
        advice, stages = self.reasoner.advise(
            conversation, seq, packs, lambda: [h.text for h in searching.result().hits]
        )
        result = searching.result()
        timings = {
            "embed": round(result.embed_ms, 2),
            "search": round(result.search_ms, 2),
            **timings,
            **stages,
            "total": ms_since(started),
        }
        return Insight(conversation.id, seq, role, result.hits, notices, packs, timings, advice)

    def _search(
        self, into: Future[SearchResult], focus: str, context: Sequence[str], packs: tuple[str, ...], region: str
    ) -> None:
        try:
            into.set_result(self.workspace.searcher.search(focus, context, packs, region))
        except BaseException as exc:  # noqa: BLE001 - handed to the pipeline's thread, which raises it
            into.set_exception(exc)

    @staticmethod
    def _notices(conversation: Conversation, seq: int, packs: tuple[str, ...]) -> tuple[str, ...]:
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
        return tuple(notices)
