"""What the console API and its live streams send about conversations (JSON-ready dictionaries)."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Any

from sanic.request import Request

from bot.handoff.console import READ_FROM_RASA, epoch
from bot.handoff.render import channel_in_french, present_messages, topic_in_french
from bot.handoff.sessions import AgentSession
from bot.handoff.store import HandoffRequest, RequestNotFoundError, utcnow
from bot.web.agents.context import AgentsContext, agents_of, desk_of

CONVERSATION_URL = "/agents/api/requests/<public_id:str>"  # the routes about one conversation start so
NOT_YOURS = "Cette conversation n'est pas à vous (ou elle est terminée)."
NOT_FOUND = "Cette conversation n'existe pas, ou elle n'est plus dans la file ni à vous."
# Channels where the conversation id stands for one person over time (SMS pseudonym, widget session); a REST
# client chooses its own ids, so two of its conversations with the same id need not be the same person.
SAME_PERSON_CHANNELS = frozenset({"sms", "webchat"})


def request_summary(request: HandoffRequest, now: datetime) -> dict[str, Any]:
    """One line of the queue (or of "mine")."""
    return {
        "id": request.public_id,
        "channel": request.channel,
        "channel_label": channel_in_french(request.channel),
        "commune": request.commune,
        "topic": request.topic,
        "topic_label": topic_in_french(request.topic),
        "status": request.status,
        "agent": request.agent_display_name,
        "requested_at": epoch(request.requested_at),
        "taken_at": epoch(request.taken_at) if request.taken_at else None,
        "waiting_seconds": int((now - request.requested_at).total_seconds()),
    }


def earlier_summary(request: HandoffRequest) -> dict[str, Any]:
    """An earlier conversation of the same person, in one line."""
    return {
        "requested_at": epoch(request.requested_at),
        "topic_label": topic_in_french(request.topic),
        "status": request.status,
        "close_reason": request.close_reason,
        "agent": request.agent_display_name,
    }


def queue_snapshot(agents: AgentsContext, agent_name: str) -> dict[str, Any]:
    """The waiting queue, this agent's conversations and the callbacks to make (blocking: call in a thread)."""
    now = utcnow()
    return {
        "now": epoch(now),
        "waiting": [request_summary(r, now) for r in agents.queue.waiting()],
        "mine": [request_summary(r, now) for r in agents.queue.taken_by(agent_name)],
        "callbacks": agents.callbacks.pending_count(),
    }


def held_by(agents: AgentsContext, public_id: str, agent_name: str) -> HandoffRequest | None:
    """The conversation if this agent holds it now (blocking: call in a thread)."""
    try:
        handoff = agents.queue.by_public_id(public_id)
    except RequestNotFoundError:
        return None
    return handoff if handoff.status == "taken" and handoff.agent_name == agent_name else None


async def internal_id(request: Request, public_id: str) -> int | None:
    """The database id behind a public id, or None when there is no such conversation."""
    try:
        return (await asyncio.to_thread(agents_of(request).queue.by_public_id, public_id)).id
    except RequestNotFoundError:
        return None


async def readable(request: Request, public_id: str, session: AgentSession) -> HandoffRequest | None:
    """The conversation if this agent may read it (waiting, or held by them now)."""
    try:
        return await asyncio.to_thread(agents_of(request).queue.readable_by, public_id, session.agent.name)
    except RequestNotFoundError:
        return None


async def conversation_view(request: Request, handoff: HandoffRequest, online: bool | None,
                            events: list[dict[str, Any]] | object | None = READ_FROM_RASA) -> dict[str, Any]:
    """The conversation as the console shows it: messages and internal notes in time order, earlier requests."""
    agents = agents_of(request)
    transcript = await desk_of(request).transcript(handoff, events)
    notes = await asyncio.to_thread(agents.tools.notes, handoff.id)
    transcript["messages"] += [{"role": "note", "agent": n.author, "text": n.text, "timestamp": epoch(n.created_at)}
                               for n in notes]
    transcript["messages"].sort(key=lambda m: m.get("timestamp") or 0)
    earlier: list[HandoffRequest] = []
    if handoff.channel in SAME_PERSON_CHANNELS:
        earlier = await asyncio.to_thread(agents.queue.earlier_requests, handoff.sender_id, handoff.id)
    return {
        "request": request_summary(handoff, utcnow()),
        "live": transcript["live"],
        "messages": present_messages(transcript["messages"]),
        "online": online,
        "earlier": [earlier_summary(r) for r in earlier],
    }


def json_field(request: Request, name: str) -> Any:
    """One field of a JSON object body; None when the body is not an object."""
    return (request.json or {}).get(name) if isinstance(request.json, dict) else None
