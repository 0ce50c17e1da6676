"""The journal keeps the draft being edited, overrides and suggestion decisions across restarts."""

from __future__ import annotations

from pathlib import Path

from copilot.reasoning.claims import Unsupported
from copilot.records.journal import Journal


def test_draft_survives_a_restart_and_an_override_is_kept(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.sqlite3")
    journal.save_draft("c1", 4, "Hi Ana, your refund of $500 arrives tomorrow.")
    journal.record_decision("c1", 4, "refund_status", "Refund issued", "accepted")
    journal.close()  # as a crash would leave it: nothing else flushed
    reopened = Journal(tmp_path / "journal.sqlite3")
    assert reopened.draft("c1") == (4, "Hi Ana, your refund of $500 arrives tomorrow.")
    assert reopened.decisions("c1") == [(4, "refund_status", "Refund issued", "accepted")]
    reopened.record_insert(
        "c1", 4, "Hi Ana, your refund of $500 arrives tomorrow.", (Unsupported(23, 27, "$500", "not backed"),)
    )
    assert reopened.draft("c1") is None
    [override] = reopened.overrides()
    assert override["unsupported"] == [{"text": "$500", "reason": "not backed", "start": 23, "end": 27}]
    reopened.record_insert("c1", 5, "Thanks!", ())
    assert len(reopened.overrides()) == 1
    reopened.close()
