"""`copilot listen` as a real process: it prints one `replay --json` line per analysed message, in each
conversation's order, whatever order and however often the events were pushed."""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO

import httpx
import pytest

TOKEN = "listen-token"
LISTEN = """
import argparse, sys
from cli.listen import register
parser = argparse.ArgumentParser()
register(parser.add_subparsers(), argparse.ArgumentParser().add_subparsers())
args = parser.parse_args(sys.argv[1:])
sys.exit(args.func(args))
"""
"""`copilot listen` without cli/main.py, which registers it with the other commands."""


def lines(stream: IO[str], readers: list[threading.Thread]) -> queue.Queue[str]:
    """The stream's lines as they come, read in a thread (a pipe has no timeout of its own)."""
    found: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            found.put(line)

    readers.append(threading.Thread(target=pump, daemon=True))
    readers[-1].start()
    return found


@pytest.fixture
def listening(demo_home: Path) -> Iterator[tuple[subprocess.Popen[str], str, queue.Queue[str]]]:
    process = subprocess.Popen(
        [sys.executable, "-c", LISTEN, "listen", "--port", "0", "--token", TOKEN, "--hold-ms", "10000"],
        cwd=Path(__file__).resolve().parents[2],
        env={**os.environ, "COPILOT_HOME": str(demo_home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None and process.stderr is not None
    readers: list[threading.Thread] = []
    said = lines(process.stderr, readers)
    first = said.get(timeout=300)
    assert "copilot listen: http://127.0.0.1:" in first, first
    url = first.split(": ", 1)[1].split("/events")[0]
    try:
        yield process, url, lines(process.stdout, readers)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        for reader in readers:
            reader.join(timeout=10)
        process.stdout.close()
        process.stderr.close()


def test_listen_prints_one_json_line_per_message_in_order(
    listening: tuple[subprocess.Popen[str], str, queue.Queue[str]],
) -> None:
    process, url, printed = listening
    auth = {"Authorization": f"Bearer {TOKEN}"}
    header = {"type": "conversation", "id": "live-1", "jurisdiction": "US-CA", "customer": {"name": "Ana"}}

    def said(seq: int, text: str, role: str = "customer") -> dict[str, object]:
        return {"type": "message", "conversation_id": "live-1", "seq": seq, "role": role, "text": text}

    with httpx.Client(base_url=url, timeout=30) as client:
        assert client.post("/events", json=said(1, "x"), headers={"Authorization": "Bearer wrong"}).status_code == 401
        bad = client.post("/events", json=[header, {**said(1, "x"), "seq": "one"}], headers=auth)
        assert bad.status_code == 422 and bad.json()["field"] == "seq"
        assert client.post("/events", json=[header, said(3, "It arrived broken, I want a refund")], headers=auth)
        assert client.post("/events", json=said(1, "Hi, my blender stopped working"), headers=auth)
        assert client.post(
            "/events", json=[said(2, "Sorry to hear that, which order?", "rep"), said(1, "dup")], headers=auth
        )
    records = [json.loads(printed.get(timeout=300)) for _ in range(3)]
    assert [(r["conversation_id"], r["seq"], r["role"]) for r in records] == [
        ("live-1", 1, "customer"),
        ("live-1", 2, "rep"),
        ("live-1", 3, "customer"),
    ]
    assert {"clauses", "escalations", "flags", "intent", "suggestions", "draft", "timings_ms"} <= set(records[2])
    assert any(c["citation"].startswith("northwind-retail@") for c in records[2]["clauses"])
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert printed.empty()  # the duplicate of seq 1 was never analysed
