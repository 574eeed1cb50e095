"""The console's JSON API: who am I, presence, the queue, reading, taking, answering and closing a conversation."""

from __future__ import annotations

import asyncio
import logging
from functools import wraps
from typing import Any

from sanic import Sanic, response
from sanic.request import Request

from bot.handoff.sessions import AgentSession
from bot.handoff.store import AlreadyTakenError, ConversationClosedError, RequestNotFoundError, utcnow
from bot.handoff.survey import ask_after_close
from bot.web.agents.auth import Handler, agent_api
from bot.web.agents.context import agents_of, desk_of, hub_of
from bot.web.agents.responses import error, json_reply
from bot.web.agents.views import (
    CONVERSATION_URL,
    NOT_FOUND,
    NOT_YOURS,
    conversation_view,
    held_by,
    internal_id,
    json_field,
    queue_snapshot,
    readable,
    request_summary,
)

logger = logging.getLogger(__name__)

NO_SUCH_CONVERSATION = "Cette conversation n'existe pas."


def by_request_id(handler: Handler) -> Handler:
    """Under agent_api: the handler gets the database id of `public_id`; 404 when there is none."""
    @wraps(handler)
    async def wrapper(request: Request, session: AgentSession, public_id: str) -> Any:
        request_id = await internal_id(request, public_id)
        if request_id is None:
            return error(NOT_FOUND, 404)
        try:
            return await handler(request, session, request_id)
        except RequestNotFoundError:
            return error(NO_SUCH_CONVERSATION, 404)
    return wrapper


@agent_api
async def me(_: Request, session: AgentSession) -> response.HTTPResponse:
    """The console greets the agent by their display name."""
    return json_reply({"name": session.agent.name, "display_name": session.agent.public_name,
                       "available": session.agent.available})


@agent_api
async def presence(request: Request, session: AgentSession) -> response.HTTPResponse:
    """Available or not (transfers go only to available colleagues)."""
    available = json_field(request, "available")
    if not isinstance(available, bool):
        return error("« available » doit valoir true ou false.", 400)
    await asyncio.to_thread(agents_of(request).directory.set_available, session.agent.id, available)
    return json_reply({"available": available})


@agent_api
async def queue_view(request: Request, session: AgentSession) -> response.HTTPResponse:
    """The queue once (the console then follows the stream)."""
    return json_reply(await asyncio.to_thread(queue_snapshot, agents_of(request), session.agent.name))


@agent_api
async def conversation(request: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
    """Only a waiting conversation, or one this agent holds now; every read is logged (ids only)."""
    handoff = await readable(request, public_id, session)
    if handoff is None:
        return error(NOT_FOUND, 404)
    await asyncio.to_thread(agents_of(request).queue.log_read, handoff.id, session.agent.id)
    logger.info("Agent %s read handoff %s.", session.agent.id, handoff.public_id)
    online = await desk_of(request).rasa.presence(handoff.channel, handoff.sender_id)
    return json_reply(await conversation_view(request, handoff, online))


@agent_api
@by_request_id
async def take(request: Request, session: AgentSession, request_id: int) -> response.HTTPResponse:
    """First come, first served: a colleague who took it first wins, and the person is told who joined."""
    queue = agents_of(request).queue
    try:
        handoff = await asyncio.to_thread(queue.take, request_id, session.agent.name,
                                          display_name=session.agent.public_name)
    except AlreadyTakenError:
        current = await asyncio.to_thread(queue.get, request_id)
        if current.status != "taken":
            return error("Cette conversation n'attend plus : elle est terminée ou a expiré.", 409,
                         state=current.status)
        return error(f"Trop tard : cette conversation a déjà été prise par {current.agent_display_name}.", 409,
                     state=current.status)
    hub_of(request).notify()
    await desk_of(request).announce_agent(handoff)
    hub_of(request).notify()
    return json_reply({"request": request_summary(handoff, utcnow())})


@agent_api
@by_request_id
async def reply(request: Request, session: AgentSession, request_id: int) -> response.HTTPResponse:
    """The agent's message, stored first, then relayed to the person's channel."""
    text = json_field(request, "text")
    if not isinstance(text, str) or not text.strip():
        return error("Écrivez un message avant d'envoyer.", 400)
    try:
        message = await desk_of(request).reply(request_id, session.agent.name, text)
    except ConversationClosedError:
        return error("Cette conversation est terminée (ou n'est pas la vôtre) : votre message n'a pas été envoyé.", 409)
    hub_of(request).notify()
    return json_reply({"id": message.id, "delivery": message.delivery}, status=201)


@agent_api
async def agent_typing(request: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
    """The agent is typing: the person's web chat shows "<name> écrit…" (only the fact, never the text)."""
    agents = agents_of(request)
    handoff = await asyncio.to_thread(held_by, agents, public_id, session.agent.name)
    if handoff is None:
        return error(NOT_YOURS, 409)
    if not agents.typing_gate.allow(f"{session.agent.id}:{handoff.id}"):
        return error("Un signal « écrit… » toutes les 2 secondes au plus.", 429)
    return json_reply({"sent": await desk_of(request).agent_typing(handoff)}, status=202)


@agent_api
@by_request_id
async def close(request: Request, session: AgentSession, request_id: int) -> response.HTTPResponse:
    """The bot takes the conversation back with a goodbye (and may ask whether it helped)."""
    desk = desk_of(request)
    try:
        handoff = await desk.close(request_id, session.agent.name)
    except ConversationClosedError:
        return error("Cette conversation est déjà terminée (ou n'est pas la vôtre).", 409)
    hub_of(request).notify()
    if handoff.resumed_at is not None:  # after the goodbye: the optional satisfaction question
        await ask_after_close(desk.rasa, agents_of(request).surveys, handoff)
    return json_reply({"request": request_summary(handoff, utcnow()), "resumed": handoff.resumed_at is not None})


def register(app: Sanic) -> None:
    """Attach the console API (session cookie + X-CSRF-Token on POST)."""
    app.add_route(me, "/agents/api/me")
    app.add_route(presence, "/agents/api/presence", methods=["POST"])
    app.add_route(queue_view, "/agents/api/queue")
    app.add_route(conversation, CONVERSATION_URL)
    app.add_route(take, f"{CONVERSATION_URL}/take", methods=["POST"])
    app.add_route(reply, f"{CONVERSATION_URL}/messages", methods=["POST"])
    app.add_route(agent_typing, f"{CONVERSATION_URL}/typing", methods=["POST"])
    app.add_route(close, f"{CONVERSATION_URL}/close", methods=["POST"])
