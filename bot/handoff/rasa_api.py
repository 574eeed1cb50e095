"""The portal's calls to the Rasa server: read a tracker, append events, relay a message to a channel."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import quote

import aiohttp

from bot.handoff.store import OUTBOX, PUSHED, REFUSED
from bot.handoff.transcript import AGENT_METADATA_KEY, SYSTEM_AUTHOR
from bot.service_auth import bearer_header, rasa_api_headers

# Channels that cannot push a message to the user: agent messages wait in the outbox (read by the client).
PULL_ONLY_CHANNELS = frozenset({"rest", "cmdline"})


class RasaUnavailableError(Exception):
    """The Rasa server did not answer as expected (down, restarting, wrong token)."""


class RasaClient:
    """Minimal client of Rasa's HTTP API and channel relay routes.

    api_token is the key Rasa checks JWTs with: each call sends a fresh short JWT in the Authorization header,
    never the key, never a `?token=` in the URL (URLs end up in logs).
    """

    def __init__(
        self, session: aiohttp.ClientSession, base_url: str, api_token: str, internal_token: str,
        timeout: float = 5.0,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.api_token = api_token
        self.internal_token = internal_token
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    def _conversation_url(self, sender_id: str, suffix: str) -> str:
        return f"{self.base_url}/conversations/{quote(sender_id, safe='')}/{suffix}"

    async def tracker_events(self, sender_id: str) -> list[dict[str, Any]]:
        """The conversation's events since its last restart."""
        url = self._conversation_url(sender_id, "tracker")
        params = {"include_events": "AFTER_RESTART"}
        try:
            async with self.session.get(url, params=params, headers=rasa_api_headers(self.api_token),
                                        timeout=self.timeout) as resp:
                if resp.status != 200:
                    raise RasaUnavailableError(f"tracker: HTTP {resp.status}")
                body = await resp.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
            raise RasaUnavailableError(type(exc).__name__) from exc
        return list(body.get("events") or [])

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        """Add events to the conversation (ConversationResumed, a bot message...)."""
        url = self._conversation_url(sender_id, "tracker/events")
        try:
            async with self.session.post(
                url, headers=rasa_api_headers(self.api_token), json=events, timeout=self.timeout
            ) as resp:
                if resp.status != 200:
                    raise RasaUnavailableError(f"append events: HTTP {resp.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RasaUnavailableError(type(exc).__name__) from exc

    async def relay(self, channel: str, sender_id: str, text: str, agent: str, notice: bool = False,
                    buttons: list[dict[str, str]] | None = None) -> str:
        """Push a message to the user's channel: PUSHED, or OUTBOX when the channel cannot push.

        The bot's own words go as Numécrivain, "robot" by SMS; a notice (who joined) says itself who wrote it,
        so no name is put before it by SMS, and the web chat does not treat it as the end of the handoff.
        buttons (title, payload): choices the web chat shows under the message (the survey's answers)."""
        if channel in PULL_ONLY_CHANNELS:
            return OUTBOX
        url = f"{self.base_url}/webhooks/{quote(channel, safe='')}/agent_message"
        body: dict[str, Any] = {"sender_id": sender_id, "text": text, "agent": agent}
        if notice:
            body["kind"] = "notice"
        if buttons:
            body["buttons"] = buttons
        if channel == "sms" and agent == SYSTEM_AUTHOR:
            body.update(agent="" if notice else SYSTEM_AUTHOR, role="robot")
        try:
            async with self.session.post(url, json=body, headers=bearer_header(self.internal_token),
                                         timeout=self.timeout) as resp:
                if resp.status in (404, 405):
                    return OUTBOX  # this channel has no relay route: the message waits to be read
                if resp.status == 409:
                    return REFUSED  # the person asked not to be written to (SMS STOP): never retried
                if resp.status >= 300:
                    raise RasaUnavailableError(f"relay to {channel}: HTTP {resp.status}")
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RasaUnavailableError(type(exc).__name__) from exc
        return PUSHED

    async def typing(self, channel: str, sender_id: str, agent: str) -> bool:
        """Show "<agent> écrit…" in the person's web chat (no other channel shows it); never the text itself."""
        if channel != "webchat":
            return False
        url = f"{self.base_url}/webhooks/webchat/agent_typing"
        try:
            async with self.session.post(url, json={"sender_id": sender_id, "agent": agent},
                                         headers=bearer_header(self.internal_token), timeout=self.timeout) as resp:
                return resp.status < 300
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            raise RasaUnavailableError(type(exc).__name__) from exc

    async def presence(self, channel: str, sender_id: str) -> bool | None:
        """Whether the person has their chat open now; None when the channel cannot tell (SMS, REST) or fails."""
        if channel != "webchat":
            return None
        url = f"{self.base_url}/webhooks/webchat/presence"
        try:
            async with self.session.get(url, params={"sender_id": sender_id}, headers=bearer_header(
                    self.internal_token), timeout=self.timeout) as resp:
                if resp.status != 200:
                    return None
                body = await resp.json()
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            return None
        online = body.get("online") if isinstance(body, dict) else None
        return online if isinstance(online, bool) else None


def bot_event(text: str, author: str, by_agent: bool = True) -> dict[str, Any]:
    """A bot event marking who really wrote it; "agent" is what the secretariat's usage report looks for."""
    metadata: dict[str, Any] = {AGENT_METADATA_KEY: author}
    if by_agent:
        metadata["agent"] = author
    return {"event": "bot", "text": text, "timestamp": time.time(), "metadata": metadata}


def resume_events() -> list[dict[str, Any]]:
    """Give the conversation back to the bot, ready to listen."""
    now = time.time()
    return [
        {"event": "resume", "timestamp": now},
        {"event": "action", "name": "action_listen", "timestamp": now},
    ]
