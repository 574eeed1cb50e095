"""In the Rasa process: tell the agents' portal at once what a person in a handoff writes, and that they are typing.

Rasa's tracker tells nobody when a paused conversation gets a message, so the console used to re-read it twice a
second. Now the event broker (every channel: web chat, REST, SMS) hands each stored user event here; when the
conversation has an open handoff, it is posted to the portal's internal hook (Bearer NUMECRIVAIN_INTERNAL_TOKEN),
the way the portal posts agents' words to the channels. The web chat sends the "is typing" signal the same way
(never the text being typed). Best effort: a push that fails is caught up by the console's slow resync.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import aiohttp
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.future import Engine

from bot.handoff.store import HandoffQueue
from bot.service_auth import bearer_header
from bot.settings import get_settings

logger = logging.getLogger(__name__)

MAX_PUSHED_TEXT_CHARS = 4000  # what the console shows of one message; channels cap what they take in already
RESIDENT_HOOK = "/internal/handoff/{sender_id}/resident"


def resident_hook_url(portal_url: str, sender_id: str) -> str:
    return portal_url.rstrip("/") + RESIDENT_HOOK.format(sender_id=quote(sender_id, safe=""))


class ResidentPush:
    """Posts a person's message or typing signal to the portal (one for the event broker, one for the web chat)."""

    def __init__(self, engine: Engine | None = None, portal_url: str | None = None,
                 internal_token: str | None = None, timeout: float = 3.0) -> None:
        self._engine = engine
        self._queue: HandoffQueue | None = None
        self._portal_url, self._token = portal_url, internal_token
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._http: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[Any]] = set()

    def _settings(self) -> tuple[str, str]:
        if self._portal_url is None or self._token is None:
            settings = get_settings()
            self._portal_url = self._portal_url or settings.portal_internal_url or settings.web_url
            self._token = self._token or settings.internal_token
        return self._portal_url, self._token

    def on_stored_event(self, event: dict[str, Any]) -> None:
        """Called by the event broker for every stored event: a person's message is pushed if in a handoff."""
        if event.get("event") != "user" or not isinstance(event.get("text"), str) or not event["text"].strip():
            return
        sender_id = event.get("sender_id")
        if not isinstance(sender_id, str):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not on Rasa's event loop (a script replaying events): nobody to tell
        message = {"kind": "message", "text": event["text"][:MAX_PUSHED_TEXT_CHARS],
                   "timestamp": event.get("timestamp"), "channel": event.get("input_channel")}
        task = loop.create_task(self._push_if_in_handoff(sender_id, message))
        self._tasks.add(task)  # keep a reference until done (the loop holds only weak ones)
        task.add_done_callback(self._tasks.discard)

    async def _push_if_in_handoff(self, sender_id: str, message: dict[str, Any]) -> None:
        try:
            if self._queue is None:
                self._queue = await asyncio.to_thread(HandoffQueue, self._engine)
            request = await asyncio.to_thread(self._queue.open_request_for, sender_id)
        except SQLAlchemyError as exc:
            logger.warning("Handoff check for a pushed message failed (%s).", type(exc).__name__)
            return
        if request is not None:
            await self.post(sender_id, message)

    async def typing(self, sender_id: str) -> bool:
        """The person is typing (the portal ignores it when no handoff is open)."""
        return await self.post(sender_id, {"kind": "typing"})

    async def post(self, sender_id: str, body: dict[str, Any]) -> bool:
        """True when the portal took it; failures are logged without the text."""
        portal_url, token = self._settings()
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        try:
            async with self._http.post(resident_hook_url(portal_url, sender_id), json=body,
                                       headers=bearer_header(token), timeout=self._timeout) as resp:
                if resp.status >= 300 and resp.status != 404:  # 404: no open handoff any more
                    logger.warning("Portal refused a pushed %s (HTTP %s).", body.get("kind"), resp.status)
                return resp.status < 300
        except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
            logger.warning("Push of a %s to the portal failed (%s).", body.get("kind"), type(exc).__name__)
            return False

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


__all__ = ["RESIDENT_HOOK", "ResidentPush", "resident_hook_url"]
