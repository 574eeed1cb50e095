"""Rasa's SQL event broker, writing each conversation event to the project database for the usage figures.

endpoints*.yml: ``event_broker: {type: bot.event_broker.ProjectEventBroker}``. Rasa publishes every new event
of every conversation here once its tracker is saved; the events are already masked by
``bot.tracker_store.RedactingSQLTrackerStore`` (the broker only sees what the tracker store streams).

Why not ``type: SQL`` as is: Rasa's table is called ``events``, the very name of the tracker store's table, so
the broker and a tracker store sharing one PostgreSQL database would collide; and it keeps only the JSON, so
every figure would decode every event. This subclass writes to ``conversation_events`` (made by the project's
migrations, like every project table), with the columns the figures filter on, through the project's engine.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from asyncio import AbstractEventLoop
from typing import Any

from rasa.core.brokers.sql import SQLEventBroker
from rasa.utils.endpoints import EndpointConfig
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.future import Engine

from bot.conversation_events import conversation_events, event_row
from bot.db import get_engine
from bot.handoff.resident_push import ResidentPush

logger = logging.getLogger(__name__)
MAX_BATCH = 500  # rows per insert: one turn is a handful of events, a burst of turns a few hundred

class ProjectEventBroker(SQLEventBroker):
    """Rasa's SQL event broker on the project database (NUMECRIVAIN_DB_URL, or `url` in the endpoint).

    Rasa calls `publish` on its event loop, once per event: the rows are handed to one writer thread that
    inserts them in order, in batches, so a slow database never delays a reply. `close` (Rasa calls it at
    shutdown) writes what is still queued.
    """

    def __init__(self, url: str | None = None, engine: Engine | None = None) -> None:
        # SQLEventBroker.__init__ is not called: it would create Rasa's own `events` table.
        self.engine = engine or get_engine(url)
        self._queue: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        self._pending = 0
        self._written = threading.Condition()
        self._writer = threading.Thread(target=self._write_forever, name="event-broker", daemon=True)
        self._writer.start()
        self.resident_push = ResidentPush(self.engine)  # the agents' console learns at once what a person writes

    @classmethod
    async def from_endpoint_config(cls, broker_config: EndpointConfig,
                                   event_loop: AbstractEventLoop | None = None) -> ProjectEventBroker:
        """Built by Rasa from endpoints.yml."""
        return cls(url=broker_config.url or None)

    def publish(self, event: dict[str, Any]) -> None:
        """Queue one event (its row is made now: Rasa may change the dict afterwards)."""
        row = event_row(event)
        self.resident_push.on_stored_event(event)
        with self._written:
            self._pending += 1
        self._queue.put(row)

    def _write_forever(self) -> None:
        stopping = False
        while not stopping:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while len(batch) < MAX_BATCH:
                try:
                    row = self._queue.get_nowait()
                except queue.Empty:
                    break
                if row is None:
                    stopping = True
                    break
                batch.append(row)
            self._insert(batch)

    def _insert(self, rows: list[dict[str, Any]]) -> None:
        """Store a batch; a database failure is logged (without the events) and never breaks a reply."""
        try:
            with self.engine.begin() as connection:
                connection.execute(insert(conversation_events), rows)
        except SQLAlchemyError as exc:
            logger.error("Event broker: %d events not stored (%s).", len(rows), type(exc).__name__)
        finally:
            with self._written:
                self._pending -= len(rows)
                self._written.notify_all()

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every published event is written (or given up); False after the timeout."""
        with self._written:
            return self._written.wait_for(lambda: self._pending == 0, timeout)

    async def close(self) -> None:
        """Write what is queued, then stop the writer (Rasa calls it when the server stops)."""
        self._queue.put(None)
        await asyncio.to_thread(self._writer.join, 10.0)
        await self.resident_push.close()

    def is_ready(self) -> bool:
        """The broker is ready when its database answers."""
        try:
            with self.engine.connect():
                return True
        except SQLAlchemyError:
            return False
