"""The last of the panel's wiring (issues 14 and 16), with real widgets offscreen, the demo store and the records
on SQLite: whose account an action acts on, fact names in words, the questions asked, a lead's approval, the
coaching notes shown once, and the wrap-up from a key or the helpdesk's ``conversation_end``."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel
from sqlalchemy import select

from connectors.demo_store.store import DemoStore
from connectors.systems import Systems, open_system
from copilot.actions.connections import demo_store
from copilot.actions.credentials import LEADS_FILE, Leads
from copilot.conversation.events import CONVERSATION_END, parse_event
from copilot.records.database import sqlite_url
from copilot.records.folder import DEFAULT_FILE
from copilot.records.models import Approval, Coaching, Ending, Question, Wrapup
from copilot.records.store import Records
from copilot.settings import Settings
from copilot.workspace import Workspace
from tests.conftest import demo_conversation
from tests.ui.test_panel import play
from tests.ui.test_panel_actions import (
    LEAD_PASSPHRASE,
    approve_and_confirm,
    big_damaged_order,
    card_for,
    close_app,
    lead_answers,
    open_app,
    press,
)
from tests.ui.test_panel_advice import until
from tests.ui.test_panel_follow import shortcut
from ui.app import PanelApp
from ui.sections.cards import in_words


def records_of(folder: Path) -> Records:
    return Records.open(sqlite_url(folder / DEFAULT_FILE))


def rows(folder: Path, table: type) -> list:  # type: ignore[type-arg]
    records = records_of(folder)
    with records.sessions.reading() as session:
        found = list(session.scalars(select(table)))
    records.close()
    return found


def written(loop, parts: PanelApp) -> None:  # type: ignore[no-untyped-def]
    loop.run_until_complete(parts.session.reply.records_written())


def texts(widget) -> str:  # type: ignore[no-untyped-def]
    return "\n".join(label.text() for label in widget.findChildren(QLabel))


def test_fact_names_read_as_words() -> None:
    assert in_words("benefits_used_since_renewal") == "benefits used since renewal"
    assert in_words("orderId") == "order id"
    assert in_words("CVV_code") == "CVV code"


def test_the_action_card_and_the_customer_say_whose_account_it_is(
    qtbot, event_loop_qt, store_app: PanelApp, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """The bereavement demo: the writer's late mother's account, never the writer's own, and the card says so."""
    parts = store_app
    parts.panel.open_conversation(demo_conversation("bereavement"))
    play(event_loop_qt, parts, parts.player.messages_total)
    until(event_loop_qt, lambda: any(c.action.proposal.party for c in parts.panel.action_cards.cards), 30)
    card = next(c for c in parts.panel.action_cards.cards if c.action.proposal.party)
    party = card.action.proposal.party
    assert "account" in party and f"For {escape(party[4:])}" in card.text
    assert party in card.accessibleName()
    customer = parts.panel.customer.record.text()
    assert parts.session.operations is not None
    if parts.session.operations.party:  # the lookups found the named party's account
        assert "account" in customer and "late" in customer


