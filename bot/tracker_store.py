"""Rasa's SQL tracker store, keeping conversations without personal data.

Every field of every new event (text, parse data, entities, slots, metadata, bot payloads) goes through
`bot.privacy.redact_data` before it is written. Only the events not stored yet are redacted, so the work per
turn does not grow with the length of the conversation. The actions of the current turn still see the message
as typed (the callback form needs the number once, and stores it apart, to be deleted after the call).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import Event
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from bot.privacy import redact_data

logger = logging.getLogger(__name__)


def redacted_event_data(event: Event) -> dict[str, Any]:
    """The event as Rasa stores it, with personal data masked in every field."""
    return redact_data(event.as_dict())


def redacted(event: Event) -> Event:
    """A copy of an event with personal data masked (kept for callers that need an Event, not a dict)."""
    return Event.from_parameters(redacted_event_data(event)) or event


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that writes only redacted events."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Rasa builds its own engine: a database error must not carry the bound values (messages, numbers).
        self.engine.hide_parameters = True

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the events not stored yet, redacted (same rows as SQLTrackerStore.save)."""
        await self.stream_events(tracker)
        with self.session_scope() as session:
            for event in self._additional_events(session, tracker):
                data = redacted_event_data(event)
                intent = ((data.get("parse_data") or {}).get("intent") or {}).get(INTENT_NAME_KEY)
                session.add(
                    self.SQLEvent(
                        sender_id=tracker.sender_id,
                        type_name=event.type_name,
                        timestamp=data.get("timestamp"),
                        intent_name=intent,
                        action_name=data.get("name"),
                        data=json.dumps(data),
                    )
                )
            session.commit()
        logger.debug("Tracker stored, redacted.")

    async def _stream_new_events(self, event_broker: Any, new_events: list[Event], sender_id: str) -> None:
        """An event broker, if one is ever configured, receives the redacted events too."""
        await super()._stream_new_events(event_broker, [redacted(event) for event in new_events], sender_id)
