"""A filtered review view written out for analysis elsewhere: one row per card, as CSV, JSON or Parquet.

The columns are the card's record flattened: lists as ``;``-joined text in CSV, as lists in JSON and Parquet
(Parquet through pyarrow, typed: times as UTC timestamps, counts as integers)."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from base.errors import RecordsError
from copilot.records.store import CardRecord

FORMATS = ("csv", "json", "parquet")

SCHEMA = pa.schema(
    [
        ("id", pa.int64()),
        ("conversation_id", pa.string()),
        ("seq", pa.int64()),
        ("rep", pa.string()),
        ("kind", pa.string()),
        ("key", pa.string()),
        ("text", pa.string()),
        ("citations", pa.list_(pa.string())),
        ("packs", pa.list_(pa.string())),
        ("topic", pa.string()),
        ("shown_at", pa.timestamp("us", tz="UTC")),
        ("latency_ms", pa.float64()),
        ("outcome", pa.string()),
        ("decided_at", pa.timestamp("us", tz="UTC")),
        ("decision_ms", pa.int64()),
        ("sent_text", pa.string()),
        ("edit_ratio", pa.float64()),
        ("reason", pa.string()),
        ("thumb", pa.int64()),
    ]
)
"""The exported columns, in order, with their Parquet types."""


def row(card: CardRecord) -> dict[str, Any]:
    """A card as an exported row (times stay ``datetime``; each format writes them its way)."""
    return {
        "id": card.id,
        "conversation_id": card.conversation_id,
        "seq": card.seq,
        "rep": card.rep,
        "kind": card.kind.value,
        "key": card.key,
        "text": card.text,
        "citations": list(card.citations),
        "packs": list(card.packs),
        "topic": card.topic,
        "shown_at": card.shown_at,
        "latency_ms": card.latency_ms,
        "outcome": card.outcome.value,
        "decided_at": card.decided_at,
        "decision_ms": card.decision_ms,
        "sent_text": card.sent_text,
        "edit_ratio": card.edit_ratio,
        "reason": None if card.reason is None else card.reason.value,
        "thumb": card.thumb,
    }


def _text(value: object) -> object:
    if isinstance(value, list):
        return ";".join(value)
    return value.isoformat() if hasattr(value, "isoformat") else value


def export(cards: Sequence[CardRecord], path: Path, fmt: str | None = None) -> int:
    """Write ``cards`` to ``path`` as ``fmt`` (default: the file's extension); how many rows were written."""
    fmt = (fmt or path.suffix.lstrip(".")).lower()
    if fmt not in FORMATS:
        raise RecordsError(f"{path}: cannot export as {fmt!r}; choose a .csv, .json or .parquet file")
    rows = [row(card) for card in cards]
    try:
        if fmt == "parquet":
            pq.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), path)
        elif fmt == "json":
            with path.open("w", encoding="utf-8") as out:
                json.dump(
                    [{k: _text(v) if k.endswith("_at") else v for k, v in r.items()} for r in rows], out, indent=1
                )
        else:
            with path.open("w", encoding="utf-8", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=SCHEMA.names)
                writer.writeheader()
                writer.writerows({k: _text(v) for k, v in r.items()} for r in rows)
    except OSError as exc:
        raise RecordsError(f"{path}: the export could not be written ({exc.strerror}); choose another folder") from None
    return len(rows)
