"""Export of a filtered view: the same rows as CSV, JSON and Parquet."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from base.errors import RecordsError
from copilot.records.export import export
from copilot.records.models import Kind, Outcome, Reason
from copilot.records.review import ConversationFilter, cards_in
from copilot.records.store import Records, Shown

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PACK = "northwind-retail@2025.6"


@pytest.fixture
def records(records_url: str) -> Records:
    ana, bo = Records.open(records_url, rep="ana"), Records.open(records_url, rep="bo")
    cited = (f"{PACK}#refunds.window", f"{PACK}#refunds.method")
    draft, flag = ana.cards_shown(
        [
            Shown("c1", 1, Kind.DRAFT, "reply", "Your refund is on its way.", cited, (PACK,), 250.5, "refund_status"),
            Shown("c1", 1, Kind.FLAG, "promise-without-clause", "A date no clause backs.", (), (PACK,), 250.5, "x"),
        ],
        at=T0,
    )
    ana.card_decided(draft, Outcome.SENT, sent="Your refund arrives Friday.", at=T0 + timedelta(seconds=3))
    ana.card_decided(flag, Outcome.REJECTED, reason=Reason.WRONG, at=T0 + timedelta(seconds=4))
    bo.cards_shown([Shown("c2", 1, Kind.DRAFT, "reply", "Hello", (), (PACK,), 90.0, "greeting")], at=T0)
    bo.close()
    return ana


@pytest.mark.parametrize("suffix", ["csv", "json", "parquet"])
def test_a_filtered_view_exports_its_cards(records: Records, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"view.{suffix}"
    assert export(cards_in(records, ConversationFilter(rep="ana")), path) == 2
    records.close()
    if suffix == "csv":
        with path.open(newline="") as file:
            rows: list[dict[str, object]] = list(csv.DictReader(file))
        assert rows[0]["citations"] == f"{PACK}#refunds.window;{PACK}#refunds.method"
        assert rows[0]["shown_at"] == "2026-03-02T09:00:00+00:00"
    elif suffix == "json":
        rows = json.loads(path.read_text())
        assert rows[0]["citations"] == [f"{PACK}#refunds.window", f"{PACK}#refunds.method"]
        assert rows[0]["decision_ms"] == 3000
    else:
        rows = pq.read_table(path).to_pylist()
        assert rows[0]["shown_at"] == T0
        assert rows[0]["decision_ms"] == 3000
    assert [(r["conversation_id"], r["kind"], r["outcome"]) for r in rows] == [
        ("c1", "draft", "edited"),
        ("c1", "flag", "rejected"),
    ]
    assert rows[0]["sent_text"] == "Your refund arrives Friday."
    assert rows[1]["reason"] == "wrong"


def test_an_unknown_format_or_folder_is_refused_naming_the_file(records: Records, tmp_path: Path) -> None:
    cards = cards_in(records, ConversationFilter())
    records.close()
    with pytest.raises(RecordsError, match=r"view\.xlsx: cannot export as 'xlsx'; choose a \.csv"):
        export(cards, tmp_path / "view.xlsx")
    with pytest.raises(RecordsError, match="could not be written"):
        export(cards, tmp_path / "missing" / "view.csv")
