"""The console's live streams (server-sent events): the queue, and one conversation."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from sanic import Sanic
from sanic.request import Request

from bot.handoff.live import (
    SSE_COMMENT_PING,
    TYPING_SHOWN_SECONDS,
    ConversationFeed,
    resync_seconds,
    sse_event,
)
from bot.handoff.sessions import AgentSession
from bot.handoff.store import HandoffRequest
from bot.web.agents.auth import LOGIN_URL, agent_session, current_session
from bot.web.agents.context import agents_of, desk_of, hub_of
from bot.web.agents.responses import SSE_HEADERS, error
from bot.web.agents.views import NOT_FOUND, conversation_view, queue_snapshot, readable

logger = logging.getLogger(__name__)

RASA_RETRY_SECONDS = 5.0  # an open conversation whose tracker could not be read is tried again this often
PRESENCE_REFRESH_SECONDS = 5.0
PING_SECONDS = 15.0
SESSION_CHECK_SECONDS = 30.0


async def open_stream(request: Request) -> Any:
    """The event stream, with the delay after which the browser reconnects by itself."""
    stream = await request.respond(content_type="text/event-stream; charset=utf-8", headers=SSE_HEADERS)
    await stream.send("retry: 2000\n\n")  # the browser reconnects by itself 2 s after a cut
    return stream


async def session_ended(request: Request, stream: Any) -> bool:
    """True (after telling the console to log in again) when the session has expired meanwhile."""
    if await current_session(request) is not None:
        return False
    await stream.send(sse_event("session", {"login": LOGIN_URL}))
    return True


@agent_session
async def queue_stream(request: Request, session: AgentSession) -> Any:
    """The queue, mine and the callback count, sent again whenever they change."""
    stream = await open_stream(request)
    with hub_of(request).watching():
        await queue_updates(request, session, stream)
    await stream.eof()


async def queue_updates(request: Request, session: AgentSession, stream: Any) -> None:
    """Send the queue when it changes; check the session now and then (and mark the agent present)."""
    agents, hub = agents_of(request), hub_of(request)
    last_sent, last_ping, last_check = "", time.monotonic(), time.monotonic()
    generation = -1
    while True:
        snapshot = await asyncio.to_thread(queue_snapshot, agents, session.agent.name)
        key = json.dumps([[r["id"], r["status"], r["agent"]] for r in snapshot["waiting"] + snapshot["mine"]]
                         + [snapshot["callbacks"]])
        if key != last_sent:
            await stream.send(sse_event("queue", snapshot))
            last_sent, last_ping = key, time.monotonic()
        generation = await hub.wait(generation, PING_SECONDS)
        moment = time.monotonic()
        if moment - last_check > SESSION_CHECK_SECONDS:
            last_check = moment
            if await session_ended(request, stream):
                return
            await asyncio.to_thread(agents.directory.heartbeat, session.agent.id)  # the console is open: present
        if moment - last_ping > PING_SECONDS:
            await stream.send(SSE_COMMENT_PING)
            last_ping = moment


@agent_session
async def conversation_stream(request: Request, session: AgentSession, public_id: str) -> Any:
    """The conversation, sent again as soon as the person or an agent writes."""
    handoff = await readable(request, public_id, session)
    if handoff is None:
        return error(NOT_FOUND, 404)
    await asyncio.to_thread(agents_of(request).queue.log_read, handoff.id, session.agent.id)
    logger.info("Agent %s read handoff %s (live).", session.agent.id, handoff.public_id)
    stream = await open_stream(request)
    with hub_of(request).watching(), hub_of(request).subscribe(handoff.sender_id) as feed:
        await conversation_updates(request, session, stream, handoff, feed)
    await stream.eof()


def take_pushed(feed: ConversationFeed, events: list[dict[str, Any]] | None) -> bool | None:
    """Add the person's pushed messages to `events` (once each); True/False when "is typing" starts/ends."""
    typing: bool | None = None
    for item in feed.take():
        if item.get("kind") == "typing":
            typing = True
        elif item.get("kind") == "message" and isinstance(item.get("event"), dict):
            typing = False  # the message ends the "is typing" shown
            if events is not None and not any(
                    e.get("event") == "user" and e.get("timestamp") == item["event"].get("timestamp")
                    and e.get("text") == item["event"].get("text") for e in events[-20:]):
                events.append(item["event"])
    return typing


async def conversation_updates(request: Request, session: AgentSession, stream: Any, handoff: HandoffRequest,
                               feed: ConversationFeed) -> None:
    """Rasa's tracker is read once, then the person's messages come pushed through `feed` (see
    bot.handoff.resident_push); a slow resync (NUMECRIVAIN_CONSOLE_RESYNC_SECONDS) only catches a lost push."""
    desk, hub = desk_of(request), hub_of(request)
    last_sent, last_ping, last_check, last_presence = "", time.monotonic(), time.monotonic(), -PING_SECONDS
    online: bool | None = None
    generation = hub.generation
    events, last_read = await desk.read_events(handoff), time.monotonic()
    resync = resync_seconds()
    while True:
        moment = time.monotonic()
        if moment - last_presence > PRESENCE_REFRESH_SECONDS:
            online, last_presence = await desk.rasa.presence(handoff.channel, handoff.sender_id), moment
        typing = take_pushed(feed, events)
        stale = events is None and moment - last_read > RASA_RETRY_SECONDS
        if feed.overflowed or stale or (resync and moment - last_read > resync):
            feed.overflowed = False
            events, last_read = await desk.read_events(handoff), moment
        view = await conversation_view(request, handoff, online, events)
        key = json.dumps([view["request"]["status"], view["live"], view["online"], view["messages"]])
        if key != last_sent:
            await stream.send(sse_event("conversation", view))
            last_sent, last_ping = key, moment
        if typing is not None:
            await stream.send(sse_event("typing", {"active": typing, "seconds": TYPING_SHOWN_SECONDS}))
        generation = await hub.wait(generation, min(PRESENCE_REFRESH_SECONDS, RASA_RETRY_SECONDS), feed)
        if moment - last_check > SESSION_CHECK_SECONDS:
            last_check = moment
            if await session_ended(request, stream):
                return
        refreshed = await readable(request, handoff.public_id, session)
        if refreshed is None:
            await stream.send(sse_event("gone", {"error": NOT_FOUND}))
            return
        handoff = refreshed
        if time.monotonic() - last_ping > PING_SECONDS:
            await stream.send(SSE_COMMENT_PING)
            last_ping = time.monotonic()


def register(app: Sanic) -> None:
    """Attach the live streams (session cookie)."""
    app.add_route(queue_stream, "/agents/api/stream")
    app.add_route(conversation_stream, "/agents/api/requests/<public_id:str>/stream")
