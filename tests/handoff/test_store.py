"""The persistent queue: order, atomic take, closed conversations, expiry, survival across restarts."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from bot.handoff.store import (
    CLOSED,
    CLOSED_BY_AGENT,
    EXPIRED,
    IDLE_TIMEOUT,
    TAKEN,
    WAIT_TIMEOUT,
    WAITING,
    AlreadyTakenError,
    ConversationClosedError,
    HandoffQueue,
    RequestNotFoundError,
)
from tests.handoff.helpers import FIXED_NOW, sqlite_engine

TRANSCRIPT = [{"role": "user", "text": "je veux parler à quelqu'un", "timestamp": 1.0}]


@pytest.fixture
def queue(tmp_path):
    return HandoffQueue(sqlite_engine(tmp_path))


def test_waiting_requests_are_listed_oldest_first_with_context(queue):
    queue.enqueue("b", "sms", TRANSCRIPT, now=FIXED_NOW + timedelta(minutes=2))
    queue.enqueue("a", "webchat", TRANSCRIPT, commune="Roubaix", topic="procedure_passport", now=FIXED_NOW)
    waiting = queue.waiting()
    assert [r.sender_id for r in waiting] == ["a", "b"]
    assert waiting[0].commune == "Roubaix" and waiting[0].topic == "procedure_passport"
    assert waiting[0].transcript == TRANSCRIPT and waiting[0].channel == "webchat"
    assert queue.waiting_position(waiting[1]) == 2


def test_asking_twice_queues_the_conversation_once(queue):
    first = queue.enqueue("a", "rest", TRANSCRIPT, now=FIXED_NOW)
    second = queue.enqueue("a", "rest", TRANSCRIPT, now=FIXED_NOW)
    assert first.id == second.id and len(queue.waiting()) == 1


def test_only_one_of_eight_agents_taking_at_once_gets_the_conversation(queue):
    request = queue.enqueue("a", "rest", TRANSCRIPT)
    barrier = threading.Barrier(8, timeout=60)

    def grab(name: str) -> str:
        barrier.wait()
        try:
            queue.take(request.id, name)
            return name
        except AlreadyTakenError:
            return "409"

    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(grab, f"agent{i}") for i in range(8)]
        results = [future.result(timeout=60) for future in futures]  # re-raises what a thread raised
    winners = [r for r in results if r != "409"]
    assert len(results) == 8 and len(winners) == 1
    assert queue.get(request.id).agent_name == winners[0] and queue.get(request.id).status == TAKEN


def test_taking_an_unknown_conversation_is_not_found(queue):
    with pytest.raises(RequestNotFoundError):
        queue.take(999, "alice")


def test_agent_cannot_write_to_a_closed_or_foreign_conversation(queue):
    request = queue.enqueue("a", "rest", TRANSCRIPT)
    queue.take(request.id, "alice")
    with pytest.raises(ConversationClosedError):
        queue.touch(request.id, "bob")
    queue.close(request.id, CLOSED_BY_AGENT, agent_name="alice")
    with pytest.raises(ConversationClosedError):
        queue.touch(request.id, "alice")
    with pytest.raises(ConversationClosedError):
        queue.close(request.id, CLOSED_BY_AGENT, agent_name="alice")
    assert queue.get(request.id).status == CLOSED


def test_stale_requests_are_found_by_wait_and_idle_time(queue):
    old = queue.enqueue("old", "rest", TRANSCRIPT, now=FIXED_NOW)
    queue.enqueue("new", "rest", TRANSCRIPT, now=FIXED_NOW + timedelta(minutes=14))
    idle = queue.enqueue("idle", "rest", TRANSCRIPT, now=FIXED_NOW)
    queue.take(idle.id, "alice", now=FIXED_NOW)
    stale = queue.stale(FIXED_NOW + timedelta(minutes=16), wait_minutes=15, idle_minutes=15)
    assert [(r.id, reason) for r, reason in stale] == [(old.id, WAIT_TIMEOUT), (idle.id, IDLE_TIMEOUT)]


def test_wait_timeout_does_not_close_a_conversation_taken_meanwhile(queue):
    request = queue.enqueue("a", "rest", TRANSCRIPT, now=FIXED_NOW)
    queue.take(request.id, "alice")
    with pytest.raises(ConversationClosedError):
        queue.close(request.id, WAIT_TIMEOUT)
    assert queue.get(request.id).status == TAKEN


def test_expired_request_is_not_resumed_until_marked(queue):
    request = queue.enqueue("a", "rest", TRANSCRIPT, now=FIXED_NOW)
    queue.close(request.id, WAIT_TIMEOUT)
    assert queue.get(request.id).status == EXPIRED
    assert [r.id for r in queue.not_resumed()] == [request.id]
    queue.mark_resumed(request.id)
    assert queue.not_resumed() == []
    assert queue.enqueue("a", "rest", TRANSCRIPT).id != request.id  # a new request can follow


def test_queue_and_messages_survive_a_database_restart(tmp_path):
    engine = sqlite_engine(tmp_path)
    queue = HandoffQueue(engine)
    request = queue.enqueue("a", "webchat", TRANSCRIPT)
    queue.take(request.id, "alice")
    queue.add_message(request.id, "Bonjour, je suis Alice.", "alice")
    engine.dispose()  # every connection closed, as when the database server restarts
    reopened = HandoffQueue(sqlite_engine(tmp_path))
    assert reopened.get(request.id).status == TAKEN
    assert [m.text for m in reopened.messages(request.id)] == ["Bonjour, je suis Alice."]


def test_failed_and_stuck_messages_are_retried_but_fresh_ones_are_left_alone(queue):
    request = queue.enqueue("a", "webchat", TRANSCRIPT)
    stuck = queue.add_message(request.id, "ancien", "alice", now=FIXED_NOW)
    fresh = queue.add_message(request.id, "en cours", "alice", now=FIXED_NOW + timedelta(seconds=50))
    failed = queue.add_message(request.id, "échoué", "alice", now=FIXED_NOW + timedelta(seconds=50))
    queue.set_delivery(failed.id, "failed")
    ids = [m.id for m in queue.undelivered(FIXED_NOW + timedelta(seconds=60))]
    assert ids == [stuck.id, failed.id] and fresh.id not in ids
    assert queue.get(request.id).status == WAITING


def test_requests_of_an_older_database_get_random_public_ids(tmp_path):
    import sqlite3

    from bot.db import make_engine

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as old:  # the queue as the first version created it
        old.execute("CREATE TABLE handoff_requests (id INTEGER PRIMARY KEY, sender_id VARCHAR(128) NOT NULL, "
                    "channel VARCHAR(64) NOT NULL, commune VARCHAR(128), topic VARCHAR(128), transcript TEXT NOT NULL, "
                    "status VARCHAR(16) NOT NULL, agent_name VARCHAR(64), outbox_key VARCHAR(64) NOT NULL, "
                    "requested_at DATETIME NOT NULL, taken_at DATETIME, last_activity_at DATETIME NOT NULL, "
                    "closed_at DATETIME, close_reason VARCHAR(32), resumed_at DATETIME)")
        for n in (1, 2):
            old.execute("INSERT INTO handoff_requests (id, sender_id, channel, transcript, status, outbox_key, "
                        "requested_at, last_activity_at) VALUES (?, ?, 'webchat', '[]', 'waiting', 'k', "
                        "'2024-03-11 09:00:00.000000', '2024-03-11 09:00:00.000000')", (n, f"web-{n}"))
    queue = HandoffQueue(make_engine(f"sqlite:///{path}"))
    public_ids = [request.public_id for request in queue.waiting()]
    assert len(set(public_ids)) == 2 and all(len(public_id) == 16 for public_id in public_ids)
    assert queue.by_public_id(public_ids[0]).sender_id == "web-1"
    with pytest.raises(RequestNotFoundError):
        queue.by_public_id("1")
