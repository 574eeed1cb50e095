"""The conversation events the event broker stores in the project database: what the usage figures read."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Column, Float, Index, Integer, String, Table, Text

from bot.db import metadata

# The columns of Rasa's tracker store `events` table, so one reader serves both (older history stays readable).
conversation_events = Table(
    "conversation_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("sender_id", String(255), nullable=False),
    Column("type_name", String(255), nullable=False),
    Column("timestamp", Float),
    Column("intent_name", String(255)),
    Column("action_name", String(255)),
    Column("data", Text),
    Index("ix_conversation_events_timestamp", "timestamp"),
    Index("ix_conversation_events_sender_id", "sender_id"),
)


def event_row(event: dict[str, Any]) -> dict[str, Any]:
    """The row of one published event (the same columns as Rasa's tracker store events)."""
    parse_data = event.get("parse_data")
    intent = (parse_data.get("intent") or {}) if isinstance(parse_data, dict) else {}
    return {
        "sender_id": str(event.get("sender_id") or "")[:255],
        "type_name": str(event.get("event") or "")[:255],
        "timestamp": float(event.get("timestamp") or 0.0),
        "intent_name": (intent.get("name") if isinstance(intent, dict) else None),
        "action_name": event.get("name") if event.get("event") == "action" else None,
        "data": json.dumps(event, ensure_ascii=False),
    }
