"""Facts about a conversation read from its events, independent of Rasa's classes."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

FALLBACK_INTENT = "nlu_fallback"
# A handoff (pause/resume), a restart or a new session starts the count again: what the user wrote to an
# agent, or before, is not a misunderstanding of the bot now.
_COUNT_RESETS = frozenset({"pause", "resume", "restart", "session_started"})
# A message the model was unsure of but that names a commune or a postcode was understood as a place.
_UNDERSTOOD_ENTITIES = frozenset({"commune", "postcode"})


def consecutive_fallbacks(events: Iterable[dict[str, Any]]) -> int:
    """How many of the latest user messages in a row were not understood (including the last one)."""
    count = 0
    for event in reversed(list(events)):
        kind = event.get("event")
        if kind in _COUNT_RESETS:
            break
        if kind != "user":
            continue
        parse_data = event.get("parse_data") or {}
        intent = (parse_data.get("intent") or {}).get("name")
        entities = {entity.get("entity") for entity in parse_data.get("entities") or []}
        if intent != FALLBACK_INTENT or entities & _UNDERSTOOD_ENTITIES:
            break
        count += 1
    return count


def fallback_starts_handoff(events: Iterable[dict[str, Any]]) -> bool:
    """The second misunderstanding in a row hands over to a person (then the 4th, 6th... if nobody could)."""
    count = consecutive_fallbacks(events)
    return count >= 2 and count % 2 == 0
