"""`copilot bench`: speed and memory of the copilot on this machine, on synthetic packs made from a seed.

Numbers, not verdicts: the targets live in the issue tracker and the closing notes. Timed parts, per
pack size: raw embedding throughput, pack ingest throughput (and its ratio to raw embedding),
per-message retrieval, the whole per-message pipeline (retrieval plus escalation, intent, paths,
draft, verification and flags, with the demo pack's guidance on) with each of its stages, and the
physical floor beside them, on the same messages: one query embedding, one unfiltered top-10 vector
search and one BM25 top-10, the least any retrieval must do. The filtered query of the old
one-collection layout is timed too. Cold start to first paint, the time the app takes to exit, and
the longest UI stall are measured in child processes.

`copilot bench --qa` measures `copilot qa` on generated records (``run_qa_bench``).

`copilot bench --ingest` measures pack ingest alone, at 1, 10 and 50 MB of clause text: each size in
a child process of its own (so each peak memory is its own), from a cold embedding cache, with the
time spent in the model apart from the rest (reading, chunking, the store and the catalog).

`copilot bench --qa` measures `copilot qa` on generated records (``run_qa_bench``)."""

from __future__ import annotations

import json
import os
import queue
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from copilot.conversation.events import ConversationStarted, Message, read_events
from copilot.conversation.query import build_query
from copilot.conversation.state import Conversation
from copilot.pipeline import Pipeline
from copilot.settings import DEMO_CONVERSATIONS, DEMO_PACK, Settings
from copilot.workspace import Workspace
from retrieval.cache import CachedEmbedder
from retrieval.embed import Embedder, LocalEmbedder
from retrieval.ingest import clause_chunks
from retrieval.lexical import BM25, top
from retrieval.limits import MB
from retrieval.packs import Pack
from retrieval.search import Searcher
from retrieval.synthetic import synthetic_pack, write_pack

if TYPE_CHECKING:
    from chromadb.api.models.Collection import Collection
    from chromadb.api.types import Where

RAW_SAMPLE = 1000
"""Texts embedded to measure raw throughput (the same for every pack size)."""

FLOOR_K = 10
"""Hits of the floor's vector search and BM25 search."""

PAINT_TIMEOUT_S = 300.0
"""How long a cold start may take to paint before it is given up."""

EXIT_GRACE_S = 10.0
"""How long the app is given to exit after SIGTERM before it is killed."""

PER_SIZE = (
    "embed_per_s",
    "ingest_per_s",
    "ingest_ratio",
    "retrieval_ms",
    "pipeline_ms",
    "floor_ms",
    "retrieval_floor_ratio",
    "pipeline_floor_ratio",
    "filtered_query_ms",
    "stage_ms",
    "app_rss_mb",
)
"""Measurements taken at every pack size, keyed by size in the output."""


def _quantiles(samples: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(samples), 2), "p95": round(statistics.quantiles(samples, n=20)[-1], 2)}


def _ratios(measured: dict[str, float], floor: dict[str, float]) -> dict[str, float]:
    """``measured`` over the floor, quantile by quantile (the p50 ratio shrugs off other processes' spikes)."""
    return {q: round(measured[q] / floor[q], 2) for q in measured}


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


def _one_collection(folder: Path, workspace: Workspace, packs: list[Pack]) -> Collection:
    """Every version's vectors in one plain chromadb collection, tagged with their version key: searched
    unfiltered for the physical floor, and filtered as retrieval did before per-version collections."""
    import chromadb
    from chromadb.config import Settings

    client = chromadb.PersistentClient(path=str(folder / "plain"), settings=Settings(anonymized_telemetry=False))
    collection = client.create_collection("plain", embedding_function=None, configuration={"hnsw": {"space": "cosine"}})
    cached = CachedEmbedder(workspace.embedder, workspace.cache)
    for pack in packs:
        pieces = [(pack.citation(c), n, text) for c in pack.clauses for n, text in enumerate(clause_chunks(c))]
        for start in range(0, len(pieces), 1000):
            batch = pieces[start : start + 1000]
            collection.add(
                ids=[f"{cite}::{n}" for cite, n, _ in batch],
                embeddings=cached.encode([text for _, _, text in batch]),
                metadatas=[{"key": pack.key, "citation": cite} for cite, _, _ in batch],
            )
    return collection


