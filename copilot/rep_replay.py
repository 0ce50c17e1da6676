"""Records made by replaying conversations as reps would: for the review window's screenshots and for trying
the review on something real before a team has used the app.

Each customer message runs through the panel's pipeline; its cards are recorded as shown, with the question.
The rep's own next message in the file is what was sent: the draft counts as used with those words (kept
``edited`` with the word diff when they differ) or as sent as shown, rejected or left, by a seeded coin; the
sent text is verified as the panel verifies an insert, so unbacked figures become overrides. Suggestions,
clauses, flags and escalations get the looks and decisions reps give them, by the same coin. Each
conversation ends with a wrap-up (its case as root cause). Four reps share the conversations over two weeks.

``python -m copilot.rep_replay RECORDS_URL DATA_FOLDER CONVERSATION.jsonl ...``
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from copilot.conversation.state import Conversation
from copilot.pipeline import Insight, Pipeline
from copilot.reasoning.claims import verify
from copilot.records.models import Ending, Kind, Outcome, Reason
from copilot.records.shown import cards_of
from copilot.records.store import Records
from copilot.replay import replay_states

REPS = ("ana", "bo", "chen", "dee")
DAYS = 14
REJECTIONS = (Reason.NOT_RELEVANT, Reason.INCOMPLETE, Reason.TONE, Reason.WRONG)


@dataclass
class Desks:
    """One ``Records`` per rep on the same database, and the coin their decisions follow."""

    url: str
    coin: random.Random
    lead: str = "lee"

    def __post_init__(self) -> None:
        self.desks = {rep: Records.open(self.url, rep=rep) for rep in REPS}

    def close(self) -> None:
        for desk in self.desks.values():
            desk.close()


def _decide(desk: Records, coin: random.Random, card: int, kind: Kind, at: datetime) -> None:
    """A look or a decision on a card that is not the draft, as reps give them."""
    roll = coin.random()
    if kind is Kind.SUGGESTION:
        if roll < 0.3:
            desk.card_decided(card, Outcome.INSERTED, at=at)
        elif roll < 0.5:
            desk.card_decided(card, Outcome.REJECTED, reason=coin.choice(REJECTIONS), at=at)
    elif kind is Kind.CLAUSE:
        if roll < 0.04:
            desk.card_decided(card, Outcome.REJECTED, reason=coin.choice((Reason.OUTDATED, Reason.WRONG)), at=at)
        elif roll < 0.3:
            desk.card_decided(card, Outcome.EXPANDED, at=at)
    elif kind is Kind.ESCALATION:
        if roll < 0.55:
            desk.card_decided(card, Outcome.INSERTED, at=at)
        elif roll < 0.7:
            desk.card_decided(card, Outcome.REJECTED, reason=Reason.NOT_RELEVANT, at=at)
    elif kind is Kind.FLAG and roll < 0.25:
        desk.card_decided(card, Outcome.EXPANDED, at=at)


def _replied(
    desks: Desks, desk: Records, insight: Insight, conversation: Conversation, draft: int, at: datetime
) -> None:
    """The draft's fate given the rep's own reply (None: the conversation ended there)."""
    names = (conversation.customer_name,) if conversation.customer_name else ()
    reply = next((t.text for t in conversation.turns if t.seq > insight.seq and t.role != "customer"), None)
    roll = desks.coin.random()
    if reply is None or roll < 0.12:
        return  # left: ignored when the next message comes
    if roll < 0.22:
        desk.card_decided(draft, Outcome.REJECTED, reason=desks.coin.choice(REJECTIONS), at=at)
        return
    sent = insight.advice.reply.text if roll < 0.5 else reply
    known = [t.text for t in conversation.turns if t.seq <= insight.seq]
    unsupported = verify(sent, [hit.text for hit in insight.clauses], known, conversation.jurisdiction)
    desk.journal.record_insert(conversation.id, insight.seq, sent, unsupported)
    desk.card_decided(draft, Outcome.SENT, sent=sent, names=names, at=at)
    if unsupported and desks.coin.random() < 0.3:
        desk.lead_approved(conversation.id, insight.seq, f"Send a reply with {unsupported[0].text}", desks.lead, at=at)


def replay_as_rep(desks: Desks, pipeline: Pipeline, path: Path, rep: str, start: datetime) -> int:
    """Replay one conversation at ``rep``'s desk from ``start``; how many customer messages were advised."""
    desk, coin = desks.desks[rep], desks.coin
    states, _ = replay_states(path)
    full = states[-1][0] if states else None
    advised = 0
    topics: list[str] = []
    escalated = False
    for conversation, seq in states:
        turn = next(t for t in conversation.turns if t.seq == seq)
        if turn.role != "customer" or full is None:
            continue
        insight = pipeline.run(conversation, seq)
        advised += 1
        shown_at = start + timedelta(seconds=45 * seq)
        names = (conversation.customer_name,) if conversation.customer_name else ()
        desk.ignore_undecided(conversation.id, before_seq=seq, at=shown_at)
        cards = cards_of(insight, names)
        ids = desk.cards_shown(cards, at=shown_at)
        best = max((hit.score for hit in insight.clauses), default=None)
        desk.question_asked(
            conversation.id,
            seq,
            turn.text,
            relevance=best,
            answered=bool(insight.clauses),
            topic=insight.advice.intent.id,
            names=names,
            at=shown_at,
        )
        topics.append(insight.advice.intent.id)
        for card, shown in zip(ids, cards, strict=True):
            at = shown_at + timedelta(seconds=coin.uniform(3, 40))
            if shown.kind is Kind.DRAFT:
                _replied(desks, desk, insight, full, card, at)
            else:
                _decide(desk, coin, card, shown.kind, at)
            escalated |= shown.kind is Kind.ESCALATION
    if full is not None:
        end = start + timedelta(seconds=45 * (len(full.turns) + 1))
        desk.ignore_undecided(full.id, at=end)
        causes = [topic for topic in dict.fromkeys(topics) if topic != "unknown"][:2] or ["unknown"]
        ending = Ending.ESCALATED if escalated and coin.random() < 0.6 else coin.choice(list(Ending))
        desk.wrapup_recorded(full.id, ending, causes, f"{full.title or full.id}: {ending}.", at=end)
    return advised