def test_no_raw_fact_names_on_path_cards_or_the_draft(
    qtbot, event_loop_qt, store_app: PanelApp, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    parts = store_app
    parts.panel.open_conversation(demo_conversation("cancellation"))
    for _ in range(parts.player.messages_total):
        play(event_loop_qt, parts, 1)
        shown = texts(parts.panel.suggestions) + texts(parts.panel.draft)
        assert not re.search(r"(needs to know|Fill in): [^).]*_", shown), shown
        assert "benefits_used" not in shown, shown[max(0, shown.find("benefits_used") - 300) :][:500]


def test_each_customer_message_is_a_question_and_the_wrapup_is_filed_from_F9(
    qtbot, event_loop_qt, store_app: PanelApp, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    parts = store_app
    parts.panel.open_conversation(demo_conversation("cancellation"))
    play(event_loop_qt, parts, parts.player.messages_total)
    conversation = parts.session.analysis.conversation
    assert conversation is not None
    written(event_loop_qt, parts)
    customer = sorted(t.seq for t in conversation.turns if t.role == "customer")
    questions = rows(tmp_path, Question)
    assert sorted(q.seq for q in questions) == customer, "each customer message once, analysed again or not"
    assert all(q.conversation_id == conversation.id for q in questions)
    assert any(q.answered and q.relevance is not None and q.relevance > 0 for q in questions)

    shortcut(parts, "F9").activated.emit()
    view = parts.panel.wrapup
    until(event_loop_qt, lambda: view.wrapup is not None, 30)
    assert not view.isHidden() and view.wrapup is not None
    assert view.tags, "root causes suggested from the pack's taxonomy"
    assert "Summary" in view.summary.text() and view.wrapup.csat in view.csat.text().replace("&#x27;", "'")
    ticked = view.ticked
    view.outcome.setCurrentIndex(view.outcome.findData(Ending.FOLLOW_UP))
    view.confirm.click()
    written(event_loop_qt, parts)
    assert view.isHidden() and "Wrap-up recorded" in parts.panel.notices.text
    (wrapup,) = rows(tmp_path, Wrapup)
    assert (wrapup.conversation_id, wrapup.ending, tuple(wrapup.root_causes)) == (
        conversation.id,
        Ending.FOLLOW_UP,
        ticked,
    )
    assert wrapup.summary and list(wrapup.citations) == list(view.wrapup.citations)


def test_a_conversation_end_event_opens_the_wrapup(qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    systems = Systems([])
    parts = open_app(qtbot, event_loop_qt, workspace, tmp_path, systems)
    try:
        parts.panel.open_conversation(demo_conversation("cancellation"))
        play(event_loop_qt, parts, 1)
        conversation = parts.session.analysis.conversation
        assert conversation is not None
        other = {"type": CONVERSATION_END, "conversation_id": "someone-else"}
        parts.live.follow.apply(parse_event(other, "push", 1))
        assert parts.panel.wrapup.isHidden(), "another conversation's end is not this one's wrap-up"
        ended = {"type": CONVERSATION_END, "conversation_id": conversation.id}
        parts.live.follow.apply(parse_event(ended, "push", 2))
        until(event_loop_qt, lambda: parts.panel.wrapup.wrapup is not None, 30)
        assert not parts.panel.wrapup.isHidden()
        parts.panel.wrapup.confirm.setFocus()
        press(parts.panel.wrapup, Qt.Key.Key_Escape)
        assert parts.panel.wrapup.isHidden()
        written(event_loop_qt, parts)
        assert rows(tmp_path, Wrapup) == [], "closed, not confirmed: nothing filed"
    finally:
        close_app(event_loop_qt, parts, systems)


def test_unseen_coaching_is_shown_once(qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    records = records_of(tmp_path)
    with records.sessions.writing() as session:
        at = datetime.now(UTC)
        session.add(
            Coaching(
                rep=Settings().user(), lead="Lee Lead", note="Offer the refund first.", conversation_id="c9", at=at
            )
        )
        session.add(Coaching(rep="someone-else", lead="Lee Lead", note="Not yours.", conversation_id="c8", at=at))
    records.close()
    for round_ in ("first", "again"):
        systems = Systems([])
        parts = open_app(qtbot, event_loop_qt, workspace, tmp_path, systems)
        try:
            if round_ == "first":
                until(event_loop_qt, lambda parts=parts: "Offer the refund first." in parts.panel.notices.text, 10)
                assert "Coaching from Lee Lead (about c9)" in parts.panel.notices.text
                parts.panel.open_conversation(demo_conversation("cancellation"))
                assert "Offer the refund first." in parts.panel.notices.text, "kept until dismissed"
            else:
                written(event_loop_qt, parts)
                assert "Coaching" not in parts.panel.notices.text, "seen: not shown again"
            assert "Not yours." not in parts.panel.notices.text
        finally:
            close_app(event_loop_qt, parts, systems)
    seen = {c.note: c.seen_at for c in rows(tmp_path, Coaching)}
    assert seen["Offer the refund first."] is not None and seen["Not yours."] is None


def test_an_action_run_with_a_lead_approval_is_recorded(
    qtbot, event_loop_qt, workspace: Workspace, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    DemoStore(tmp_path / "demo-store.sqlite3").close()  # seeded
    enrolled = Leads(tmp_path / LEADS_FILE)
    enrolled.add("Lee Lead", LEAD_PASSPHRASE, ("lee",), None)
    enrolled.close()
    conversation = big_damaged_order(tmp_path)
    systems = Systems([open_system(demo_store(tmp_path, timeout_s=30))])
    parts = open_app(qtbot, event_loop_qt, workspace, tmp_path, systems)
    problems: list[str] = []
    parts.panel.ask_second_approver = lambda action, leads: lead_answers(parts, action, leads, problems)
    try:
        parts.panel.open_conversation(conversation)
        play(event_loop_qt, parts, 1)
        until(event_loop_qt, lambda: card_for(parts, "refund_payment") is not None, 30)
        approve_and_confirm(event_loop_qt, parts, "refund_payment")
        until(event_loop_qt, lambda: card_for(parts, "refund_payment").action.state == "awaiting_second", 30)
        press(card_for(parts, "refund_payment"), Qt.Key.Key_A)
        until(event_loop_qt, lambda: card_for(parts, "refund_payment").action.state == "done", 30)
        until(event_loop_qt, lambda: bool(rows(tmp_path, Approval)), 10)
    finally:
        close_app(event_loop_qt, parts, systems)
    (approval,) = rows(tmp_path, Approval)
    assert (approval.conversation_id, approval.lead, approval.seq) == ("big-refund", "Lee Lead", 1)
    assert approval.action
