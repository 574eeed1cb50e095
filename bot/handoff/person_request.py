"""A person asked for in a conversation: the ticket agents see, and what the bot answers (queued or not).

Blocking (project database, places): the action server calls `answer_request_for_a_person` off its event loop.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bot.handoff.service import queued_reply, request_handoff, unavailable_reply
from bot.handoff.targets import HandoffTarget, HandoffTicket, get_target
from bot.handoff.transcript import topic_from_events, transcript_from_events
from bot.replies import Reply
from bot.security.ratelimit import CLIENT_METADATA_KEY
from bot.settings import get_settings

logger = logging.getLogger(__name__)

CLIENT_KEY_PATTERN = re.compile(r"c-[0-9a-f]{32}")
# How often a REST client reads its agent's messages (it cannot be pushed to).
OUTBOX_POLL_SECONDS = 2


def client_key(metadata: Any) -> str | None:
    """The keyed hash of the asking address, as the channel stamped it server-side (never the address)."""
    value = metadata.get(CLIENT_METADATA_KEY) if isinstance(metadata, Mapping) else None
    return value if isinstance(value, str) and CLIENT_KEY_PATTERN.fullmatch(value) else None


def ticket_for(
    sender_id: str, channel: str | None, events: Iterable[dict[str, Any]], *, commune: str | None = None,
    last_procedure: str | None = None, metadata: Any = None,
) -> HandoffTicket:
    """What the agent needs: transcript, channel, commune and topic; and the address key for the limits."""
    events = list(events)
    return HandoffTicket(
        sender_id=sender_id,
        channel=channel or "rest",
        transcript=transcript_from_events(events),
        commune=commune,
        topic=topic_from_events(events, last_procedure),
        client_key=client_key(metadata),
    )


def nearest_place_sentence(commune: str | None) -> str | None:
    """The nearest France Services with today's hours (bot.places), when the commune is known."""
    if not commune:
        return None
    try:
        from bot.places.render import france_services_sentence

        return france_services_sentence(commune)
    except Exception as exc:  # the places finder is optional here: never block the honest answer
        logger.warning("Nearest France Services unavailable (%s).", type(exc).__name__)
        return None


def outbox_url(web_url: str, sender_id: str, outbox_key: str) -> str:
    """Where a REST client reads its agent's messages (the key proves it is this conversation's client)."""
    return f"{web_url}/api/handoff/{quote(sender_id, safe='')}/messages?key={quote(outbox_key, safe='')}"


@dataclass(frozen=True)
class PersonAnswer:
    """What the bot says and does once a person was asked for."""

    reply: Reply
    pauses: bool  # queued: the bot stays silent until the agent closes the conversation
    waiting_status: dict[str, Any] | None = None  # for REST clients: where to read the agent's messages


def answer_request_for_a_person(
    ticket: HandoffTicket, intro: str | None = None, *,
    target: HandoffTarget | Callable[[], HandoffTarget] | None = None, now: datetime | None = None,
) -> PersonAnswer:
    """Queue the conversation and pause the bot, or say honestly that nobody can answer now; never raises."""
    outcome = request_handoff(target or get_target, ticket, now)
    if outcome.queued is not None:
        reply = queued_reply(outcome.queued, ticket.channel)
    else:
        # Still offers "Parler à une personne" (team rule): pressing it asks again, someone may be back.
        reply = unavailable_reply(
            outcome.availability, ticket.channel, now, nearby=nearest_place_sentence(ticket.commune)
        ).with_human_offer()
    if intro:
        reply = Reply(f"{intro}\n\n{reply.text}", reply.buttons, reply.custom)
    if outcome.queued is None:
        return PersonAnswer(reply, pauses=False)
    status = None
    if ticket.channel == "rest" and outcome.queued.outbox_key:
        # The REST channel cannot push: the client reads the agent's messages at this address.
        url = outbox_url(get_settings().web_url, ticket.sender_id, outcome.queued.outbox_key)
        status = {"handoff": {"status": "waiting", "messages_url": url, "poll_seconds": OUTBOX_POLL_SECONDS}}
    return PersonAnswer(reply, pauses=True, waiting_status=status)
