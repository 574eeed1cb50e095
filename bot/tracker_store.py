"""Rasa's SQL tracker store, keeping conversations without personal data, at a cost per turn that stays flat.

Every field of every new event (text, parse data, entities, slots, metadata, bot payloads) goes through
`bot.privacy.redact_data` before it is written. Only the events not stored yet are redacted, so the work per
turn does not grow with the length of the conversation. The actions of the current turn still see the message
as typed (the callback form needs the number once, and stores it apart, to be deleted after the call).

Three things keep a turn's cost flat (docs/performance.md):

- The event broker gets the new events counted from the database, not by loading the whole stored
  conversation again and comparing (what Rasa's `stream_events` does on every save).
- The tracker just saved stays in memory (a bounded LRU, a few minutes), and the next turn of that conversation
  uses it instead of reading and replaying every event of the session. It is used only while the database
  holds exactly what it holds (same last event id: another Rasa process, an erasure or a purge invalidate it)
  and nobody has changed it since. When the turn had something to mask, what is kept is the tracker replayed
  from the events as stored (masked), so the next turn sees the masked conversation, as when it is read back.
  NUMECRIVAIN_TRACKER_CACHE=0 turns it off.
- SQLite (the default install): WAL and synchronous=NORMAL, so a turn's commit does not wait for an fsync, and
  the portal reading the conversations never blocks the bot.
"""

from __future__ import annotations

import itertools
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore, create_engine_kwargs
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import event as sa_event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

from bot.privacy import redact_data
from bot.settings import TrackerSettings

logger = logging.getLogger(__name__)



def redacted_event_data(event: Event) -> dict[str, Any]:
    """The event as Rasa stores it, with personal data masked in every field."""
    return redact_data(event.as_dict())


def redacted(event: Event) -> Event:
    """A copy of an event with personal data masked (kept for callers that need an Event, not a dict)."""
    return Event.from_parameters(redacted_event_data(event)) or event


@dataclass
class _Cached:
    tracker: DialogueStateTracker
    last_event_id: int
    events: int
    saved_at: float


class TrackerCache:
    """Trackers as they were saved, by conversation; bounded in number and in age."""

    def __init__(self, size: int, max_age: float) -> None:
        self.size, self.max_age = size, max_age
        self._entries: OrderedDict[str, _Cached] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, sender_id: str, last_event_id: int | None, now: float) -> DialogueStateTracker | None:
        """The saved tracker, if the database still ends at the same event and nobody changed it since."""
        with self._lock:
            entry = self._entries.get(sender_id)
            if entry is None:
                return None
            if (now - entry.saved_at > self.max_age or last_event_id != entry.last_event_id
                    or len(entry.tracker.events) != entry.events):
                del self._entries[sender_id]
                return None
            self._entries.move_to_end(sender_id)
            return entry.tracker

    def put(self, tracker: DialogueStateTracker, last_event_id: int, now: float) -> None:
        if self.size <= 0:
            return
        with self._lock:
            self._entries[tracker.sender_id] = _Cached(tracker, last_event_id, len(tracker.events), now)
            self._entries.move_to_end(tracker.sender_id)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def forget(self, sender_id: str) -> None:
        with self._lock:
            self._entries.pop(sender_id, None)

    def __len__(self) -> int:
        return len(self._entries)


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that writes only redacted events, and keeps the last saved trackers in memory."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self._tune_sqlite()
        else:
            self._check_connections_before_use()
        # Rasa builds its own engine: a database error must not carry the bound values (messages, numbers).
        self.engine.hide_parameters = True
        settings = TrackerSettings()
        self.cache = TrackerCache(settings.cache_size, settings.cache_seconds)

    def _tune_sqlite(self) -> None:
        """A pooled engine (Rasa's opens a file per query) with WAL and no fsync per commit."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, poolclass=QueuePool, pool_size=4, max_overflow=8,
                                       hide_parameters=True,
                                       connect_args={"check_same_thread": False, "timeout": 15})

        @sa_event.listens_for(self.engine, "connect")
        def _pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        self.sessionmaker = sessionmaker(bind=self.engine)

    def _check_connections_before_use(self) -> None:
        """A pooled connection is tested before use, so the first turns after a database restart do not fail."""
        url = self.engine.url
        self.engine.dispose()
        self.engine = sa.create_engine(url, pool_pre_ping=True, hide_parameters=True, **create_engine_kwargs(url))
        self.sessionmaker = sessionmaker(bind=self.engine)

    def _last_event_id(self, session: Any, sender_id: str) -> int | None:
        return session.query(sa.func.max(self.SQLEvent.id)).filter(self.SQLEvent.sender_id == sender_id).scalar()

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """The current session's tracker: from memory when still exact, else read and replayed from SQL."""
        if self.cache.size > 0:
            with self.session_scope() as session:
                last_id = self._last_event_id(session, sender_id)
            tracker = self.cache.get(sender_id, last_id, time.monotonic())
            if tracker is not None:
                return tracker
        return await super().retrieve(sender_id)

    async def stream_events(self, tracker: DialogueStateTracker) -> None:
        """Nothing here: save() streams the new events it has just counted (no reload of the conversation)."""

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events not stored yet, redacted (same rows as SQLTrackerStore.save)."""
        stored: list[dict[str, Any]] = []
        clean = True
        last_id = 0
        with self.session_scope() as session:
            rows = []
            already_stored = self._event_query(session, tracker.sender_id, fetch_events_from_all_sessions=False).count()
            # More stored than this tracker holds: another process wrote meanwhile; keep nothing in memory then.
            consistent = already_stored <= len(tracker.events)
            for event in itertools.islice(tracker.events, already_stored, len(tracker.events)):
                original = event.as_dict()
                data = redact_data(original)
                clean = clean and data == original
                stored.append(data)
                intent = ((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY)
                row = self.SQLEvent(sender_id=tracker.sender_id, type_name=event.type_name,
                                    timestamp=data.get("timestamp"), intent_name=intent,
                                    action_name=data.get("name"), data=json.dumps(data))
                session.add(row)
                rows.append(row)
            session.flush()
            last_id = (rows[-1].id if rows else self._last_event_id(session, tracker.sender_id)) or 0
            session.commit()
        if not consistent:
            self.cache.forget(tracker.sender_id)
        elif clean:
            self.cache.put(tracker, last_id, time.monotonic())
        elif self.domain is not None and self.cache.size > 0:
            # What the database now holds, without reading it: the older events (already masked) and this
            # turn's events as stored, masked, replayed in memory.
            older = list(tracker.events)[:len(tracker.events) - len(stored)]
            masked = [replayed_event for data in stored
                      if (replayed_event := Event.from_parameters(data)) is not None]
            replayed = DialogueStateTracker.from_events(tracker.sender_id, older + masked, self.domain.slots)
            self.cache.put(replayed, last_id, time.monotonic())
        else:
            self.cache.forget(tracker.sender_id)
        if self.event_broker is not None:
            for data in stored:  # what Rasa's _stream_new_events publishes, already redacted
                self.event_broker.publish({"sender_id": tracker.sender_id, **data})
        logger.debug("Tracker stored, redacted.")

    async def _stream_new_events(self, event_broker: Any, new_events: list[Event], sender_id: str) -> None:
        """An event broker, if one is ever configured, receives the redacted events too."""
        await super()._stream_new_events(event_broker, [redacted(event) for event in new_events], sender_id)