def _size(clauses: int, seed: int, embedder: LocalEmbedder, say: Callable[[str], None]) -> dict[str, object]:
    pack = synthetic_pack(clauses, seed)
    texts = [text for clause in pack.clauses for text in clause_chunks(clause)]
    sample = texts[:RAW_SAMPLE]
    raw_s = _timed(lambda: embedder.encode(sample)) / 1000
    with tempfile.TemporaryDirectory(prefix="copilot-bench-") as folder:
        source = write_pack(pack, Path(folder) / "pack")
        _admit(Path(folder), source, clauses)
        workspace = Workspace(Path(folder), embedder)
        say(f"{clauses} clauses: ingesting {len(texts)} texts")
        ingest_s = _timed(lambda: workspace.load_pack(source)) / 1000
        # The demo pack rides along so its playbooks, escalation taxonomy and rules are on, as in the panel.
        demo = workspace.load_pack(DEMO_PACK, activate=False).pack
        keys = (pack.key, demo.key)
        say(f"{clauses} clauses: one plain collection, for the floor and the filtered query")
        plain = _one_collection(Path(folder), workspace, [pack, demo])
        lexical = BM25([f"{c.title}\n{c.text}" for version in (pack, demo) for c in version.clauses])
        states = _states()
        pipeline = Pipeline(workspace, keys)
        # Its own searcher (and so its own memory of embedded turns): it meets every message for the first
        # time, as the pipeline does, instead of finding the pipeline's vectors.
        searcher = Searcher(embedder, workspace.store, workspace.catalog)
        pipeline.run(*states[0])  # builds the clause index once, as the panel's first message does
        searcher.search("warm-up", (), keys)
        say(f"{clauses} clauses: {len(states)} messages")
        retrieval, whole, floor, filtered = [], [], [], []
        stages: dict[str, list[float]] = {}
        for conversation, seq in states:
            query = build_query(conversation, seq)
            if query is None:
                continue
            started = time.perf_counter()
            insight = pipeline.run(conversation, seq)
            whole.append((time.perf_counter() - started) * 1000)
            for stage, ms in insight.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
            retrieval.append(
                _timed(partial(searcher.search, query.focus, query.context, keys, conversation.jurisdiction))
            )
            floor.append(_timed(partial(_floor, embedder, plain, lexical, query.focus)))
            filtered.append(_timed(partial(_filtered_query, embedder, plain, keys, query.focus)))
        workspace.close()
        app_rss_mb = _app_memory(Path(folder), keys)
    embed_per_s = len(sample) / raw_s
    ingest_per_s = len(texts) / ingest_s
    floor_ms = _quantiles(floor)
    return {
        "embed_per_s": round(embed_per_s, 1),
        "ingest_per_s": round(ingest_per_s, 1),
        "ingest_ratio": round(ingest_per_s / embed_per_s, 3),
        "retrieval_ms": _quantiles(retrieval),
        "pipeline_ms": _quantiles(whole),
        "floor_ms": floor_ms,
        "retrieval_floor_ratio": _ratios(_quantiles(retrieval), floor_ms),
        "pipeline_floor_ratio": _ratios(_quantiles(whole), floor_ms),
        "filtered_query_ms": _quantiles(filtered),
        "stage_ms": {stage: _quantiles(values) for stage, values in stages.items()},
        "app_rss_mb": app_rss_mb,
    }


