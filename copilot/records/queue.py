"""The leads' review queue: what needs a lead's eye, and what a lead does with each item.

An item is a record that shows a slip or a doubt: a draft inserted over verification, a suggestion or draft
rejected or heavily rewritten, an action that needed a lead, a clause a rep marked outdated or wrong, an
escalation the rep did not follow. The queue is worked out from the records each time; a lead's verdict
(dismiss, coach the rep, or raise a change request against the clause) is stored and takes the item out.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select

from base.errors import RecordsError
from copilot.records.columns import now
from copilot.records.models import (
    Approval,
    Card,
    ChangeRequest,
    Coaching,
    Concern,
    Insert,
    Kind,
    Outcome,
    Reason,
    RequestState,
    Review,
    Verdict,
)
from copilot.records.review import ADVICE
from copilot.records.store import Records

HEAVY_EDIT = 0.5
"""An edit ratio from which a sent suggestion or draft counts as rewritten (half its words or more changed)."""
WRONG = (Reason.WRONG, Reason.OUTDATED)
"""The rejection reasons that say a clause itself is wrong."""
NOT_FOLLOWED = (Outcome.REJECTED, Outcome.IGNORED)


@dataclass(frozen=True)
class Item:
    """One thing for a lead to look at, with enough to judge it without opening the conversation."""

    source: str
    """``card``, ``insert`` or ``approval``: the kind of record it is."""
    source_id: int
    concern: Concern
    conversation_id: str
    seq: int
    rep: str
    at: datetime
    shown: str
    """What the copilot showed (the card's words, the inserted draft, the action)."""
    sent: str
    """What the rep sent or inserted ('' if nothing)."""
    detail: str
    """Why it is here, in a few words: the rejection reason, how much was rewritten, what was not backed."""
    clause: str
    """The clause a change request would be raised against ('' when the record cites none)."""
    packs: tuple[str, ...] = ()

    def evidence(self) -> dict[str, Any]:
        """The item as a change request keeps it."""
        found = asdict(self)
        found["at"] = self.at.isoformat()
        found["packs"] = list(self.packs)
        return found


def _card_concern(card: Card) -> tuple[Concern, str] | None:
    if card.kind in ADVICE and card.outcome is Outcome.REJECTED:
        return Concern.REJECTED, f"rejected: {card.reason or 'no reason given'}"
    if card.kind in ADVICE and card.outcome is Outcome.EDITED and (card.edit_ratio or 0) >= HEAVY_EDIT:
        return Concern.REWRITTEN, f"{card.edit_ratio:.0%} of the words rewritten"
    if card.kind is Kind.CLAUSE and card.reason in WRONG:
        return Concern.CLAUSE_WRONG, f"marked {card.reason}"
    if card.kind is Kind.ESCALATION and card.outcome in NOT_FOLLOWED:
        return Concern.ESCALATION_SKIPPED, f"escalation to {card.text or card.key} {card.outcome}"
    return None


def _card_items(cards: list[Card]) -> Iterator[Item]:
    for card in cards:
        if (found := _card_concern(card)) is None:
            continue
        concern, detail = found
        clause = card.key if card.kind is Kind.CLAUSE else (card.citations[0] if card.citations else "")
        yield Item(
            "card",
            card.id,
            concern,
            card.conversation_id,
            card.seq,
            card.rep,
            card.decided_at or card.shown_at,
            card.text,
            card.sent_text or "",
            detail,
            clause,
            tuple(card.packs),
        )


def items(records: Records, rep: str | None = None, since: datetime | None = None) -> list[Item]:
    """The queue: every item no lead has given a verdict on, newest first."""
    cards = select(Card).where(
        (Card.kind.in_(sorted(ADVICE)) & Card.outcome.in_([Outcome.REJECTED, Outcome.EDITED]))
        | ((Card.kind == Kind.CLAUSE) & Card.reason.in_(WRONG))
        | ((Card.kind == Kind.ESCALATION) & Card.outcome.in_(NOT_FOLLOWED))
    )
    inserts = select(Insert).where(Insert.overridden.is_(True))
    approvals = select(Approval)
    if rep is not None:
        cards, inserts, approvals = (
            cards.where(Card.rep == rep),
            inserts.where(Insert.rep == rep),
            approvals.where(Approval.rep == rep),
        )
    if since is not None:
        cards = cards.where(Card.shown_at >= since)
        inserts, approvals = inserts.where(Insert.at >= since), approvals.where(Approval.at >= since)
    with records.sessions.reading() as session:
        reviewed = {(source, id_) for source, id_ in session.execute(select(Review.source, Review.source_id))}
        found = [
            *_card_items(list(session.scalars(cards))),
            *(
                Item(
                    "insert",
                    insert.id,
                    Concern.OVERRIDE,
                    insert.conversation_id,
                    insert.seq,
                    insert.rep,
                    insert.at,
                    "",
                    insert.text,
                    "not backed: " + ", ".join(repr(span["text"]) for span in insert.unsupported),
                    "",
                )
                for insert in session.scalars(inserts)
            ),
            *(
                Item(
                    "approval",
                    approval.id,
                    Concern.NEEDED_LEAD,
                    approval.conversation_id,
                    approval.seq,
                    approval.rep,
                    approval.at,
                    approval.action,
                    "",
                    f"approved by {approval.lead}",
                    approval.citations[0] if approval.citations else "",
                )
                for approval in session.scalars(approvals)
            ),
        ]
    return sorted(
        (item for item in found if (item.source, item.source_id) not in reviewed),
        key=lambda i: (i.at, i.source, i.source_id),
        reverse=True,
    )


def _verdict(records: Records, item: Item, verdict: Verdict, lead: str, at: datetime) -> Review:
    with records.sessions.reading() as session:
        earlier = session.scalars(
            select(Review).where(Review.source == item.source, Review.source_id == item.source_id)
        ).first()
    if earlier is not None:
        raise RecordsError(
            f"{earlier.lead} already {earlier.verdict.replace('_', ' ')} this {item.concern} item "
            f"({item.conversation_id}, message {item.seq}) at {earlier.at:%Y-%m-%d %H:%M}; refresh the queue"
        )
    return Review(
        source=item.source,
        source_id=item.source_id,
        concern=item.concern,
        verdict=verdict,
        lead=lead,
        at=at,
        conversation_id=item.conversation_id,
        rep=item.rep,
    )


def dismiss(records: Records, item: Item, lead: str) -> None:
    """Nothing to do about it: the item leaves the queue."""
    at = now()
    review = _verdict(records, item, Verdict.DISMISSED, lead, at)
    with records.sessions.writing() as session:
        session.add(review)


def coach(records: Records, item: Item, lead: str, note: str) -> None:
    """A note to the item's rep, shown in their panel next time (``Records.coaching_for``)."""
    if not note.strip():
        raise RecordsError("a coaching note needs some words for the rep: what to do differently next time")
    at = now()
    review = _verdict(records, item, Verdict.COACHED, lead, at)
    with records.sessions.writing() as session:
        session.add(review)
        session.add(Coaching(rep=item.rep, lead=lead, note=note.strip(), conversation_id=item.conversation_id, at=at))


def request_change(records: Records, item: Item, lead: str, note: str, clause: str = "") -> ChangeRequest:
    """A change request against ``clause`` (default: the clause the item cites), kept with the item as its
    evidence and listed for admins in the Packs window."""
    clause = clause.strip() or item.clause
    if not clause:
        raise RecordsError(
            f"this {item.concern} item cites no clause: name the clause to change (its citation, e.g. "
            "pack@version#clause-id), or coach the rep instead"
        )
    if not note.strip():
        raise RecordsError("a change request needs a note for the admins: what is wrong with the clause")
    at = now()
    review = _verdict(records, item, Verdict.CHANGE_REQUESTED, lead, at)
    request = ChangeRequest(
        clause=clause,
        packs=list(item.packs),
        note=note.strip(),
        evidence=[item.evidence()],
        lead=lead,
        at=at,
        state=RequestState.OPEN,
        closed_by="",
    )
    with records.sessions.writing() as session:
        session.add_all([review, request])
    return request


def change_requests(records: Records, state: RequestState | None = RequestState.OPEN) -> list[ChangeRequest]:
    """The change requests in ``state`` (None: all), newest first: what the Packs window lists for admins."""
    query = select(ChangeRequest).order_by(ChangeRequest.at.desc(), ChangeRequest.id.desc())
    if state is not None:
        query = query.where(ChangeRequest.state == state)
    with records.sessions.reading() as session:
        return list(session.scalars(query))


def close_request(records: Records, request_id: int, state: RequestState, admin: str) -> None:
    """An admin accepted (and changed the pack) or declined a change request."""
    if state is RequestState.OPEN:
        raise RecordsError("a change request is closed as accepted or declined, not open")
    with records.sessions.writing() as session:
        request = session.get(ChangeRequest, request_id)
        if request is None:
            raise RecordsError(f"no change request {request_id}; the Packs window lists the open ones")
        request.state, request.closed_by, request.closed_at = state, admin, now()
