"""Rasa's SQL tracker store, keeping conversations without phone numbers or e-mail addresses.

The actions of the current turn still see the message as typed (the callback form needs the number once,
and stores it apart, to be deleted after the call); only what is written to the database is masked.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import redact_personal_data


def redacted(event: Any) -> Any:
    """A copy of a user or bot message with personal data masked (a reply may quote the user)."""
    if not isinstance(event, UserUttered | BotUttered) or not event.text:
        return event
    masked = redact_personal_data(event.text)
    if masked == event.text:
        return event
    clean = copy.deepcopy(event)
    clean.text = masked
    if isinstance(getattr(clean, "parse_data", None), dict):
        clean.parse_data["text"] = masked
    return clean


class RedactingSQLTrackerStore(SQLTrackerStore):
    """SQLTrackerStore that masks phone numbers and e-mail addresses in stored messages."""

    def _additional_events(self, session: Any, tracker: DialogueStateTracker) -> Iterator:
        return (redacted(event) for event in super()._additional_events(session, tracker))
