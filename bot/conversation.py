"""Facts about a conversation read from its events, independent of Rasa's classes."""

from __future__ import annotations

from typing import Any, Iterable

FALLBACK_INTENT = "nlu_fallback"


def consecutive_fallbacks(events: Iterable[dict[str, Any]]) -> int:
    """How many of the latest user messages in a row were not understood (including the last one)."""
    count = 0
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent != FALLBACK_INTENT:
            break
        count += 1
    return count
