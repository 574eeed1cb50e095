"""Talk to the running bot over its REST channel, as any HTTP client would."""

from __future__ import annotations

import uuid
from typing import Any

import requests

from bot.replies import HUMAN_PAYLOAD


def new_sender() -> str:
    """A fresh conversation id."""
    return f"test-{uuid.uuid4().hex[:12]}"


def say(rest_url: str, sender: str, text: str, timeout: float = 60,
        headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    """Send one message and return the bot's messages (the HTTP call must succeed)."""
    response = requests.post(rest_url, json={"sender": sender, "message": text}, timeout=timeout, headers=headers)
    assert response.status_code == 200, response.text[:500]
    return response.json()


def offers_a_person(messages: list[dict[str, Any]]) -> bool:
    """True when one of the messages of this turn has the 'Parler à une personne' choice."""
    return any(button.get("payload") == HUMAN_PAYLOAD for m in messages for button in m.get("buttons") or [])


def all_text(messages: list[dict[str, Any]]) -> str:
    """The texts of a turn, joined."""
    return "\n".join(m.get("text") or "" for m in messages)
