"""Nothing is kept past the retention period, and texts are kept redacted unless an admin says otherwise."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from base.errors import RecordsError
from cli.main import main
from copilot.reasoning.claims import Unsupported
from copilot.records.columns import now
from copilot.records.folder import cutoff, open_records
from copilot.records.models import ChangeRequest, Coaching, Ending, Kind, Outcome, RequestState
from copilot.records.store import Records, Shown
from copilot.settings import Settings

DRAFT = "Hi Ana Lopez, I have refunded order NW-88213 to ana.lopez@example.com; call us on +44 20 7946 0958."


def fill(records: Records, days_ago: int) -> int:
    """One of each record, written ``days_ago`` days ago (times the records store are set directly)."""
    at = now() - timedelta(days=days_ago)
    conversation = f"c{days_ago}"
    card = records.card_shown(Shown(conversation, 1, Kind.DRAFT, "reply", "Hello"), at=at)
    records.card_decided(card, Outcome.EXPANDED, at=at)
    records.journal.record_insert(conversation, 1, "Hello", (Unsupported(0, 5, "Hello", "not backed"),))
    records.journal.record_decision(conversation, 1, "refund_status", "Refund issued", "accepted")
    records.journal.save_draft(conversation, 2, "Hello again")
    records.question_asked(conversation, 1, "Where is my parcel?", relevance=0.2, answered=False, at=at)
    records.wrapup_recorded(conversation, Ending.RESOLVED, ["carrier-delay"], "Parcel traced.", at=at)
    records.lead_approved(conversation, 1, "refund 40", "lee", at=at)
    with records.sessions.writing() as session:  # a lead's note and two change requests, one closed, one open
        session.add(Coaching(rep="ana", lead="lee", note="Cite the clause.", conversation_id=conversation, at=at))
        for state in (RequestState.DECLINED, RequestState.OPEN):
            session.add(
                ChangeRequest(clause="p@1#c", packs=[], note="Outdated.", evidence=[], lead="lee", at=at, state=state)
            )
    with records.engine.begin() as connection:  # the journal stamps its rows now: age them
        for table, column in (("inserts", "at"), ("decisions", "at"), ("drafts", "saved_at")):
            connection.exec_driver_sql(
                f"UPDATE {table} SET {column} = %(at)s WHERE conversation_id = %(c)s"
                if connection.dialect.name == "postgresql"
                else f"UPDATE {table} SET {column} = :at WHERE conversation_id = :c",
                {"at": at if connection.dialect.name == "postgresql" else at.replace(tzinfo=None), "c": conversation},
            )
    return card


def test_purge_deletes_every_record_older_than_the_period_and_nothing_newer(records_url: str) -> None:
    records = Records.open(records_url, rep="ana")
    old, recent = fill(records, 40), fill(records, 5)
    purged = records.purge(cutoff(30))
    assert (purged.cards, purged.inserts, purged.decisions, purged.drafts) == (1, 1, 1, 1)
    assert (purged.questions, purged.wrapups, purged.reviews) == (1, 1, 3)  # approval, coaching, a closed request
    with records.engine.connect() as connection:
        for table in ("questions", "wrapups", "approvals", "coaching"):
            assert connection.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar() == 1  # the recent one
        states = connection.exec_driver_sql("SELECT state FROM change_requests").scalars().all()
    assert sorted(states) == ["declined", "open", "open"]  # open requests stay for the admins, old or not
    assert [c.id for c in records.cards()] == [recent]
    assert records.journal.decisions("c40") == [] and records.journal.draft("c40") is None
    assert records.journal.draft("c5") == (2, "Hello again") and len(records.journal.overrides()) == 1
    with records.engine.connect() as connection:
        left = connection.exec_driver_sql("SELECT card_id FROM card_actions").scalars().all()
    assert old not in left and recent in left
    records.close()


def test_the_app_purges_by_the_admin_retention_setting_when_it_opens(records_url: str, tmp_path: Path) -> None:
    records = Records.open(records_url)
    fill(records, 100)
    fill(records, 20)
    records.close()
    reopened, purged = open_records(tmp_path, Settings(records_url=records_url, records_retention_days=30))
    assert purged.total == 9
    assert {c.conversation_id for c in reopened.cards()} == {"c20"}
    reopened.close()


def test_a_retention_setting_that_is_not_a_number_of_days_is_named(tmp_path: Path) -> None:
    for wrong in (0, "90", 2.5):
        with pytest.raises(RecordsError, match=r"settings.json: records_retention_days must be a whole number"):
            open_records(tmp_path, Settings(records_retention_days=wrong))  # type: ignore[arg-type]


def test_shown_and_sent_texts_are_redacted_unless_an_admin_turned_it_off(records_url: str) -> None:
    names = ("Ana Lopez",)
    redacting = Records.open(records_url, rep="ana")
    card = redacting.card_shown(Shown("c1", 1, Kind.DRAFT, "reply", DRAFT, names=names))
    redacting.card_decided(card, Outcome.SENT, sent=DRAFT + " Anything else, Ana?", names=names)
    [kept] = redacting.cards()
    for private in ("Ana", "Lopez", "NW-88213", "ana.lopez@example.com", "7946"):
        assert private not in kept.text and private not in (kept.sent_text or "")
        assert all(private not in words for _, words in kept.diff or ())
    assert kept.text.startswith("Hi [NAME_1], I have refunded order [ORDER_1] to [EMAIL_1]")
    assert kept.outcome is Outcome.EDITED and kept.diff is not None
    assert kept.diff[-1][0] == "+" and kept.diff[-1][1].startswith("Anything else, [NAME_")
    redacting.close()
    verbatim = Records.open(records_url, rep="ana", redacting=False)
    card = verbatim.card_shown(Shown("c2", 1, Kind.DRAFT, "reply", DRAFT, names=names))
    verbatim.card_decided(card, Outcome.SENT, sent=DRAFT, names=names)
    [_, kept] = verbatim.cards()
    assert (kept.text, kept.sent_text, kept.outcome) == (DRAFT, DRAFT, Outcome.SENT)
    verbatim.close()


def test_copilot_records_purge(records_url: str, fresh_home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fresh_home.mkdir(parents=True)
    (fresh_home / "settings.json").write_text(json.dumps({"records_url": records_url, "records_retention_days": 60}))
    records = Records.open(records_url)
    fill(records, 90)
    fill(records, 45)
    fill(records, 1)
    records.close()
    assert main(["records", "purge"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("9 records older than 60 days deleted from ")
    assert out.rstrip().endswith(
        ": 1 cards, 1 inserts, 1 path decisions, 1 drafts, 1 customer questions, 1 wrap-ups, 3 leads' records"
    )
    assert "postgres" not in out or "@127.0.0.1" in out
    assert main(["records", "purge", "--older-than", "30"]) == 0
    assert capsys.readouterr().out.startswith("9 records older than 30 days deleted")
    assert main(["records", "purge", "--older-than", "0"]) == 0
    assert capsys.readouterr().out.startswith("9 records older than 0 days deleted")
    with pytest.raises(SystemExit):
        main(["records", "purge", "--older-than", "-3"])
    assert "'-3' is not a whole number of days" in capsys.readouterr().err
