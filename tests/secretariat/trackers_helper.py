"""Build a small Rasa tracker store (SQLTrackerStore's `events` table) for the usage tests."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

EVENTS_DDL = (
    "CREATE TABLE IF NOT EXISTS events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,"
    " type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"
)


def write_tracker(path: Path, events: list[dict[str, Any]]) -> str:
    """Write events (sender, type, ts, intent, action, data) and return the SQLAlchemy URL."""
    with sqlite3.connect(path) as connection:
        connection.execute(EVENTS_DDL)
        connection.executemany(
            "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) VALUES (?,?,?,?,?,?)",
            [(e["sender"], e["type"], e["ts"], e.get("intent"), e.get("action"), json.dumps(e.get("data", {})))
             for e in events],
        )
    return f"sqlite:///{path}"


def user(sender: str, ts: float, intent: str, text: str, channel: str) -> dict[str, Any]:
    """A user message event as Rasa stores it."""
    return {"sender": sender, "type": "user", "ts": ts, "intent": intent,
            "data": {"event": "user", "text": text, "input_channel": channel,
                     "parse_data": {"intent": {"name": intent, "confidence": 0.9}}}}


def action(sender: str, ts: float, name: str) -> dict[str, Any]:
    """An action event."""
    return {"sender": sender, "type": "action", "ts": ts, "action": name, "data": {"event": "action", "name": name}}


def bot(sender: str, ts: float, text: str, metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    """A bot message event (an agent's message carries metadata {'agent': ...})."""
    return {"sender": sender, "type": "bot", "ts": ts,
            "data": {"event": "bot", "text": text, "metadata": metadata or {}}}
