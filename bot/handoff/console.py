"""What agents do with a conversation (take, read, reply, close) and the watchdog that keeps nothing stuck.

The queue (bot.handoff.store) is the source of truth; Rasa is told afterwards (relay, resume). When Rasa or a
channel is down, the message stays in the database and the watchdog retries, so nothing is lost and no
conversation stays paused for ever.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from datetime import datetime, timezone
from typing import Any

from bot.handoff.config import HandoffConfig
from bot.handoff.phone_checks import PhoneChecks
from bot.handoff.rasa_api import RasaClient, RasaUnavailableError, bot_event, resume_events
from bot.handoff.store import (
    CLOSED_BY_AGENT,
    FAILED,
    IDLE_TIMEOUT,
    NOTICE,
    OPEN_STATUSES,
    USER_LEFT,
    WAIT_TIMEOUT,
    ConversationClosedError,
    HandoffMessage,
    HandoffQueue,
    HandoffRequest,
    default_display_name,
    utcnow,
)
from bot.handoff.transcript import SYSTEM_AUTHOR, last_user_timestamp, transcript_from_events
from bot.replies import PHONE_HELP

logger = logging.getLogger(__name__)

MAX_REPLY_CHARS = 2000
READ_FROM_RASA = object()  # HandoffDesk.transcript: no events given, read them from Rasa's tracker


def closing_message(request: HandoffRequest) -> str:
    """What the user reads when the bot takes the conversation back."""
    if request.close_reason == CLOSED_BY_AGENT:
        return (
            f"{request.agent_display_name or default_display_name(request.agent_name or '')} a terminé la "
            "conversation. Merci et bonne journée ! "
            "Si vous avez une autre question, écrivez-la : Numécrivain, le robot, vous répond à nouveau."
        )
    if request.close_reason == IDLE_TIMEOUT:
        return (
            "La conversation avec une personne s'est arrêtée : il n'y a pas eu de message depuis un moment. "
            "Désolé ! Numécrivain, le robot, reprend la conversation. Vous pouvez redemander une personne."
        )
    return (
        "Désolé, personne n'a pu vous répondre à temps. Numécrivain, le robot, reprend la conversation. "
        f"Vous pouvez demander à être rappelé(e), ou appeler {PHONE_HELP}."
    )


BACK_IN_QUEUE = "Une autre personne de l'équipe va vous répondre. Merci de patienter encore un peu."


def joined_message(request: HandoffRequest) -> str:
    """What the person reads when an agent takes the conversation: who is now answering."""
    name = request.agent_display_name or default_display_name(request.agent_name or "")
    return f"{name}, de l'équipe, a rejoint la conversation et va vous répondre."


def epoch(moment: datetime) -> float:
    """Seconds since 1970 for a stored naive UTC datetime."""
    return moment.replace(tzinfo=timezone.utc).timestamp()


class HandoffDesk:
    """The console's operations, shared by the HTTP routes and the watchdog."""

    def __init__(self, queue: HandoffQueue, rasa: RasaClient, config: HandoffConfig) -> None:
        self.queue = queue
        self.rasa = rasa
        self.config = config

    async def read_events(self, request: HandoffRequest) -> list[dict[str, Any]] | None:
        """The conversation's events from Rasa's tracker; None when Rasa does not answer."""
        try:
            return await self.rasa.tracker_events(request.sender_id)
        except RasaUnavailableError:
            return None

    async def transcript(self, request: HandoffRequest,
                         events: list[dict[str, Any]] | object | None = READ_FROM_RASA) -> dict[str, Any]:
        """The conversation as the agent reads it: live from Rasa (or from `events` already read and kept up to
        date by pushes), else, with `events` None, the copy taken at the request."""
        if events is READ_FROM_RASA:
            events = await self.read_events(request)
        live = isinstance(events, list)
        if isinstance(events, list):
            # Agent and system messages come from the queue (with their delivery state), not from the tracker.
            messages = [m for m in transcript_from_events(events) if m["role"] not in ("agent", "system")]
            last = last_user_timestamp(events)
            if last is not None and request.is_open:
                wrote_at = datetime.fromtimestamp(last, timezone.utc).replace(tzinfo=None)
                if wrote_at > request.last_activity_at:  # the live console reads often: write only news
                    await asyncio.to_thread(self.queue.note_user_activity, request.id, wrote_at)
        else:
            messages = [m for m in request.transcript if m.get("role") not in ("agent", "system")]
        requested = epoch(request.requested_at)
        taken = epoch(request.taken_at) if request.taken_at else float("inf")
        for message in messages:
            stamp = message.get("timestamp")
            message["while_waiting"] = bool(stamp and requested <= stamp < taken)
        for stored in await asyncio.to_thread(self.queue.messages, request.id):
            messages.append({
                "role": "agent" if stored.author == "agent" else "system",
                "agent": stored.agent_name or SYSTEM_AUTHOR,
                "text": stored.text,
                "timestamp": epoch(stored.created_at),
                "delivery": stored.delivery,
                "while_waiting": False,
            })
        messages.sort(key=lambda m: m.get("timestamp") or 0)
        return {"live": live, "messages": messages}

    async def reply(self, request_id: int, agent_name: str, text: str) -> HandoffMessage:
        """Send the agent's words, signed with their display name (never the login); ConversationClosedError when
        the conversation is no longer theirs."""
        text = text.strip()[:MAX_REPLY_CHARS]
        if not text:
            raise ValueError("empty reply")
        await asyncio.to_thread(self.queue.touch, request_id, agent_name)
        request = await asyncio.to_thread(self.queue.get, request_id)
        shown_as = request.agent_display_name or default_display_name(agent_name)
        message = await asyncio.to_thread(self.queue.add_message, request_id, text, shown_as)
        return await self.deliver(message, request)

    def resident_wrote(self, request: HandoffRequest, text: str, timestamp: Any) -> dict[str, Any]:
        """A message of the person pushed by the Rasa process: noted as activity, returned as a tracker user event."""
        now = time.time()
        valid = isinstance(timestamp, (int, float)) and not isinstance(timestamp, bool) and math.isfinite(timestamp)
        stamp = min(float(timestamp), now) if valid and timestamp > 0 else now
        if request.is_open:
            self.queue.note_user_activity(request.id, datetime.fromtimestamp(stamp, timezone.utc).replace(tzinfo=None))
        return {"event": "user", "text": text, "timestamp": stamp}

    async def agent_typing(self, request: HandoffRequest) -> bool:
        """Tell the person that the agent is typing (web chat only); True when the channel took it."""
        name = request.agent_display_name or default_display_name(request.agent_name or "")
        try:
            return await self.rasa.typing(request.channel, request.sender_id, name)
        except RasaUnavailableError:
            return False

    async def announce_agent(self, request: HandoffRequest) -> HandoffMessage:
        """Tell the person who has joined, by the agent's display name; sent as a notice of the service."""
        message = await asyncio.to_thread(self.queue.add_message, request.id, joined_message(request), None,
                                          author=NOTICE)
        return await self.deliver(message, request)

    async def transfer(self, request_id: int, agent_name: str, to_agent: str | None,
                       to_display_name: str | None = None) -> HandoffRequest:
        """Hand the conversation to a colleague (who is announced to the person) or back to the queue."""
        request = await asyncio.to_thread(self.queue.transfer, request_id, agent_name, to_agent, to_display_name)
        if to_agent is not None:
            await self.announce_agent(request)
        else:
            notice = await asyncio.to_thread(self.queue.add_message, request.id, BACK_IN_QUEUE, None, author=NOTICE)
            await self.deliver(notice, request)
        return request

    async def deliver(self, message: HandoffMessage, request: HandoffRequest) -> HandoffMessage:
        """Push a stored message to the user's channel; on failure it stays FAILED for the watchdog."""
        author = message.agent_name or SYSTEM_AUTHOR
        try:
            delivery = await self.rasa.relay(request.channel, request.sender_id, message.text, author,
                                             notice=message.author == NOTICE)
        except RasaUnavailableError as exc:
            logger.warning("Handoff message %s not delivered yet (%s).", message.id, exc)
            delivery = FAILED
        await asyncio.to_thread(self.queue.set_delivery, message.id, delivery)
        if delivery != FAILED:
            # The conversation's history in Rasa also keeps what the person said (best effort).
            with contextlib.suppress(RasaUnavailableError):
                event = bot_event(message.text, author, by_agent=message.author == "agent")
                await self.rasa.append_events(request.sender_id, [event])
        return await asyncio.to_thread(self.queue.message, message.id)

    async def close(self, request_id: int, agent_name: str) -> HandoffRequest:
        """The agent ends the conversation: the bot takes it back with a goodbye."""
        request = await asyncio.to_thread(self.queue.close, request_id, CLOSED_BY_AGENT, agent_name=agent_name)
        return await self.resume(request)

    async def user_left(self, sender_id: str) -> HandoffRequest | None:
        """A channel says the user has gone: the request expires and the bot is resumed."""
        request = await asyncio.to_thread(self.queue.open_request_for, sender_id)
        if request is None:
            return None
        try:
            request = await asyncio.to_thread(self.queue.close, request.id, USER_LEFT)
        except ConversationClosedError:
            return None
        return await self.resume(request)

    async def resume(self, request: HandoffRequest) -> HandoffRequest:
        """Unpause the conversation in Rasa, then say goodbye; retried by the watchdog when Rasa is down."""
        if request.status in OPEN_STATUSES or request.resumed_at is not None:
            return request
        try:
            await self.rasa.append_events(request.sender_id, resume_events())
        except RasaUnavailableError as exc:
            logger.warning("Conversation of request %s not resumed yet (%s).", request.id, exc)
            return request
        await asyncio.to_thread(self.queue.mark_resumed, request.id)
        already_said = any(m.author == "system" for m in await asyncio.to_thread(self.queue.messages, request.id))
        if not already_said:
            goodbye = await asyncio.to_thread(self.queue.add_message, request.id, closing_message(request), None)
            await self.deliver(goodbye, request)
        return await asyncio.to_thread(self.queue.get, request.id)

    async def watchdog_tick(self, now: datetime | None = None) -> dict[str, int]:
        """Expire what waited or idled too long, resume what is still paused, retry undelivered messages."""
        now = now or utcnow()
        counts = {"expired": 0, "resumed": 0, "redelivered": 0}
        # Numbers typed for a callback but never confirmed go after 15 minutes, even if nobody asks again.
        counts["unconfirmed_numbers_deleted"] = await asyncio.to_thread(PhoneChecks(self.queue.engine).purge_expired,
                                                                        now)
        config = self.config
        stale = await asyncio.to_thread(self.queue.stale, now, config.wait_timeout_minutes, config.idle_timeout_minutes)
        for request, reason in stale:
            try:
                await asyncio.to_thread(self.queue.close, request.id, reason, now=now)
                counts["expired"] += 1
            except ConversationClosedError:
                continue  # taken, answered or closed meanwhile
            logger.info("Handoff request %s ended by the watchdog (%s).", request.id, reason)
        for request in await asyncio.to_thread(self.queue.not_resumed):
            if (await self.resume(request)).resumed_at is not None:
                counts["resumed"] += 1
        for message in await asyncio.to_thread(self.queue.undelivered, now):
            request = await asyncio.to_thread(self.queue.get, message.request_id)
            if message.author != "system" and not request.is_open:
                continue  # conversation over: the user will not read it in the chat any more
            if (await self.deliver(message, request)).delivery != FAILED:
                counts["redelivered"] += 1
        return counts


__all__ = ["WAIT_TIMEOUT", "HandoffDesk", "closing_message"]