def _app_memory(folder: Path, keys: tuple[str, ...]) -> float | None:
    """Peak memory of a process that holds only what the app holds for these packs (model, store, indexes,
    pipeline) and analyses every demo message: this process's own peak also counts the floor's second
    collection and searcher."""
    try:
        done = subprocess.run(
            [sys.executable, "-m", "cli.bench", "memory", str(folder), *keys],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        return float(done.stdout.strip().splitlines()[-1])
    except (subprocess.SubprocessError, ValueError, IndexError):
        return None


def _memory_of_app(folder: Path, keys: tuple[str, ...]) -> float:
    embedder = LocalEmbedder()
    embedder.load()
    workspace = Workspace(folder, embedder)
    pipeline = Pipeline(workspace, keys)
    for conversation, seq in _states():
        pipeline.run(conversation, seq)
    workspace.close()
    return _memory_mb("VmHWM")


def _memory_mb(field: str) -> float:
    """This process's ``VmHWM`` (peak) or ``VmRSS`` (now) in MB; VmHWM, not ru_maxrss: Linux carries
    ru_maxrss over from the forked parent across exec. Where /proc is missing, the peak from getrusage."""
    status = Path("/proc/self/status")
    found = re.search(rf"^{field}:\s+(\d+) kB", status.read_text(), re.MULTILINE) if status.exists() else None
    return (
        round(int(found.group(1)) / 1024, 1)
        if found
        else round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    )


def _floor(embedder: LocalEmbedder, plain: Collection, lexical: BM25, focus: str) -> None:
    """The least any retrieval must do: embed the message, one unfiltered ANN top-10, one BM25 top-10."""
    plain.query(query_embeddings=embedder.encode([focus]), n_results=FLOOR_K, include=["distances"])
    top(lexical.scores([(focus, 1.0)]), FLOOR_K)


def _filtered_query(embedder: LocalEmbedder, plain: Collection, keys: tuple[str, ...], focus: str) -> None:
    """What the floor was before per-version collections: embed, then a search filtered to the keys."""
    members: dict[Literal["$in", "$nin"], list[str | int | float | bool]] = {"$in": list(keys)}
    where: Where = {"key": members}
    plain.query(
        query_embeddings=embedder.encode([focus]),
        n_results=3,
        where=where,
        include=["distances", "metadatas"],
    )


@dataclass(frozen=True)
class _Launch:
    """One `copilot run` started, waited for until its first paint, then asked to exit."""

    painted_s: float | None
    """Seconds to the first panel paint, as the app logs it; None if it never painted."""
    exit_s: float
    """Seconds from SIGTERM until the process was gone (killed after EXIT_GRACE_S)."""
    killed: bool
    last_line: str
    """The last line it wrote before the paint (or before giving up): why it did not paint."""


def _cold_start(runs: int = 3) -> dict[str, object]:
    """Seconds from a fresh `copilot run` process to its first panel paint, offscreen (median of runs), and
    how long it took to exit once asked."""
    launches = [_launch() for _ in range(runs)]
    painted = [launch.painted_s for launch in launches if launch.painted_s is not None]
    result: dict[str, object] = {
        "cold_start_s": round(statistics.median(painted), 2) if painted else None,
        "cold_start_painted": f"{len(painted)}/{runs}",
        "exit_after_sigterm_s": round(max(launch.exit_s for launch in launches), 2),
        "exit_killed": sum(launch.killed for launch in launches),
    }
    failures = [launch.last_line for launch in launches if launch.painted_s is None]
    if failures:
        result["cold_start_failures"] = failures
    return result


def _launch() -> _Launch:
    with tempfile.TemporaryDirectory(prefix="copilot-bench-home-") as home:
        env = {**os.environ, "COPILOT_HOME": home, "QT_QPA_PLATFORM": "offscreen"}
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "-v", "run"],
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        lines: queue.Queue[str | None] = queue.Queue()
        reader = threading.Thread(target=_read_lines, args=(process, lines), daemon=True)
        reader.start()
        painted, last = None, "no paint within PAINT_TIMEOUT_S"
        deadline = time.monotonic() + PAINT_TIMEOUT_S
        while (left := deadline - time.monotonic()) > 0:
            try:
                line = lines.get(timeout=left)
            except queue.Empty:
                break
            if line is None:
                last = f"exited with {process.wait()} before painting: {last}"
                break
            found = re.search(r"panel painted ([\d.]+) s", line)
            if found:
                painted = float(found.group(1))
                break
            last = line.strip()[-200:]
        asked = time.perf_counter()
        process.terminate()
        try:
            process.wait(timeout=EXIT_GRACE_S)
            killed = False
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            killed = True
        exit_s = time.perf_counter() - asked
        reader.join()
    return _Launch(painted, exit_s, killed, last)


