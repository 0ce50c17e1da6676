"""`copilot bench`: speed and memory of the copilot on this machine, on synthetic packs made from a seed.

Numbers, not verdicts: the targets live in the issue tracker and the closing notes. Timed parts:
raw embedding throughput, pack ingest throughput (and its ratio to raw embedding), per-message
retrieval, the whole per-message pipeline (retrieval plus escalation, intent, paths, draft, verification
and flags, with the demo pack's guidance on), and the floor beside them (one query embedding plus one
vector search); cold start to first paint and the longest UI stall are measured in child processes.
"""

from __future__ import annotations

import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from copilot.conversation.events import ConversationStarted, Message, read_events
from copilot.conversation.query import build_query
from copilot.conversation.state import Conversation
from copilot.pipeline import Pipeline
from copilot.settings import DEMO_CONVERSATIONS, DEMO_PACK
from copilot.workspace import Workspace
from retrieval.embed import LocalEmbedder
from retrieval.ingest import clause_chunks
from retrieval.synthetic import synthetic_pack, write_pack

RAW_SAMPLE = 1000
"""Texts embedded to measure raw throughput (the same for every pack size)."""


def _quantiles(samples: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(samples), 2), "p95": round(statistics.quantiles(samples, n=20)[-1], 2)}


def _states() -> list[tuple[Conversation, int]]:
    """Every (conversation, message seq) of the demo conversations: the messages a panel would analyse."""
    states: list[tuple[Conversation, int]] = []
    for path in sorted(DEMO_CONVERSATIONS.glob("*.jsonl")):
        conversation = Conversation(path.stem)
        for event in read_events(path).events:
            conversation = (
                Conversation.start(event) if isinstance(event, ConversationStarted) else conversation.apply(event)
            )
            if isinstance(event, Message):
                states.append((conversation, event.seq))
    return states


def _timed(run: Callable[[], object]) -> float:
    started = time.perf_counter()
    run()
    return (time.perf_counter() - started) * 1000


def _size(clauses: int, seed: int, embedder: LocalEmbedder, say: Callable[[str], None]) -> dict[str, object]:
    pack = synthetic_pack(clauses, seed)
    texts = [text for clause in pack.clauses for text in clause_chunks(clause)]
    sample = texts[:RAW_SAMPLE]
    raw_s = _timed(lambda: embedder.encode(sample)) / 1000
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as folder:
        workspace = Workspace(Path(folder), embedder)
        source = write_pack(pack, Path(folder) / "pack")
        say(f"{clauses} clauses: ingesting {len(texts)} texts")
        ingest_s = _timed(lambda: workspace.load_pack(source)) / 1000
        # The demo pack rides along so its playbooks, escalation taxonomy and rules are on, as in the panel.
        demo = workspace.load_pack(DEMO_PACK, activate=False).pack
        keys = (f"{pack.name}@{pack.version}", f"{demo.name}@{demo.version}")
        states = _states()
        pipeline = Pipeline(workspace, keys)
        searcher = workspace.searcher
        pipeline.run(*states[0])  # builds the lexical index once, as the panel's first message does
        retrieval, whole, floor = [], [], []
        for conversation, seq in states:
            query = build_query(conversation, seq)
            if query is None:
                continue
            # The pipeline first: like the panel, it meets this message's text for the first time.
            whole.append(_timed(lambda: pipeline.run(conversation, seq)))
            retrieval.append(
                _timed(lambda: searcher.search(query.focus, query.context, keys, conversation.jurisdiction))
            )
            floor.append(_timed(lambda: workspace.store.query(embedder.encode([query.focus])[0], 3, list(keys))))
        workspace.close()
    embed_per_s = len(sample) / raw_s
    ingest_per_s = len(texts) / ingest_s
    return {
        "embed_per_s": round(embed_per_s, 1),
        "ingest_per_s": round(ingest_per_s, 1),
        "ingest_ratio": round(ingest_per_s / embed_per_s, 3),
        "retrieval_ms": _quantiles(retrieval),
        "pipeline_ms": _quantiles(whole),
        "floor_ms": _quantiles(floor),
    }


def _cold_start(runs: int = 3) -> float:
    """Seconds from a fresh `copilot run` process to its first panel paint, offscreen (median of runs)."""
    times = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory(prefix="copilot-bench-home-") as home:
            env = {**os.environ, "COPILOT_HOME": home, "QT_QPA_PLATFORM": "offscreen"}
            process = subprocess.Popen(
                [sys.executable, "-m", "cli.main", "-v", "run"],
                env=env,
                stderr=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                text=True,
            )
            assert process.stderr is not None
            for line in process.stderr:
                found = re.search(r"panel painted ([\d.]+) s", line)
                if found:
                    times.append(float(found.group(1)))
                    break
            process.terminate()
            process.wait(timeout=30)
            process.stderr.close()
    return round(statistics.median(times), 2)


def _ui_stall() -> dict[str, float]:
    conversation = DEMO_CONVERSATIONS / "refund-outside-window.jsonl"
    with tempfile.TemporaryDirectory(prefix="copilot-bench-home-") as home:
        env = {**os.environ, "COPILOT_HOME": home, "QT_QPA_PLATFORM": "offscreen"}
        done = subprocess.run(
            [sys.executable, "-m", "ui.bench", str(conversation)],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def run_bench(
    sizes: tuple[int, ...] = (1000, 10000), seed: int = 7, say: Callable[[str], None] = lambda text: None
) -> dict[str, object]:
    """Every measurement, keyed as `copilot bench --json` prints them."""
    embedder = LocalEmbedder()
    embedder.load()
    per_size = {}
    for clauses in sizes:
        per_size[str(clauses)] = _size(clauses, seed, embedder, say)
    result: dict[str, object] = {
        name: {size: values[name] for size, values in per_size.items()}
        for name in ("embed_per_s", "ingest_per_s", "ingest_ratio", "retrieval_ms", "pipeline_ms", "floor_ms")
    }
    say("cold start")
    result["cold_start_s"] = _cold_start()
    say("UI stall while playing a demo conversation")
    stall = _ui_stall()
    result["max_ui_stall_ms"] = stall["max_ui_stall_ms"]
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result
