"""Retention periods: what the purge deletes, what it keeps, and that the portal runs it on its own."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.future import Engine

from bot.channels.sms.store import NO_NUMBER, SmsStore, sms_contacts
from bot.db import get_engine
from bot.handoff.callbacks import CallbackBook, callbacks_table
from bot.handoff.store import CLOSED_BY_AGENT, HandoffQueue, messages_table, requests_table
from bot.knowledge.feedback import reports_table
from bot.privacy.retention import RetentionPolicy, purge, purge_periodically, tracker_engine

NOW = datetime(2026, 12, 2, 12, 0, 0)


def _tracker(path: Path, events: list[tuple[str, float]]) -> Engine:
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                       "timestamp REAL, intent_name TEXT, action_name TEXT, data TEXT)")
    connection.executemany("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (?, 'user', ?, '{}')",
                           events)
    connection.commit()
    connection.close()
    return tracker_engine(f"sqlite:///{path}")


def _epoch(moment: datetime) -> float:
    return moment.replace(tzinfo=timezone.utc).timestamp()


@pytest.fixture
def project(tmp_path: Path) -> Engine:
    return get_engine(f"sqlite:///{tmp_path / 'numecrivain.db'}")


def _fill(project: Engine) -> None:
    queue = HandoffQueue(project)
    old = queue.enqueue("rest:old", "rest", [{"role": "user", "text": "x"}], now=NOW - timedelta(days=40))
    queue.take(old.id, "camille", now=NOW - timedelta(days=40))
    queue.add_message(old.id, "Bonjour", "camille", now=NOW - timedelta(days=40))
    queue.close(old.id, CLOSED_BY_AGENT, "camille", now=NOW - timedelta(days=40))
    recent = queue.enqueue("rest:recent", "rest", [], now=NOW - timedelta(days=2))
    queue.take(recent.id, "camille", now=NOW - timedelta(days=2))
    queue.close(recent.id, CLOSED_BY_AGENT, "camille", now=NOW - timedelta(days=2))
    queue.enqueue("rest:waiting-for-long", "rest", [], now=NOW - timedelta(days=45))  # open: never purged
    book = CallbackBook(project)
    book.add("06 12 34 56 01", "rest", None, None, now=NOW - timedelta(days=8))
    book.add("06 12 34 56 02", "rest", None, None, now=NOW - timedelta(days=6))
    sms = SmsStore(project)
    sms.upsert_contact("sms-silent", "+33639980003", "android", NOW - timedelta(days=31))
    sms.upsert_contact("sms-active", "+33639980004", "android", NOW - timedelta(days=1))
    sms.upsert_contact("sms-stopped", "+33639980005", "android", NOW - timedelta(days=90))
    sms.set_subscribed("sms-stopped", False, NOW - timedelta(days=90))
    with project.begin() as conn:
        conn.execute(insert(reports_table).values(created_at=NOW, commune="59350", reporter="Mairie",
                                                  procedure_id="passport", status="open",
                                                  message="Mme X, née le 12/03/1985, tél 06 39 98 00 06"))


def test_purge_deletes_what_is_past_its_period_and_keeps_the_rest(project: Engine, tmp_path: Path) -> None:
    _fill(project)
    tracker = _tracker(tmp_path / "tracker.db", [("rest:old", _epoch(NOW - timedelta(days=31))),
                                                 ("rest:recent", _epoch(NOW - timedelta(days=29)))])
    counts = purge(NOW, RetentionPolicy(), project, tracker)
    assert counts["events"] == 1 and counts["handoff_requests"] == 1 and counts["handoff_messages"] == 1
    with project.connect() as conn:
        senders = {row.sender_id for row in conn.execute(select(requests_table))}
        phones = [row.phone for row in conn.execute(select(callbacks_table))]
        contacts = {row.pseudonym: row.phone for row in conn.execute(select(sms_contacts))}
        report = conn.execute(select(reports_table.c.message)).scalar_one()
        assert conn.execute(select(messages_table)).all() == []
    assert senders == {"rest:recent", "rest:waiting-for-long"}
    assert phones == ["+33612345602"], "a callback not made within 7 days is deleted"
    assert contacts == {"sms-active": "+33639980004", "sms-stopped": NO_NUMBER}
    assert "1985" not in report and "06 39" not in report and report.startswith("Mme X, née le [date masquée]")
    remaining = [row[0] for row in sqlite3.connect(tmp_path / "tracker.db").execute("SELECT sender_id FROM events")]
    assert remaining == ["rest:recent"]
    assert set(purge(NOW, RetentionPolicy(), project, tracker).values()) == {0}, "a second run finds nothing"


def test_periods_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, project: Engine, tmp_path: Path) -> None:
    monkeypatch.setenv("NUMECRIVAIN_RETENTION_CONVERSATION_DAYS", "60")
    monkeypatch.setenv("NUMECRIVAIN_RETENTION_CALLBACK_DAYS", "not a number")
    monkeypatch.setenv("NUMECRIVAIN_RETENTION_SMS_CONTACT_DAYS", "inf")
    monkeypatch.setenv("NUMECRIVAIN_PURGE_INTERVAL_MINUTES", "-5")
    policy = RetentionPolicy()
    assert (policy.conversation_days, policy.callback_days, policy.sms_contact_days) == (60, 7, 30)
    assert policy.purge_interval_minutes == 60
    tracker = _tracker(tmp_path / "tracker.db", [("rest:old", _epoch(NOW - timedelta(days=31)))])
    assert purge(NOW, policy, project, tracker)["events"] == 0


def test_missing_tracker_file_is_not_created_by_the_purge(project: Engine, tmp_path: Path) -> None:
    missing = tmp_path / "nothing-here.db"
    assert purge(NOW, RetentionPolicy(), project, tracker_engine(f"sqlite:///{missing}"))["events"] == 0
    assert not missing.exists()


async def test_scheduled_purge_runs_in_the_background_until_cancelled(
    monkeypatch: pytest.MonkeyPatch, project: Engine, tmp_path: Path
) -> None:
    monkeypatch.setenv("TRACKER_STORE_URL", f"sqlite:///{tmp_path / 'tracker.db'}")
    CallbackBook(project).add("06 12 34 56 09", "rest", None, None,
                              now=datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(days=8))
    task = asyncio.create_task(purge_periodically(RetentionPolicy(purge_interval_minutes=0.01),
                                                  str(project.url)))
    try:
        for _ in range(200):
            with project.connect() as conn:
                if not conn.execute(select(callbacks_table)).all():
                    break
            await asyncio.sleep(0.05)
        with project.connect() as conn:
            assert conn.execute(select(callbacks_table)).all() == []
    finally:
        task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
