"""`copilot bench --live`: many live conversations pushed at once, as the panel receives them.

In one process, as in the app: the push endpoint, the inbox, the follow and the panel's Analysis with the
real pipeline (only the followed conversation is analysed). A sender thread posts ``--conversations``
conversations' messages (demo conversation texts, in turn) at ``--rate`` messages a second in all for
``--duration`` seconds over real HTTP; a share of them (``--disorder``) is sent twice or with the next
message of its conversation first. The rep follows the first conversation, and the second from half time.

It reports events lost or duplicated (every conversation's state against what was sent), arrival to
applied latency of every event, the followed conversation's per-message latency (sent to insight)
beside a single-conversation baseline measured first in the same process, and memory over time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import statistics
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cli.listen import open_pipeline

BASELINE_MESSAGES = 12
"""Messages of one conversation analysed alone first: the single-conversation latency to compare with."""


def add_arguments(bench: argparse.ArgumentParser) -> None:
    """The options of ``copilot bench --live`` (cli/main.py's bench parser calls this)."""
    bench.add_argument("--live", action="store_true", help="push live conversations at once instead (docs/eval.md)")
    bench.add_argument("--conversations", type=int, default=50, help="with --live: concurrent conversations")
    bench.add_argument("--rate", type=float, default=5.0, help="with --live: messages a second, in all")
    bench.add_argument("--duration", type=float, default=600.0, help="with --live: seconds of sending")
    bench.add_argument(
        "--disorder", type=float, default=0.05, help="with --live: share of messages sent twice or out of order"
    )


def rss_mb() -> float:
    """This process's resident memory now (Linux), else its peak."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def demo_lines() -> list[tuple[str, str]]:
    """(role, text) of every demo conversation's messages, in order: what the pushed messages say."""
    from copilot.conversation.events import Message, read_events
    from copilot.settings import DEMO_CONVERSATIONS

    return [
        (e.role, e.text)
        for path in sorted(DEMO_CONVERSATIONS.glob("*.jsonl"))
        for e in read_events(path).events
        if isinstance(e, Message)
    ]


def percentile(values: list[float], share: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


@dataclass
class Clock:
    """When each (conversation, seq) was first sent, applied, and (followed only) analysed."""

    sent: dict[tuple[str, int], float] = field(default_factory=dict)
    applied: dict[tuple[str, int], float] = field(default_factory=dict)
    analysed: dict[tuple[str, int], float] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def mark_sent(self, key: tuple[str, int]) -> None:
        with self.lock:
            self.sent.setdefault(key, time.perf_counter())


class Listener:
    """The panel's side of the analysis, noting when each insight arrives."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock

    def conversation_changed(self, conversation: Any) -> None: ...

    def insight_ready(self, insight: Any) -> None:
        self.clock.analysed.setdefault((insight.conversation_id, insight.seq), time.perf_counter())

    def analysis_failed(self, seq: int, message: str) -> None:
        print(f"analysis of #{seq} failed: {message}", file=sys.stderr)


def send(url: str, token: str, args: argparse.Namespace, clock: Clock, stop: threading.Event) -> dict[str, set[int]]:
    """The sender thread: every conversation's messages at the rate asked; returns what it sent."""
    lines = demo_lines()
    chance = random.Random(17)
    ids = [f"live-{n:03d}" for n in range(args.conversations)]
    sent: dict[str, set[int]] = {cid: set() for cid in ids}
    auth = {"Authorization": f"Bearer {token}"}

    def message(cid: str, seq: int) -> dict[str, Any]:
        role, text = lines[(seq * 7 + int(cid[-3:])) % len(lines)]
        return {"type": "message", "conversation_id": cid, "seq": seq, "role": role, "text": text}

    with httpx.Client(base_url=url, headers=auth, timeout=30) as client:
        headers = [{"type": "conversation", "id": cid, "jurisdiction": "US-CA"} for cid in ids]
        client.post("/events", json=[*headers, {"type": "focus", "conversation_id": ids[0]}]).raise_for_status()
        started = time.perf_counter()
        total = int(args.rate * args.duration)
        slot = 0
        half = False
        while slot < total and not stop.is_set():
            if not half and slot >= total // 2:
                half = True
                client.post("/events", json={"type": "focus", "conversation_id": ids[1]}).raise_for_status()
            cid = ids[slot % len(ids)]
            seq = len(sent[cid]) + 1
            roll = chance.random()
            batch = [message(cid, seq)]
            if roll < args.disorder / 2:  # the next one first, then this one: two slots
                batch = [message(cid, seq + 1), message(cid, seq)]
            elif roll < args.disorder:  # sent twice
                batch = [message(cid, seq), message(cid, seq)]
            delay = started + slot / args.rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            for record in batch:  # back to back: reordered or repeated on the way, not sent late
                clock.mark_sent((cid, record["seq"]))
                client.post("/events", json=record).raise_for_status()
                sent[cid].add(record["seq"])
                slot += 1
    return sent


async def baseline(pipeline: Any) -> list[float]:
    """Per-message latency of one conversation alone (sent to insight, through the panel's Analysis), after
    one warm-up message."""
    from copilot.conversation.events import ConversationStarted, Message
    from copilot.conversation.state import Conversation
    from copilot.session.analysis import Analysis

    clock = Clock()
    ready: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    ready.set_result(pipeline)
    analysis = Analysis(ready, Listener(clock))
    analysis.submit(ConversationStarted(id="alone", jurisdiction="US-CA"))
    warm = Conversation(id="warm-up", jurisdiction="US-CA").apply(Message("warm-up", 1, "customer", "Hello"))
    await asyncio.to_thread(pipeline.run, warm, 1)  # a fresh process's first analysis loads what all share
    for seq, (role, text) in enumerate(demo_lines()[:BASELINE_MESSAGES], start=1):
        clock.sent[("alone", seq)] = time.perf_counter()
        analysis.submit(Message("alone", seq, role, text))
        await analysis.settle()
    await analysis.aclose()
    return [(clock.analysed[key] - clock.sent[key]) * 1000 for key in clock.analysed]


async def run_live(args: argparse.Namespace) -> dict[str, Any]:
    from copilot.conversation.events import Event, Message
    from copilot.session.analysis import Analysis
    from copilot.session.follow import Follow
    from copilot.session.inbox import Inbox
    from copilot.session.memory import ConversationMemory
    from copilot.session.push import PushEndpoint
    from copilot.settings import home

    pipeline = await asyncio.to_thread(open_pipeline, home())
    alone = await baseline(pipeline)
    clock = Clock()
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[Any] = loop.create_future()
    ready.set_result(pipeline)
    with tempfile.TemporaryDirectory(prefix="copilot-live-bench-") as folder:
        analysis = Analysis(ready, Listener(clock), ConversationMemory(Path(folder)))
        follow = Follow(analysis)

        def apply(event: Event) -> None:
            follow.apply(event)
            if isinstance(event, Message):
                clock.applied.setdefault((event.conversation_id, event.seq), time.perf_counter())

        inbox = Inbox(loop, apply)
        push = PushEndpoint(inbox, "bench-token", 0)
        await push.start()
        memory: list[tuple[float, float]] = [(0.0, rss_mb())]
        stop = threading.Event()
        started = time.perf_counter()
        sender = asyncio.ensure_future(asyncio.to_thread(send, push.url, "bench-token", args, clock, stop))
        try:
            while not sender.done():
                await asyncio.wait([sender], timeout=5)
                memory.append((time.perf_counter() - started, rss_mb()))
            sent = sender.result()
            await asyncio.sleep(inbox.hold_s * 2)  # the last gaps fill or are given up on
            inbox.flush()
            await analysis.settle()
        finally:
            stop.set()
            await push.aclose()
            await analysis.aclose()
        states = {cid: follow.state(cid) for cid in sent}
    lost = duplicated = 0
    for cid, seqs in sent.items():
        state = states[cid]
        turns = [t.seq for t in state.turns] if state is not None else []
        lost += len(seqs - set(turns))
        duplicated += len(turns) - len(set(turns))
    applied = [(clock.applied[k] - t) * 1000 for k, t in clock.sent.items() if k in clock.applied]
    followed = [(clock.analysed[k] - clock.sent[k]) * 1000 for k in clock.analysed if k in clock.sent]
    quarter = max(1, len(memory) // 4)
    return {
        "conversations": args.conversations,
        "rate": args.rate,
        "duration_s": round(time.perf_counter() - started, 1),
        "messages_sent": sum(len(s) for s in sent.values()),
        "lost": lost,
        "duplicated": duplicated,
        "duplicates_dropped": inbox.counts.duplicates,
        "late": inbox.counts.late,
        "applied_ms": {"p50": percentile(applied, 0.5), "p95": percentile(applied, 0.95), "max": max(applied)},
        "followed_ms": {"n": len(followed), "p50": percentile(followed, 0.5), "p95": percentile(followed, 0.95)},
        "single_conversation_ms": {"n": len(alone), "p50": percentile(alone, 0.5), "p95": percentile(alone, 0.95)},
        "rss_mb": {
            "start": round(memory[0][1], 1),
            "first_quarter": round(statistics.mean(m for _, m in memory[:quarter]), 1),
            "last_quarter": round(statistics.mean(m for _, m in memory[-quarter:]), 1),
            "peak": round(max(m for _, m in memory), 1),
        },
    }


def cmd_bench_live(args: argparse.Namespace) -> int:
    """Run the live benchmark and print its numbers (and one JSON line with ``--json``)."""
    result = asyncio.run(run_live(args))
    applied, followed, alone, rss = (
        result["applied_ms"],
        result["followed_ms"],
        result["single_conversation_ms"],
        result["rss_mb"],
    )
    print(
        f"{result['conversations']} conversations, {result['messages_sent']} messages in {result['duration_s']} s: "
        f"lost {result['lost']}, duplicated {result['duplicated']} "
        f"({result['duplicates_dropped']} duplicate deliveries dropped, {result['late']} late)"
    )
    print(f"arrival -> applied: p50 {applied['p50']:.1f} ms, p95 {applied['p95']:.1f} ms, max {applied['max']:.1f} ms")
    print(
        f"followed conversation, sent -> insight: p50 {followed['p50']:.0f} ms, p95 {followed['p95']:.0f} ms "
        f"(n={followed['n']}); one conversation alone: p50 {alone['p50']:.0f} ms, p95 {alone['p95']:.0f} ms"
    )
    print(
        f"memory: {rss['start']} MB at start, {rss['first_quarter']} MB first quarter, "
        f"{rss['last_quarter']} MB last quarter, peak {rss['peak']} MB"
    )
    if getattr(args, "json", False):
        print(json.dumps(result, separators=(",", ":")))
    return 1 if result["lost"] or result["duplicated"] else 0
