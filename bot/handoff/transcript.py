"""Read a conversation from Rasa events: the transcript an agent sees and the topic of the request.

The action server receives the live tracker, whose current turn is not redacted yet: every text is masked
here, before the transcript is copied into the handoff queue or shown to an agent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bot.privacy import redact_personal_data

AGENT_METADATA_KEY = "handoff_agent"  # set on bot events that an agent (or the handoff system) wrote
SYSTEM_AUTHOR = "Numécrivain"
_NOT_A_TOPIC = {
    "request_human", "request_callback", "nlu_fallback", "greet", "goodbye", "thank", "affirm", "deny",
    "bot_challenge", "help_menu", "out_of_scope", "stop", None,
}
MAX_TRANSCRIPT_MESSAGES = 60


def transcript_from_events(
    events: Iterable[dict[str, Any]], limit: int = MAX_TRANSCRIPT_MESSAGES
) -> list[dict[str, Any]]:
    """User, bot and agent messages, oldest first, with their timestamps (the last `limit` only)."""
    messages: list[dict[str, Any]] = []
    for event in events:
        kind = event.get("event")
        text = event.get("text")
        if kind not in ("user", "bot") or not isinstance(text, str) or not text.strip():
            continue
        entry: dict[str, Any] = {"role": kind, "text": redact_personal_data(text), "timestamp": event.get("timestamp")}
        if kind == "bot":
            metadata = event.get("metadata") or {}
            if metadata.get(AGENT_METADATA_KEY):
                entry.update(role="agent" if metadata.get("agent") else "system", agent=metadata[AGENT_METADATA_KEY])
            buttons = [b for b in (event.get("data") or {}).get("buttons") or [] if isinstance(b, dict)]
            titles = [b.get("title") for b in buttons]
            if titles:
                entry["choices"] = [redact_personal_data(t) for t in titles if isinstance(t, str)]
                # So that the console can say which button the person pressed instead of showing "/payload".
                entry["payloads"] = {b["payload"]: redact_personal_data(b["title"]) for b in buttons
                                     if isinstance(b.get("payload"), str) and isinstance(b.get("title"), str)}
        messages.append(entry)
    return messages[-limit:]


def topic_from_events(events: Iterable[dict[str, Any]], last_procedure: str | None = None) -> str | None:
    """What the person was asking about: the last procedure shown, else the last meaningful intent."""
    if last_procedure:
        return last_procedure
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent not in _NOT_A_TOPIC:
            return str(intent)
    return None


def last_user_timestamp(events: Iterable[dict[str, Any]]) -> float | None:
    """When the user last wrote."""
    stamps: list[float] = [e["timestamp"] for e in events if e.get("event") == "user" and e.get("timestamp")]
    return max(stamps) if stamps else None
