"""The one path from a conversation state to advice, shared by the panel, replay and eval."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, TypeVar

from copilot.conversation.language import customer_language
from copilot.conversation.query import build_query
from copilot.conversation.state import Conversation
from copilot.reasoner import Advice, Reasoner
from copilot.timing import ms_since, stage
from copilot.workspace import Workspace
from retrieval.search import ClauseHit

T = TypeVar("T")


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


class Worker:
    """One daemon thread that runs jobs in order: retrieval's own thread (starting a thread per message
    cost about 2 ms; a daemon never holds a closing app)."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._jobs: queue.SimpleQueue[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, job: Callable[..., T], *args: Any) -> Future[T]:
        future: Future[T] = Future()
        self._jobs.put((future, job, args))
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._serve, name=self._name, daemon=True)
                self._thread.start()
        return future

    def _serve(self) -> None:
        while True:
            future, job, args = self._jobs.get()
            try:
                future.set_result(job(*args))
            except BaseException as exc:  # noqa: BLE001 - handed to whoever waits on the future, which raises it
                future.set_exception(exc)


class Pipeline:
    """Runs every stage for one message; blocking, so the UI calls it from a worker thread."""

    def __init__(self, workspace: Workspace, pinned: tuple[str, ...] = ()) -> None:
        self.workspace = workspace
        self.pinned = pinned
        """Pack version keys to use instead of the active ones (``replay --pack``); empty means active."""
        self.reasoner = Reasoner(workspace)
        self._retrieval = Worker("retrieval")

    def run(self, conversation: Conversation, seq: int) -> Insight:
        started = time.perf_counter()
        turn = conversation.turn(seq)
        role = turn.role if turn else ""
        packs = self.pinned or tuple(v.key for v in self.workspace.applicable(conversation))
        query = build_query(conversation, seq)
        if query is None:
            return Insight(conversation.id, seq, role, (), (), packs, {"total": ms_since(started)})
        # Retrieval searches in its own thread (embedding and vector maths let go of the GIL) while the
        # stages that need no clause run here; only checking figures waits for its clauses.
        searching = self._retrieval.submit(
            self.workspace.searcher.search, query.focus, query.context, packs, conversation.jurisdiction
        )
        timings: dict[str, float] = {}
        with stage(timings, "language"):
            notices = self._notices(conversation, seq, packs)
        case = self.reasoner.case(conversation, seq, packs)
        advice, stages = self.reasoner.advise(case, lambda: [h.text for h in searching.result().hits])
        if advice.topics.notice:
            notices = (advice.topics.notice, *notices)
        result = searching.result()
        timings = {
            "embed": round(result.embed_ms, 2),
            "search": round(result.search_ms, 2),
            **timings,
            **stages,
            "total": ms_since(started),
        }
        return Insight(conversation.id, seq, role, result.hits, notices, packs, timings, advice)

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
        turn = next((t for t in conversation.turns if t.seq == seq), None)
        if turn is not None and turn.notice:
            notices.append(turn.notice)
        return tuple(notices)