def fill(url: str, pipeline: Pipeline, conversations: Sequence[Path], seed: int = 16) -> int:
    """Replay ``conversations`` into the records at ``url``, spread over the last two weeks among four reps;
    how many customer messages were advised."""
    desks = Desks(url, random.Random(seed))
    if conversations and (states := replay_states(conversations[0])[0]):
        pipeline.run(*states[0])  # loads the models, so the first message's latency is not the loading's
    today = datetime.now(UTC).replace(hour=9, minute=0, second=0, microsecond=0)
    try:
        return sum(
            replay_as_rep(
                desks,
                pipeline,
                path,
                REPS[index % len(REPS)],
                today - timedelta(days=DAYS - 1 - index % DAYS, hours=-(index % 7)),
            )
            for index, path in enumerate(conversations)
        )
    finally:
        desks.close()


def main(argv: Sequence[str] | None = None) -> int:
    from copilot.workspace import Workspace
    from retrieval.embed import LocalEmbedder

    parser = argparse.ArgumentParser(prog="python -m copilot.rep_replay", description=__doc__.splitlines()[0])
    parser.add_argument("url", help="the records database (a SQLAlchemy URL)")
    parser.add_argument("folder", type=Path, help="a data folder whose active packs advise the conversations")
    parser.add_argument("conversations", type=Path, nargs="+", help="event files (.jsonl)")
    parser.add_argument("--seed", type=int, default=16)
    args = parser.parse_args(argv)
    workspace = Workspace(args.folder, LocalEmbedder())
    try:
        advised = fill(args.url, Pipeline(workspace), args.conversations, args.seed)
    finally:
        workspace.close()
    print(f"{advised} customer messages advised and recorded in {len(args.conversations)} conversations")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
