"""Events of many live conversations in, each conversation's events out in seq order and only once.

A push sender or a helpdesk's webhooks may deliver events late, out of order or twice (a retried
request). The inbox keys every event by (conversation id, seq): a seq seen before is dropped, an event
that follows the newest applied one is applied at once, and one that arrives ahead of a gap is held for
``hold_s`` seconds waiting for the missing seqs, then applied in seq order with whatever came. Senders
whose seqs are not consecutive (a helpdesk's message ids) therefore wait at most ``hold_s``; a source
that guarantees its own order (the Chatwoot poller reads each conversation oldest first) passes
``ordered=True`` and is never held.

An event older than the newest applied one of its conversation (it came after its gap was given up on)
is still applied: it is late, not lost, and counted as such.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from base.errors import EventError
from copilot.conversation.events import (
    ConversationStarted,
    Event,
    Message,
    OtherEvent,
    ToolCall,
    ToolResult,
    parse_event,
)

HOLD_S = 0.1
"""How long an event ahead of a gap waits for the missing seqs: short, since the rep is waiting too
(the panel should show a pushed message within 200 ms of its arrival)."""
MAX_BATCH = 1_000
"""Most events in one batch; a larger one is refused whole (send it in parts)."""


def conversation_of(event: Event) -> str:
    """The id of the conversation ``event`` belongs to ('' for an event that names none)."""
    if isinstance(event, ConversationStarted):
        return event.id
    if isinstance(event, OtherEvent):
        value = event.data.get("conversation_id", "")
        return value if isinstance(value, str) else ""
    return event.conversation_id


def parse_batch(records: Sequence[object], source: str) -> list[Event]:
    """Every record as an event, or EventError for the first bad one (its 1-based position is the
    error's line): a batch is checked whole before any of it is applied."""
    if len(records) > MAX_BATCH:
        raise EventError(source, 0, "batch", f"holds {len(records):,} events, over {MAX_BATCH:,}; send it in parts")
    return [parse_event(record, source, number) for number, record in enumerate(records, start=1)]


@dataclass
class _Track:
    """One conversation's place in the order."""

    newest: int | None = None
    """The highest seq applied (None before the first)."""
    seen: set[int] = field(default_factory=set)
    held: dict[int, tuple[Event, float]] = field(default_factory=dict)
    """Events ahead of a gap, by seq, with the monotonic time they arrived."""


@dataclass
class Receipt:
    """What became of one submission: what a push sender is answered."""

    accepted: int = 0
    """Events applied now (including events held before that they released)."""
    held: int = 0
    """Events of this submission still ahead of a gap, waiting up to ``hold_s`` for the missing seqs."""
    duplicates: int = 0
    """Events whose (conversation id, seq) was seen before: dropped."""

    def as_dict(self) -> dict[str, int]:
        return {"accepted": self.accepted, "held": self.held, "duplicates": self.duplicates}


@dataclass
class Counts:
    """Totals since the inbox opened (``copilot bench --live`` reads them)."""

    applied: int = 0
    duplicates: int = 0
    late: int = 0
    """Events applied after a higher seq of their conversation (their gap was given up on)."""
    released: int = 0
    """Held events applied because their wait ran out rather than because the gap was filled."""


class Inbox:
    """Puts each conversation's events in order and hands them, once each, to ``apply`` on the loop.

    Not thread-safe: submit from the loop the inbox was made on (the push endpoint's handlers run there).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, apply: Callable[[Event], None], hold_s: float = HOLD_S) -> None:
        self._loop = loop
        self._apply = apply
        self.hold_s = hold_s
        self._tracks: dict[str, _Track] = {}
        self._timer: asyncio.TimerHandle | None = None
        self.counts = Counts()

    def submit_records(self, records: Sequence[object], source: str, ordered: bool = False) -> Receipt:
        """Parse every record (raising EventError, nothing applied, if one is bad), then submit them."""
        return self.submit(parse_batch(records, source), ordered)

    def submit(self, events: Sequence[Event], ordered: bool = False) -> Receipt:
        """Apply what is in order now, hold what is ahead of a gap, drop what was seen before."""
        receipt = Receipt()
        for event in events:
            self._offer(event, ordered, receipt)
        receipt.held = sum(
            1
            for event in events
            if isinstance(event, (Message, ToolCall, ToolResult))
            and self._tracks[event.conversation_id].held.get(event.seq, (None,))[0] is event
        )
        self._arm()
        return receipt

    def _offer(self, event: Event, ordered: bool, receipt: Receipt) -> None:
        if not isinstance(event, (Message, ToolCall, ToolResult)):
            self._deliver(event, receipt)  # headers, focus and status changes carry no seq: applied as they come
            return
        track = self._tracks.setdefault(event.conversation_id, _Track())
        seq = event.seq
        if seq in track.seen:
            receipt.duplicates += 1
            self.counts.duplicates += 1
            return
        track.seen.add(seq)
        expected = 1 if track.newest is None else track.newest + 1
        if ordered or seq <= expected:
            if track.newest is not None and seq < track.newest:
                self.counts.late += 1
            self._apply_in_order(track, event, receipt)
            return
        track.held[seq] = (event, time.monotonic())

    def _apply_in_order(self, track: _Track, event: Event, receipt: Receipt) -> None:
        """Apply ``event`` and every held event that now follows without a gap."""
        self._deliver(event, receipt)
        seq = getattr(event, "seq", 0)
        track.newest = seq if track.newest is None else max(track.newest, seq)
        while (following := track.held.pop(track.newest + 1, None)) is not None:
            self._deliver(following[0], receipt)
            track.newest += 1

    def _deliver(self, event: Event, receipt: Receipt) -> None:
        receipt.accepted += 1
        self.counts.applied += 1
        self._apply(event)

    def _arm(self) -> None:
        """Wake up when the oldest held event's wait runs out (one timer for the whole inbox)."""
        oldest = min((since for track in self._tracks.values() for _, since in track.held.values()), default=None)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if oldest is not None:
            delay = max(0.0, oldest + self.hold_s - time.monotonic())
            self._timer = self._loop.call_later(delay, self._release)

    def _release(self) -> None:
        """Give up on the gaps that waited long enough: apply their conversations' held events in order."""
        self._timer = None
        now = time.monotonic()
        receipt = Receipt()
        for track in self._tracks.values():
            if track.held and min(since for _, since in track.held.values()) + self.hold_s <= now:
                self.counts.released += len(track.held)
                self._give_up(track, receipt)
        self._arm()

    def _give_up(self, track: _Track, receipt: Receipt) -> None:
        """Apply a conversation's held events in seq order, the gaps before them left open."""
        while track.held:
            event, _ = track.held.pop(min(track.held))
            self._apply_in_order(track, event, receipt)

    def held(self) -> int:
        """Events waiting for a gap to fill."""
        return sum(len(track.held) for track in self._tracks.values())

    def flush(self) -> None:
        """Apply every held event now, in order (closing: nothing received is lost)."""
        for track in self._tracks.values():
            self._give_up(track, Receipt())
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def status(self) -> dict[str, Any]:
        """Counts and, per conversation, the newest seq applied: what ``GET /status`` answers."""
        return {
            "applied": self.counts.applied,
            "duplicates": self.counts.duplicates,
            "late": self.counts.late,
            "released": self.counts.released,
            "held": self.held(),
            "conversations": {cid: track.newest for cid, track in self._tracks.items()},
        }
