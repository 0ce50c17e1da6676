"""The Packs window's change requests: what leads raised from their review queue, with the clause as it reads now
and the evidence, accepted or declined by the admin (and gone from the open list for every desk)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from copilot.records.database import sqlite_url
from copilot.records.models import Concern, Kind, Outcome, Reason, RequestState
from copilot.records.queue import change_requests, items, request_change
from copilot.records.store import Records, Shown
from copilot.session.tasks import Tasks
from copilot.workspace import Workspace
from retrieval.embed import LocalEmbedder
from tests.copilot.test_workspace import make_pack
from tests.ui.test_admin_packs import settle
from ui.admin.packs import PacksWindow

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PACK = "acme@1"
WINDOW, TIMING = f"{PACK}#refunds.window", f"{PACK}#refunds.timing"


def raised_requests(url: str) -> None:
    """Ana rejected a clause as outdated and rewrote a draft citing another; her lead raised a request on each."""
    ana = Records.open(url, rep="ana")
    try:
        shown = [
            Shown("c1", 1, Kind.CLAUSE, WINDOW, "Refunds within 30 days.", (WINDOW,), (PACK,), 200, "refund"),
            Shown("c2", 3, Kind.DRAFT, "reply", "Your refund arrives today.", (TIMING,), (PACK,), 200, "refund"),
        ]
        clause, draft = ana.cards_shown(shown, at=T0)
        later = T0 + timedelta(seconds=5)
        ana.card_decided(clause, Outcome.REJECTED, reason=Reason.OUTDATED, at=later)
        ana.card_decided(draft, Outcome.SENT, sent="Refunds take 5 to 10 business days to reach your card.", at=later)
        by = {item.concern: item for item in items(ana)}
        request_change(ana, by[Concern.CLAUSE_WRONG], lead="Lee", note="The window is 60 days since March.")
        request_change(ana, by[Concern.REWRITTEN], lead="Lee", note="Say refunds take 5-10 business days.")
    finally:
        ana.close()


def test_an_admin_sees_the_leads_change_requests_with_evidence_and_accepts_or_declines_them(
    qtbot,  # type: ignore[no-untyped-def]
    event_loop_qt,
    tmp_path: Path,
    embedder: LocalEmbedder,
) -> None:
    clauses = {"a.md": "## Window {#refunds.window}\nWithin 30 days.\n\n## Timing {#refunds.timing}\nSame day.\n"}
    workspace = Workspace(tmp_path / "home", embedder)
    workspace.load_pack(make_pack(tmp_path, "acme", "1", clauses), activate=True)
    url = sqlite_url(tmp_path / "records.sqlite3")
    raised_requests(url)
    admin = Records.open(url, rep="ada")
    window = PacksWindow(workspace, Tasks(event_loop_qt), admin)
    qtbot.addWidget(window)
    window.show()

    assert window.tabs.tabText(1) == "Change requests (2)"
    rows = [[window.requests.item(r, c).text() for c in (0, 1, 2, 4)] for r in range(window.requests.rowCount())]
    assert sorted(rows) == [
        [TIMING, "Say refunds take 5-10 business days.", "Lee", "1"],
        [WINDOW, "The window is 60 days since March.", "Lee", "1"],
    ]
    window.requests.selectRow(next(r for r in range(2) if window.requests.item(r, 0).text() == WINDOW))
    evidence = window.evidence.toPlainText()
    assert "Within 30 days." in evidence, "the clause as it reads now"
    assert "Lee: The window is 60 days since March." in evidence
    assert "clause wrong in c1 (message 1, ana)" in evidence and "Shown: Refunds within 30 days." in evidence
    assert "Why: marked outdated" in evidence

    window.buttons["accept"].click()
    settle(event_loop_qt, window)
    assert [window.requests.item(r, 0).text() for r in range(window.requests.rowCount())] == [TIMING]
    [accepted] = change_requests(admin, RequestState.ACCEPTED)
    assert (accepted.clause, accepted.closed_by) == (WINDOW, "ada")
    evidence = window.evidence.toPlainText()  # the remaining request is selected, with what the rep sent
    assert "Same day." in evidence and "Sent: Refunds take 5 to 10 business days to reach your card." in evidence

    window.buttons["decline"].click()
    settle(event_loop_qt, window)
    assert window.requests.rowCount() == 0 and window.tabs.tabText(1) == "Change requests"
    assert [r.clause for r in change_requests(admin, RequestState.DECLINED)] == [TIMING]
    assert "No open change requests" in window.evidence.toPlainText()
    assert not window.buttons["accept"].isEnabled() and not window.buttons["decline"].isEnabled()
    admin.close()


def test_without_records_the_tab_says_why_it_is_empty(
    qtbot, event_loop_qt, tmp_path: Path, embedder: LocalEmbedder
) -> None:  # type: ignore[no-untyped-def]
    window = PacksWindow(Workspace(tmp_path / "home", embedder), Tasks(event_loop_qt))
    qtbot.addWidget(window)
    assert window.requests.rowCount() == 0
    assert "Records are off at this desk" in window.evidence.toPlainText()
    assert not window.buttons["accept"].isEnabled()