def _read_lines(process: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    """Pass a child's stderr lines on until it closes (read to the end, so the child never blocks writing)."""
    assert process.stderr is not None
    with process.stderr:
        for line in process.stderr:
            lines.put(line)
    lines.put(None)


def _ui_stall() -> dict[str, object]:
    conversation = DEMO_CONVERSATIONS / "refund-outside-window.jsonl"
    with tempfile.TemporaryDirectory(prefix="copilot-bench-home-") as home:
        env = {**os.environ, "COPILOT_HOME": home, "QT_QPA_PLATFORM": "offscreen"}
        try:
            done = subprocess.run(
                [sys.executable, "-m", "ui.bench", str(conversation)],
                env=env,
                capture_output=True,
                text=True,
                timeout=600,
                check=True,
            )
            measured: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
        except (subprocess.SubprocessError, ValueError, IndexError) as exc:
            return {"max_ui_stall_ms": None, "ui_stall_error": str(exc)[-300:]}
    return measured


def run_bench(
    sizes: tuple[int, ...] = (1000, 10000), seed: int = 7, say: Callable[[str], None] = lambda text: None
) -> dict[str, object]:
    """Every measurement, keyed as `copilot bench --json` prints them."""
    embedder = LocalEmbedder()
    embedder.load()
    per_size = {}
    for clauses in sizes:
        per_size[str(clauses)] = _size(clauses, seed, embedder, say)
    result: dict[str, object] = {name: {size: values[name] for size, values in per_size.items()} for name in PER_SIZE}
    say("cold start")
    result.update(_cold_start())
    say("UI stall while playing a demo conversation")
    stall = _ui_stall()
    result["max_ui_stall_ms"] = stall["max_ui_stall_ms"]
    if "ui_stall_error" in stall:
        result["ui_stall_error"] = stall["ui_stall_error"]
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return result


INGEST_MB = (1, 10, 50)
"""Pack sizes of `copilot bench --ingest`, in MB of clause files."""

CLAUSE_SENTENCES = (14, 30)
"""Sentences per synthetic clause: about 2 KB, a long clause of a real policy."""

CLAUSE_BYTES = 2000
"""About how many bytes one such clause takes in its file, to size a pack."""


class _TimedEmbedder:
    """An embedder that adds up the seconds its model spends, so ingest can be told apart from the model."""

    def __init__(self, embedder: Embedder) -> None:
        self.embedder = embedder
        self.model_id = embedder.model_id
        self.seconds = 0.0

    def load(self) -> None:
        self.embedder.load()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        started = time.perf_counter()
        try:
            return self.embedder.encode(texts)
        finally:
            self.seconds += time.perf_counter() - started


def run_ingest_bench(
    megabytes: tuple[int, ...] = INGEST_MB, seed: int = 7, say: Callable[[str], None] = lambda text: None
) -> dict[str, object]:
    """Ingest time and peak memory per pack size, as `copilot bench --ingest --json` prints them."""
    sizes: dict[str, object] = {}
    for size in megabytes:
        say(f"{size} MB pack: ingesting in a child process")
        done = subprocess.run(
            [sys.executable, "-m", "cli.bench", "ingest", str(size), str(seed)],
            capture_output=True,
            text=True,
            check=False,
        )
        try:
            sizes[f"{size}MB"] = json.loads(done.stdout.strip().splitlines()[-1])
        except (ValueError, IndexError):
            sizes[f"{size}MB"] = {"error": (done.stderr or done.stdout).strip()[-300:]}
        say(f"{size} MB pack: {json.dumps(sizes[f'{size}MB'])}")
    return {"ingest": sizes}


def _admit(home: Path, source: Path, clauses: int) -> int:
    """Raise the data folder's pack limits to admit this pack, as an admin would (docs/security.md); its size."""
    size = sum(path.stat().st_size for path in source.rglob("*") if path.is_file())
    roomy = max(size + MB, Settings().pack_max_bytes)
    replace(Settings(), pack_max_bytes=roomy, pack_max_clauses=max(clauses, Settings().pack_max_clauses)).save(home)
    return size


def _ingest(megabytes: int, seed: int) -> dict[str, float]:
    """One pack of about ``megabytes`` MB ingested into a fresh data folder whose limits admit it."""
    clauses = max(1, megabytes * MB // CLAUSE_BYTES)
    with tempfile.TemporaryDirectory(prefix="copilot-bench-ingest-") as folder:
        # Written, then let go: the memory measured is the load's, not the generator's.
        source = write_pack(synthetic_pack(clauses, seed, name="bench", sentences=CLAUSE_SENTENCES), Path(folder) / "p")
        home = Path(folder) / "home"
        home.mkdir()
        size = _admit(home, source, clauses)
        embedder = _TimedEmbedder(LocalEmbedder())
        embedder.load()
        workspace = Workspace(home, embedder)
        before = _memory_mb("VmRSS")
        started = time.perf_counter()
        workspace.load_pack(source, activate=False)
        seconds = time.perf_counter() - started
        vectors = workspace.store.count()
        workspace.close()
    return {
        "pack_mb": round(size / MB, 2),
        "clauses": clauses,
        "vectors": vectors,
        "seconds": round(seconds, 1),
        "model_seconds": round(embedder.seconds, 1),
        "other_seconds": round(seconds - embedder.seconds, 1),
        "seconds_per_mb": round(seconds * MB / size, 2),
        "rss_before_mb": before,
        "peak_rss_mb": _memory_mb("VmHWM"),
    }


if __name__ == "__main__" and sys.argv[1:2] == ["memory"]:  # the child of _app_memory
    print(_memory_of_app(Path(sys.argv[2]), tuple(sys.argv[3:])))
if __name__ == "__main__" and sys.argv[1:2] == ["ingest"]:  # a child of run_ingest_bench
    print(json.dumps(_ingest(int(sys.argv[2]), int(sys.argv[3]))))


def run_qa_bench(conversations: int, seed: int, say: Callable[[str], None]) -> dict[str, object]:
    """`copilot bench --qa`: ``conversations`` seeded conversations written to a fresh SQLite records file
    with the demo pack's ids, then `copilot qa` over them as the command runs it (records opened, every check,
    anomalies), timed alone; with the load average, since other work on the machine slows it."""
    from sqlalchemy import insert

    from cli.qa import pack_qa, progress_bar, run_qa
    from copilot.qa.generate import generate
    from copilot.records.database import sqlite_url
    from copilot.records.models import Card
    from copilot.records.store import Records

    policy = pack_qa(DEMO_PACK)
    with tempfile.TemporaryDirectory(prefix="copilot-bench-qa-") as folder:
        url = sqlite_url(Path(folder) / "records.sqlite3")
        records = Records.open(url, rep="bench")
        started = time.perf_counter()
        bar = progress_bar("generating", conversations)
        try:
            for rows in generate(policy, conversations, seed):
                with records.engine.begin() as connection:
                    connection.execute(insert(Card), rows)
                bar(int(rows[-1]["conversation_id"].split("-")[-1]) + 1)
        finally:
            records.close()
        generated = time.perf_counter() - started
        say(f"{conversations:,} conversations generated in {generated:.1f} s")
        started = time.perf_counter()
        report = run_qa(url, policy, 20, progress_bar)
        seconds = time.perf_counter() - started
    return {
        "qa": {
            "conversations": report.conversations,
            "seconds": round(seconds, 2),
            "per_s": round(report.conversations / seconds),
            "generate_seconds": round(generated, 2),
            "anomalies": len(report.anomalies),
            "load_average": [round(n, 2) for n in os.getloadavg()],
        }
    }
