"""The durable SMS inbox: one row per accepted SMS, held under a lease, taken over once when its process dies.

The same tests run on PostgreSQL in tests/db/test_sms_inbox_postgres.py (they only use the `inbox_engine` fixture).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.future import Engine

from bot.channels.sms.inbox import ANSWERED, FAILED, MAX_ATTEMPTS, PROCESSING, RECEIVED, SmsInbox, sms_inbox
from bot.db import make_engine
from bot.privacy.retention import RetentionPolicy, purge_project
from tests.channels.sms.fakes import PEPPER

NOW = datetime(2026, 3, 10, 9, 0, 0)
LEASE = timedelta(seconds=30)


@pytest.fixture
def inbox_engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'inbox.db'}")
    yield engine
    engine.dispose()


def process(engine: Engine, name: str) -> SmsInbox:
    """The inbox as one process sees it (its own name in claimed_by)."""
    return SmsInbox(engine, PEPPER, owner=name, lease=LEASE)


def accept(inbox: SmsInbox, key: str, text: str = "bonjour", pseudonym: str = "sms-a", at: datetime = NOW) -> int:
    row = inbox.accept(key, pseudonym, "android", text, at, at)
    assert row is not None
    return row.id


def stored(engine: Engine, row_id: int) -> dict[str, object]:
    with engine.connect() as conn:
        return dict(conn.execute(select(sms_inbox).where(sms_inbox.c.id == row_id)).one()._mapping)


def test_a_provider_message_id_is_accepted_once(inbox_engine: Engine) -> None:
    inbox = process(inbox_engine, "a")
    accept(inbox, "android:evt-1")
    assert inbox.accept("android:evt-1", "sms-a", "android", "bonjour", NOW, NOW) is None
    assert process(inbox_engine, "b").accept("android:evt-1", "sms-a", "android", "bonjour", NOW, NOW) is None
    assert inbox.accept("android:evt-2", "sms-a", "android", "bonjour", NOW, NOW) is not None


def test_the_inbox_keeps_the_pseudonym_a_hashed_provider_id_and_an_encrypted_text(inbox_engine: Engine) -> None:
    text = "né le 3 mars 1950, n° fiscal 1234567890123, au 06 39 98 00 01"
    row = stored(inbox_engine, accept(process(inbox_engine, "a"), "android:evt-1", text))
    assert row["pseudonym"] == "sms-a" and row["state"] == RECEIVED and row["claimed_by"] == "a"
    assert "evt-1" not in str(row["message_key"]) and len(str(row["message_key"])) == 64
    assert not any(secret in str(row["text"]) for secret in ("1234567890123", "06 39", "mars"))
    assert [row.text for row in process(inbox_engine, "a").take_for_turn("sms-a", NOW)] == [text]


def test_a_text_written_under_another_pepper_is_read_as_empty_not_as_a_crash(inbox_engine: Engine) -> None:
    accept(process(inbox_engine, "a"), "k1", "bonjour")
    other = SmsInbox(inbox_engine, "another-pepper", owner="a", lease=LEASE)
    assert [row.text for row in other.take_for_turn("sms-a", NOW)] == [""]


def test_a_held_row_is_taken_over_only_once_its_lease_has_run_out(inbox_engine: Engine) -> None:
    row_id = accept(process(inbox_engine, "a"), "k1")
    other = process(inbox_engine, "b")
    assert other.claim_expired(NOW + LEASE - timedelta(seconds=1)) == []
    claimed = other.claim_expired(NOW + LEASE + timedelta(seconds=1))
    assert [(row.id, row.text, row.state, row.attempts) for row in claimed] == [(row_id, "bonjour", RECEIVED, 1)]
    assert stored(inbox_engine, row_id)["claimed_by"] == "b"


def test_a_renewed_lease_keeps_a_slow_turn_with_its_process(inbox_engine: Engine) -> None:
    holder, other = process(inbox_engine, "a"), process(inbox_engine, "b")
    row_id = accept(holder, "k1")
    assert [row.id for row in holder.take_for_turn("sms-a", NOW)] == [row_id]
    assert holder.renew([row_id], NOW + timedelta(seconds=25)) == 1
    assert other.claim_expired(NOW + timedelta(seconds=40)) == []
    assert [row.id for row in other.claim_expired(NOW + timedelta(seconds=56))] == [row_id]


def test_a_row_taken_over_can_no_longer_be_answered_nor_renewed_by_its_old_holder(inbox_engine: Engine) -> None:
    holder, other = process(inbox_engine, "a"), process(inbox_engine, "b")
    row_id = accept(holder, "k1")
    holder.take_for_turn("sms-a", NOW)
    other.claim_expired(NOW + timedelta(minutes=1))
    assert holder.mark_answered([row_id], NOW + timedelta(minutes=1)) == 0
    assert holder.renew([row_id], NOW + timedelta(minutes=1)) == 0
    assert other.mark_answered([row_id], NOW + timedelta(minutes=1)) == 1


def test_concurrent_recoveries_never_claim_one_row_twice(inbox_engine: Engine) -> None:
    dead = process(inbox_engine, "dead")
    row_ids = {accept(dead, f"k{index}", pseudonym=f"sms-{index}") for index in range(30)}
    claimers = [process(inbox_engine, f"p{index}") for index in range(4)]
    start = threading.Barrier(len(claimers))
    claimed: dict[str, list[int]] = {}

    def recover(inbox: SmsInbox) -> None:
        start.wait()
        claimed[inbox.owner] = [row.id for row in inbox.claim_expired(NOW + timedelta(minutes=1))]

    threads = [threading.Thread(target=recover, args=(inbox,)) for inbox in claimers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    every_claim = [row_id for ids in claimed.values() for row_id in ids]
    assert sorted(every_claim) == sorted(row_ids)  # each row once, none twice
    for owner, ids in claimed.items():
        assert all(stored(inbox_engine, row_id)["claimed_by"] == owner for row_id in ids)


def test_parts_of_one_conversation_are_taken_together_in_written_order(inbox_engine: Engine) -> None:
    inbox = process(inbox_engine, "a")
    accept(inbox, "k2", "perdu", at=NOW + timedelta(seconds=2))
    accept(inbox, "k1", "jai", at=NOW)
    accept(inbox, "k3", "autre", pseudonym="sms-b")
    rows = inbox.take_for_turn("sms-a", NOW + timedelta(seconds=3))
    assert [(row.text, row.state) for row in rows] == [("jai", PROCESSING), ("perdu", PROCESSING)]
    assert inbox.take_for_turn("sms-a", NOW + timedelta(seconds=3)) == []  # taken once
    assert process(inbox_engine, "b").take_for_turn("sms-b", NOW) == []  # another process's rows are not its own


def test_an_answered_row_forgets_its_text_and_is_never_recovered(inbox_engine: Engine) -> None:
    inbox = process(inbox_engine, "a")
    row_id = accept(inbox, "k1", "jai perdu ma carte vitale")
    inbox.take_for_turn("sms-a", NOW)
    assert inbox.mark_answered([row_id], NOW + timedelta(seconds=2)) == 1
    row = stored(inbox_engine, row_id)
    assert (row["state"], row["text"], row["answered_at"]) == (ANSWERED, "", NOW + timedelta(seconds=2))
    assert process(inbox_engine, "b").claim_expired(NOW + timedelta(days=1)) == []


def test_a_released_row_is_tried_again_after_the_lease(inbox_engine: Engine) -> None:
    inbox = process(inbox_engine, "a")
    row_id = accept(inbox, "k1")
    inbox.take_for_turn("sms-a", NOW)
    inbox.release([row_id])
    assert inbox.claim_expired(NOW + timedelta(seconds=10)) == []
    assert [row.id for row in inbox.claim_expired(NOW + timedelta(seconds=31))] == [row_id]


def test_a_row_that_keeps_failing_is_given_up_after_max_attempts(inbox_engine: Engine) -> None:
    inbox = process(inbox_engine, "a")
    row_id = accept(inbox, "k1")
    moment = NOW
    recovered = 0
    for _ in range(MAX_ATTEMPTS + 2):
        moment += timedelta(minutes=1)
        recovered += len(inbox.claim_expired(moment))
    assert recovered == MAX_ATTEMPTS - 1
    row = stored(inbox_engine, row_id)
    assert (row["state"], row["text"], row["attempts"]) == (FAILED, "", MAX_ATTEMPTS)


def test_purge_deletes_finished_rows_after_the_retention_and_keeps_pending_ones(inbox_engine: Engine) -> None:
    inbox = process(inbox_engine, "a")
    old_answered = accept(inbox, "k1", pseudonym="sms-a")
    pending = accept(inbox, "k2", pseudonym="sms-b")
    recent = accept(inbox, "k3", pseudonym="sms-c", at=NOW + timedelta(days=7))
    inbox.take_for_turn("sms-a", NOW)
    inbox.mark_answered([old_answered], NOW)
    inbox.take_for_turn("sms-c", NOW + timedelta(days=7))
    inbox.mark_answered([recent], NOW + timedelta(days=7))
    counts = purge_project(inbox_engine, NOW + timedelta(days=8), RetentionPolicy())
    assert counts["sms_inbox"] == 1
    with inbox_engine.connect() as conn:
        left = {row.id for row in conn.execute(select(sms_inbox.c.id))}
    assert left == {pending, recent}
