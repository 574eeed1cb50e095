"""Lock stores: one conversation is handled by one worker at a time, in the order its messages came.

- `SQLiteLockStore` (the laptop and small-server default, endpoints.yml): Rasa's ticket lock kept in a SQLite
  file, so that the Sanic workers of one machine (SANIC_WORKERS) share it. Each read-modify-write of a lock is
  one SQLite write transaction, so two workers never issue the same ticket or drop each other's.
- `ReconnectingRedisLockStore` (the production stack, several machines or containers): Rasa's Redis lock store,
  with a client that reconnects by itself after Redis restarts, and each read-modify-write of a lock done as one
  optimistic Redis transaction (WATCH/MULTI, retried when another process changed the lock in between): Rasa's
  own reads, changes and writes back in separate commands, so two processes could issue the same ticket.

Rasa's own Redis client keeps dead pooled connections after a Redis restart: the first command on each one fails, so
every Rasa process refuses one more message after Redis is back. Here a command that meets a broken connection
is retried on a fresh one (a few quick tries); while Redis is really down it still fails, and the channel
answers with its kind "send it again" message.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore, RedisLockStore
from rasa.utils.endpoints import EndpointConfig
from redis.backoff import ExponentialBackoff
from redis.retry import Retry

from bot.settings import TrackerSettings

RETRIES = 3
KEEP, SAVE, DELETE = "keep", "save", "delete"


class ReconnectingRedisLockStore(RedisLockStore):
    """`lock_store: type: bot.lock_store.ReconnectingRedisLockStore` with the same keys as `type: redis`."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        settings: dict[str, Any] = dict(endpoint_config.kwargs) if endpoint_config is not None else {}
        if endpoint_config is not None and endpoint_config.url:
            settings["host"] = endpoint_config.url
        settings.update(kwargs)
        super().__init__(**settings)
        pool = self.red.connection_pool
        options = dict(pool.connection_kwargs)
        options.update(retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), RETRIES),
                       retry_on_error=[redis.exceptions.ConnectionError, redis.exceptions.TimeoutError])
        self.red = redis.StrictRedis(connection_pool=redis.ConnectionPool(connection_class=pool.connection_class,
                                                                         **options))

    def _change(self, conversation_id: str, change: Callable[[TicketLock | None], tuple[str, TicketLock | None, Any]]
                ) -> Any:
        """Apply `change` to the stored lock atomically: it returns (KEEP | SAVE | DELETE, the lock, a result)."""
        key = self.key_prefix + conversation_id

        def attempt(pipe: Any) -> Any:
            raw = pipe.get(key)
            what, lock, result = change(TicketLock.from_dict(json.loads(raw)) if raw else None)
            pipe.multi()
            if what == SAVE and lock is not None:
                pipe.set(key, lock.dumps())
            elif what == DELETE:
                pipe.delete(key)
            return result

        try:
            return self.red.transaction(attempt, key, value_from_callable=True)
        except redis.exceptions.RedisError as exc:
            raise LockError(f"Error while changing a lock ({type(exc).__name__}).") from exc

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: TicketLock | None) -> tuple[str, TicketLock | None, Any]:
            lock = lock or TicketLock(conversation_id)
            return SAVE, lock, lock.issue_ticket(lock_lifetime)

        return int(self._change(conversation_id, issue))

    def _edit(self, conversation_id: str, edit: Callable[[TicketLock], None], drop_when_idle: bool = False) -> None:
        """Edit the stored lock, if any, in one transaction; `drop_when_idle` deletes it when nobody waits."""
        def change(lock: TicketLock | None) -> tuple[str, TicketLock | None, Any]:
            if lock is None:
                return KEEP, None, None
            edit(lock)
            return (DELETE if drop_when_idle and not lock.is_someone_waiting() else SAVE), lock, None

        self._change(conversation_id, change)

    def update_lock(self, conversation_id: str) -> None:
        self._edit(conversation_id, TicketLock.remove_expired_tickets)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._edit(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish this ticket and drop the lock if nobody waits, in one transaction (no ticket issued between)."""
        self._edit(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number), drop_when_idle=True)


BUSY_TIMEOUT_SECONDS = 10.0


def default_lock_db(environ: Mapping[str, str] | None = None) -> Path:
    """NUMECRIVAIN_LOCK_DB, else next to the SQLite tracker store (TRACKER_DB), else var/locks.db."""
    return TrackerSettings.from_environ(environ).lock_db


class SQLiteLockStore(LockStore):
    """`lock_store: type: bot.lock_store.SQLiteLockStore` with `db: <file>`; shared by the processes of one machine.

    Rasa runs several Sanic workers only with a lock store that is not in memory; this one needs no server. Each
    process opens its own connection when it first needs it (Sanic forks the workers after the store's module is
    imported). The file holds only the tickets of conversations being answered (a row is deleted when nobody
    waits), never a message.
    """

    def __init__(self, endpoint_config: EndpointConfig | None = None, db: str | None = None) -> None:
        configured = db or (endpoint_config.kwargs.get("db") if endpoint_config is not None else None)
        self.path = Path(configured) if configured else default_lock_db()
        self._connection: sqlite3.Connection | None = None
        self._owner_pid = 0
        self._depth = 0
        self._mutex = threading.RLock()
        self._connect()  # a wrong path fails at start, not on the first message

    def _connect(self) -> sqlite3.Connection:
        if self._connection is None or self._owner_pid != os.getpid():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_SECONDS, isolation_level=None,
                                         check_same_thread=False)
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # a lock outlives no crash anyway (tickets expire)
            connection.execute("CREATE TABLE IF NOT EXISTS conversation_locks "
                               "(conversation_id TEXT PRIMARY KEY, lock TEXT NOT NULL)")
            self._connection, self._owner_pid, self._depth = connection, os.getpid(), 0
        return self._connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE: other processes wait), re-entrant within this process."""
        with self._mutex:
            connection = self._connect()
            outermost = self._depth == 0
            if outermost:
                connection.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield connection
            except BaseException:
                self._depth -= 1
                if outermost:
                    connection.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outermost:
                connection.execute("COMMIT")

    def get_lock(self, conversation_id: str) -> TicketLock | None:
        with self._mutex:
            row = self._connect().execute("SELECT lock FROM conversation_locks WHERE conversation_id = ?",
                                          (conversation_id,)).fetchone()
        return TicketLock.from_dict(json.loads(row[0])) if row else None

    def delete_lock(self, conversation_id: str) -> None:
        with self._transaction() as connection:
            deleted = connection.execute("DELETE FROM conversation_locks WHERE conversation_id = ?",
                                         (conversation_id,)).rowcount
        self._log_deletion(conversation_id, deleted > 0)

    def save_lock(self, lock: TicketLock) -> None:
        with self._transaction() as connection:
            connection.execute("INSERT OR REPLACE INTO conversation_locks (conversation_id, lock) VALUES (?, ?)",
                               (lock.conversation_id, lock.dumps()))

    def issue_ticket(self, conversation_id: str, lock_lifetime: float = LOCK_LIFETIME) -> int:
        """Read the lock, add a ticket and write it back, with no other process in between."""
        try:
            with self._transaction():
                lock = self.get_or_create_lock(conversation_id)
                ticket = lock.issue_ticket(lock_lifetime)
                self.save_lock(lock)
                return ticket
        except sqlite3.Error as exc:
            raise LockError(f"Error while acquiring lock ({type(exc).__name__}).") from exc

    def update_lock(self, conversation_id: str) -> None:
        with self._transaction():
            super().update_lock(conversation_id)

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        with self._transaction():
            super().finish_serving(conversation_id, ticket_number)

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        """Finish this ticket and drop the lock if nobody waits, in one transaction (no ticket issued between)."""
        with self._transaction():
            super().cleanup(conversation_id, ticket_number)
