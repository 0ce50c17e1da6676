"""Per-stage wall time, so replay, bench and the panel's debug line can say where a message's time went."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager


def ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)


@contextmanager
def stage(timings: dict[str, float], name: str) -> Iterator[None]:
    """Add the block's milliseconds to ``timings[name]``."""
    started = time.perf_counter()
    try:
        yield
    finally:
        timings[name] = round(timings.get(name, 0.0) + ms_since(started), 2)
