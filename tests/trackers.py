"""Build rasa-sdk trackers for action tests without a running bot."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict


def user_event(text: str, intent: str, entities: list[dict[str, Any]] | None = None,
               channel: str = "rest") -> dict[str, Any]:
    """A user event as Rasa stores it."""
    return {
        "event": "user", "text": text, "input_channel": channel,
        "parse_data": {"intent": {"name": intent, "confidence": 0.9}, "entities": entities or [], "text": text},
    }


def make_tracker(text: str = "", intent: str = "greet", *, channel: str = "rest",
                 entities: list[dict[str, Any]] | None = None, slots: dict[str, Any] | None = None,
                 history: list[dict[str, Any]] | None = None, sender_id: str = "test-user") -> Tracker:
    """A tracker whose latest message is (text, intent) on the given channel."""
    latest = user_event(text, intent, entities, channel)
    return Tracker(
        sender_id=sender_id,
        slots=slots or {},
        latest_message={**latest["parse_data"], "text": text},
        events=[*(history or []), latest],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


def empty_domain() -> DomainDict:
    """A domain with nothing in it: our actions read nothing from it, and rasa-sdk types it as a full DomainDict."""
    return {"intents": [], "entities": [], "slots": {}, "responses": {}, "actions": [], "forms": {}}
