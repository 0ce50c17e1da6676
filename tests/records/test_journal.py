"""The journal keeps the draft being edited, overrides and suggestion decisions across restarts."""

from __future__ import annotations

from copilot.reasoning.claims import Unsupported
from copilot.records.store import Records


def test_draft_survives_a_restart_and_an_override_is_kept(records_url: str) -> None:
    records = Records.open(records_url, rep="ana")
    records.journal.save_draft("c1", 4, "Hi Ana, your refund of $500 arrives tomorrow.")
    records.journal.save_draft("c1", 4, "Hi Ana, your refund of $500 arrives tomorrow!")
    records.journal.record_decision("c1", 4, "refund_status", "Refund issued", "accepted")
    records.close()  # as a crash would leave it: nothing else flushed
    reopened = Records.open(records_url, rep="ana")
    journal = reopened.journal
    assert journal.draft("c1") == (4, "Hi Ana, your refund of $500 arrives tomorrow!")
    assert journal.decisions("c1") == [(4, "refund_status", "Refund issued", "accepted")]
    journal.record_insert(
        "c1", 4, "Hi Ana, your refund of $500 arrives tomorrow.", (Unsupported(23, 27, "$500", "not backed"),)
    )
    assert journal.draft("c1") is None
    [override] = journal.overrides()
    assert override["unsupported"] == [{"text": "$500", "reason": "not backed", "start": 23, "end": 27}]
    assert override["rep"] == "ana"
    journal.record_insert("c1", 5, "Thanks!", ())
    assert len(journal.overrides()) == 1
    journal.save_draft("c2", 1, "Hello")
    journal.discard_draft("c2")
    assert journal.draft("c2") is None
    reopened.close()
