"""Knowledge gaps: what customers ask that the packs do not answer, grouped by meaning and ranked by how often.

A gap question is a customer message no clause was relevant enough for (below the pack's relevance floor),
or one whose suggestion or draft the rep rewrote heavily. The questions are embedded with the app's own
model and grouped by agglomerative clustering (scikit-learn) with a cosine distance threshold, so the
number of gaps comes from the questions, not from a guess; admins read the biggest groups first, with
examples, to see what policy text is missing.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sqlalchemy import select

from copilot.records.models import Card, Outcome, Question
from copilot.records.queue import HEAVY_EDIT
from copilot.records.review import ADVICE
from copilot.records.store import Records
from retrieval.embed import Embedder

DISTANCE = 0.6
"""Cosine distance under which two questions are the same gap (average linkage; tuned on
``resources/eval/gaps.jsonl``: adjusted Rand index 0.95 at 0.6, 0.91 at 0.55, 1.0 at 0.65, 0.80 at 0.7)."""
MIN_WORDS = 3
WORD = re.compile(r"[^\W\d_]{2,}")
PLACEHOLDER = re.compile(r"\[[A-Z_]+_\d+\]")
"""A redacted piece of personal data (``[EMAIL_1]``): not a word of the question."""
NO_CLAUSE = "no clause"
REWRITTEN = "rewritten"


@dataclass(frozen=True)
class GapQuestion:
    """A customer question the packs did not answer well."""

    conversation_id: str
    seq: int
    text: str
    why: str
    """``no clause`` (none passed the relevance floor) or ``rewritten`` (the rep rewrote the advice)."""
    topic: str


@dataclass(frozen=True)
class Gap:
    """Questions of one meaning, as admins read them."""

    questions: tuple[GapQuestion, ...]

    @property
    def size(self) -> int:
        return len(self.questions)

    def examples(self, n: int = 3) -> list[str]:
        """Up to ``n`` different wordings, shortest first (the easiest to read)."""
        return sorted({q.text for q in self.questions}, key=len)[:n]

    @property
    def why(self) -> dict[str, int]:
        return dict(Counter(q.why for q in self.questions))

    @property
    def conversations(self) -> int:
        return len({q.conversation_id for q in self.questions})


def gap_questions(records: Records, since: datetime | None = None) -> list[GapQuestion]:
    """The questions no clause answered or whose advice reps rewrote heavily, oldest first."""
    rewritten = (
        select(Card.conversation_id, Card.seq)
        .where(Card.kind.in_(sorted(ADVICE)), Card.outcome == Outcome.EDITED, Card.edit_ratio >= HEAVY_EDIT)
        .distinct()
    )
    questions = select(Question).order_by(Question.at, Question.id)
    if since is not None:
        questions = questions.where(Question.at >= since)
    with records.sessions.reading() as session:
        edited = {(conversation, seq) for conversation, seq in session.execute(rewritten)}
        return [
            GapQuestion(q.conversation_id, q.seq, q.text, NO_CLAUSE if not q.answered else REWRITTEN, q.topic)
            for q in session.scalars(questions)
            if (not q.answered or (q.conversation_id, q.seq) in edited) and _asks(q.text)
        ]


def _asks(text: str) -> bool:
    """Whether a message has words enough to ask something: an id, a code or an email address alone (what
    customers send when asked for one) is no question a clause could answer."""
    return len(WORD.findall(PLACEHOLDER.sub(" ", text))) >= MIN_WORDS


def cluster(vectors: np.ndarray, distance: float = DISTANCE) -> list[int]:
    """A group label per row of unit vectors: rows closer than ``distance`` (cosine, average linkage) join."""
    if len(vectors) < 2:
        return [0] * len(vectors)
    model = AgglomerativeClustering(n_clusters=None, distance_threshold=distance, metric="cosine", linkage="average")
    return [int(label) for label in model.fit_predict(vectors)]


def group(questions: Sequence[GapQuestion], embedder: Embedder, distance: float = DISTANCE) -> list[Gap]:
    """``questions`` grouped by meaning, the most frequent gap first."""
    if not questions:
        return []
    labels = cluster(embedder.encode([q.text for q in questions]), distance)
    groups: dict[int, list[GapQuestion]] = {}
    for label, question in zip(labels, questions, strict=True):
        groups.setdefault(label, []).append(question)
    return sorted((Gap(tuple(found)) for found in groups.values()), key=lambda g: (-g.size, g.examples(1)))


def knowledge_gaps(
    records: Records, embedder: Embedder, since: datetime | None = None, distance: float = DISTANCE
) -> list[Gap]:
    """The knowledge gaps in the records, the most frequent first."""
    return group(gap_questions(records, since), embedder, distance)
