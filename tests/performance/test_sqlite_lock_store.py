"""The lock stores let several Sanic workers share conversations: one at a time, in order, none lost.

SQLite for one machine; Redis (a throw-away redis-server from Debian's package) for the production stack.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from rasa.core.lock_store import LockStore
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import ReconnectingRedisLockStore, SQLiteLockStore, default_lock_db
from bot.prod.stack import free_port

CONVERSATION = "resident-1"
MESSAGES_PER_WORKER = 12


def _worker(make_store: Callable[[], LockStore], log: str, worker: int,
            start: multiprocessing.synchronize.Event) -> None:
    """One Sanic worker's share: its resident's messages, sent one after another without waiting for replies."""
    store = make_store()

    async def handle(message: int) -> None:
        async with store.lock(CONVERSATION, wait_time_in_seconds=0.005):
            with open(log, "a") as handle:  # O_APPEND: one line per write, in the order the writes happened
                handle.write(json.dumps({"event": "enter", "worker": worker, "message": message}) + "\n")
            await asyncio.sleep(0.002)  # a turn's work, during which no other turn of this conversation may run
            with open(log, "a") as handle:
                handle.write(json.dumps({"event": "exit", "worker": worker, "message": message}) + "\n")

    async def conversation() -> None:
        tasks = []
        for message in range(MESSAGES_PER_WORKER):
            tasks.append(asyncio.create_task(handle(message)))
            await asyncio.sleep(0)  # the next message's ticket is issued after this one's
        await asyncio.gather(*tasks)

    start.wait(10)
    asyncio.run(conversation())


def two_workers_take_turns(make_store: Callable[[], LockStore], log: str) -> None:
    """Two forked processes share one conversation's messages through the store: checked from the turns' log."""
    context = multiprocessing.get_context("fork")  # as Sanic starts its workers
    start = context.Event()
    workers = [context.Process(target=_worker, args=(make_store, log, worker, start)) for worker in (1, 2)]
    for process in workers:
        process.start()
    start.set()
    for process in workers:
        process.join(60)
    assert [process.exitcode for process in workers] == [0, 0]

    lines = [json.loads(line) for line in Path(log).read_text().splitlines()]
    assert len(lines) == 2 * 2 * MESSAGES_PER_WORKER, "a message was lost or handled twice"
    for enter, leave in zip(lines[::2], lines[1::2], strict=True):  # never two turns of the conversation at once
        assert (enter["event"], leave["event"]) == ("enter", "exit")
        assert (enter["worker"], enter["message"]) == (leave["worker"], leave["message"])
    for worker in (1, 2):
        served = [line["message"] for line in lines[::2] if line["worker"] == worker]
        assert served == list(range(MESSAGES_PER_WORKER)), f"worker {worker} answered out of order"
    assert make_store().get_lock(CONVERSATION) is None, "the finished conversation left a lock behind"


def test_two_worker_processes_handle_one_conversation_one_turn_at_a_time_in_order(tmp_path: Path) -> None:
    db = str(tmp_path / "locks.db")
    two_workers_take_turns(lambda: SQLiteLockStore(db=db), str(tmp_path / "turns.log"))


@pytest.fixture
def redis_port(tmp_path: Path) -> Iterator[int]:
    """A throw-away redis-server (Debian's package, installed by `make test`), no file written."""
    program = shutil.which("redis-server") or "/usr/bin/redis-server"
    port = free_port()
    server = subprocess.Popen([program, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no", "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        store = ReconnectingRedisLockStore(host="127.0.0.1", port=port)
        deadline = time.monotonic() + 20
        while True:  # wait until it answers (polling a condition, not proving anything)
            try:
                store.red.ping()
                break
            except Exception:
                if time.monotonic() > deadline or server.poll() is not None:
                    raise
                time.sleep(0.05)
        yield port
    finally:
        server.terminate()
        server.wait(10)


def test_two_worker_processes_share_one_conversation_through_redis(tmp_path: Path, redis_port: int) -> None:
    two_workers_take_turns(lambda: ReconnectingRedisLockStore(host="127.0.0.1", port=redis_port),
                           str(tmp_path / "turns.log"))


def test_redis_lock_cleanup_keeps_a_ticket_issued_meanwhile(redis_port: int) -> None:
    first = ReconnectingRedisLockStore(host="127.0.0.1", port=redis_port)
    second = ReconnectingRedisLockStore(host="127.0.0.1", port=redis_port)
    ticket = first.issue_ticket(CONVERSATION)
    waiting = second.issue_ticket(CONVERSATION)
    assert waiting == ticket + 1
    first.cleanup(CONVERSATION, ticket)
    lock = second.get_lock(CONVERSATION)
    assert lock is not None and not lock.is_locked(waiting)
    second.cleanup(CONVERSATION, waiting)
    assert second.get_lock(CONVERSATION) is None


def test_a_ticket_issued_meanwhile_survives_the_cleanup_of_the_previous_turn(tmp_path: Path) -> None:
    first, second = SQLiteLockStore(db=str(tmp_path / "locks.db")), SQLiteLockStore(db=str(tmp_path / "locks.db"))
    ticket = first.issue_ticket(CONVERSATION)
    waiting = second.issue_ticket(CONVERSATION)
    first.cleanup(CONVERSATION, ticket)
    lock = second.get_lock(CONVERSATION)
    assert lock is not None and not lock.is_locked(waiting)


def test_rasa_accepts_several_sanic_workers_with_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa.core.utils import number_of_sanic_workers

    monkeypatch.setenv("SANIC_WORKERS", "2")
    monkeypatch.setenv("NUMECRIVAIN_LOCK_DB", str(tmp_path / "locks.db"))
    config = EndpointConfig(type="bot.lock_store.SQLiteLockStore")
    assert isinstance(LockStore.create(config), SQLiteLockStore)
    assert number_of_sanic_workers(config) == 2


def test_the_lock_file_sits_next_to_the_sqlite_tracker_store_unless_set() -> None:
    assert default_lock_db({"TRACKER_DB": "/srv/bot/tracker.db"}) == Path("/srv/bot/tracker-locks.db")
    assert default_lock_db({"TRACKER_DB": "/srv/t.db", "NUMECRIVAIN_LOCK_DB": "/run/l.db"}) == Path("/run/l.db")
    assert default_lock_db({"TRACKER_DB": "db", "TRACKER_DIALECT": "postgresql"}).name == "locks.db"


def test_each_forked_worker_opens_its_own_connection(tmp_path: Path) -> None:
    store = SQLiteLockStore(db=str(tmp_path / "locks.db"))
    store.issue_ticket(CONVERSATION)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # the child reads the parent's ticket through a connection of its own
        lock = store.get_lock(CONVERSATION)
        os.write(write, b"1" if lock is not None and store._connection is not None and store._owner_pid == os.getpid()
                 else b"0")
        os._exit(0)
    os.waitpid(child, 0)
    assert os.read(read, 1) == b"1"
