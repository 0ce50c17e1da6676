"""The leads' review window on real records: only a verified lead opens it; filters, the timeline, the charts,
the queue's verdicts and export act on what the reps did."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from base.errors import ApprovalError
from copilot.actions.credentials import LEADS_FILE, Leads, at_desk
from copilot.records.database import sqlite_url
from copilot.records.models import Ending, Kind, Outcome, Reason
from copilot.records.store import Records, Shown
from ui.review import review_for
from ui.review.window import ReviewWindow

PASS = "correct horse battery"
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)
PACK = "northwind-retail@2025.6"


@pytest.fixture
def records(tmp_path: Path) -> Iterator[Records]:
    url = sqlite_url(tmp_path / "records.sqlite3")
    ana, bo = Records.open(url, rep="ana"), Records.open(url, rep="bo")
    cited = (f"{PACK}#refunds.window",)
    draft, suggestion = ana.cards_shown(
        [
            Shown("c1", 1, Kind.DRAFT, "reply", "Your refund of $40 is on its way.", cited, (PACK,), 300, "refund"),
            Shown(
                "c1", 1, Kind.SUGGESTION, "Offer credit", "We can offer store credit.", cited, (PACK,), 300, "refund"
            ),
        ],
        at=T0,
    )
    ana.question_asked("c1", 1, "Where is my refund?", relevance=0.7, answered=True, at=T0)
    ana.card_decided(draft, Outcome.SENT, sent="Your refund arrives on Friday, sorry for the wait.", at=T0)
    ana.card_decided(suggestion, Outcome.REJECTED, reason=Reason.TONE, at=T0)
    ana.wrapup_recorded("c1", Ending.RESOLVED, ["late-refund"], "Refund explained.", at=T0)
    [hello] = bo.cards_shown([Shown("c2", 1, Kind.DRAFT, "reply", "Hello!", (), (PACK,), 90, "greeting")], at=T0)
    bo.card_decided(hello, Outcome.SENT, sent="Hello!", at=T0)
    bo.close()
    yield ana
    ana.close()


@pytest.fixture
def window(qtbot, records: Records, tmp_path: Path) -> ReviewWindow:  # type: ignore[no-untyped-def]
    leads = Leads(tmp_path / LEADS_FILE)
    leads.add("Lee Lead", PASS, (), None)
    shown = review_for(records, leads.verify("Lee Lead", PASS))
    leads.close()
    qtbot.addWidget(shown)
    return shown


def test_only_a_lead_proven_by_passphrase_opens_it(records: Records) -> None:
    with pytest.raises(ApprovalError, match="not a lead proven by their passphrase"):
        review_for(records, at_desk("Lee Lead", "lead"))  # a desk that says it is a lead proves nothing


def test_filters_list_the_conversations_and_one_shows_as_a_timeline(window: ReviewWindow) -> None:
    view = window.conversations
    assert view.conversation_ids == ["c2", "c1"]
    view.choosers["rep"].setCurrentText("ana")
    assert view.conversation_ids == ["c1"]
    assert view.list.item(0, 4).text() == "1/2" and view.list.item(0, 7).text() == "resolved"
    view.select("c1")
    shown = view.timeline.toPlainText()
    assert "Customer: Where is my refund?" in shown
    assert "Your refund arrives on Friday, sorry for the wait." in shown  # what the rep sent, beside the card
    assert "rejected (tone)" in shown
    view.choosers["rep"].setCurrentText("any")
    view.choosers["root_cause"].setCurrentText("late-refund")
    assert view.conversation_ids == ["c1"]


def test_the_charts_follow_the_filter(window: ReviewWindow) -> None:
    titles = [v.chart().title() for v in window.charts.views]
    assert len(titles) == 8 and "Top root causes" in titles and "Latency the reps waited (p95), per day" in titles
    per_rep = window.charts.views[1].chart().axes()[0].categories()  # type: ignore[attr-defined]
    assert per_rep == ["ana", "bo"]
    window.conversations.choosers["rep"].setCurrentText("bo")
    assert window.charts.views[1].chart().axes()[0].categories() == ["bo"]  # type: ignore[attr-defined]


def test_queue_verdicts_take_items_out(window: ReviewWindow, records: Records) -> None:
    queue = window.queue
    assert [item.concern for item in queue.items] == ["rejected", "rewritten"]
    assert window.tabs.tabText(2) == "Queue (2)"
    assert [queue.concern.itemText(i) for i in range(queue.concern.count())] == [
        "all (2)",
        "rejected (1)",
        "rewritten (1)",
    ]
    queue.concern.setCurrentIndex(2)
    assert [item.concern for item in queue.items] == ["rewritten"]
    queue.concern.setCurrentIndex(0)
    queue.list.selectRow(0)
    queue.dismiss_selected()
    assert [item.concern for item in queue.items] == ["rewritten"] and window.tabs.tabText(2) == "Queue (1)"
    queue.list.selectRow(0)
    queue._act(queue.items[0], "coach", "Keep the date the clause gives.")
    assert queue.items == [] and queue.problem.text() == ""
    assert [n.note for n in records.coaching_for("ana")] == ["Keep the date the clause gives."]
    queue.dismiss_selected()
    assert queue.problem.text() == "Select an item first."


def test_export_writes_the_filtered_view(window: ReviewWindow, tmp_path: Path) -> None:
    window.conversations.choosers["rep"].setCurrentText("ana")
    assert window.conversations.export_to(tmp_path / "ana.csv") == 2
    with (tmp_path / "ana.csv").open(newline="") as file:
        assert {row["rep"] for row in csv.DictReader(file)} == {"ana"}
    assert window.conversations.count.text() == "2 cards exported to ana.csv"
