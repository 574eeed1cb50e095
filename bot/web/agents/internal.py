"""What other services call: the REST channel's outbox, and the /internal hooks of the channels and of Rasa.

- GET /api/handoff/<sender_id>/messages: the key comes with the bot's handoff message;
- POST /internal/handoff/<sender_id>/left and /resident: Bearer NUMECRIVAIN_INTERNAL_TOKEN.
"""

from __future__ import annotations

import asyncio
import hmac
import json
from typing import Any
from urllib.parse import unquote

from sanic import Sanic, response
from sanic.request import Request

from bot.handoff.console import epoch
from bot.handoff.store import HandoffMessage, HandoffQueue, HandoffRequest
from bot.handoff.transcript import SYSTEM_AUTHOR
from bot.security import internal_routes as routes
from bot.web.agents.context import agents_of, desk_of, hub_of
from bot.web.agents.responses import SECURITY_HEADERS, error, json_reply

MAX_RESIDENT_HOOK_BYTES = 16 * 1024
RESIDENT_TEXT_CHARS = 4000


internal_only = routes.internal_only(lambda request: request.app.ctx.settings.internal_token, SECURITY_HEADERS)


def outbox_read(agents_queue: HandoffQueue, sender_id: str, key: str,
                after: int) -> tuple[HandoffRequest, list[HandoffMessage]] | None:
    """The request and its messages after `after`, or None without a request or with a wrong key (blocking)."""
    handoff = agents_queue.latest_request_for(sender_id)
    if handoff is None or not hmac.compare_digest(key, handoff.outbox_key):
        return None
    return handoff, agents_queue.messages(handoff.id, after)


async def outbox(request: Request, sender_id: str) -> response.HTTPResponse:
    """What agents wrote to a REST user; the key comes with the bot's 'a person will answer' message."""
    try:
        after = max(0, int(request.args.get("after") or 0))
    except ValueError:
        after = 0
    found = await asyncio.to_thread(outbox_read, agents_of(request).queue, unquote(sender_id),  # ids arrive quoted
                                    request.args.get("key") or "", after)
    if found is None:
        return error("Aucune demande en cours pour cette conversation, ou clé invalide.", 404)
    handoff, messages = found
    return json_reply({
        "status": handoff.status,
        "messages": [
            {"id": m.id, "text": m.text, "agent": m.agent_name or SYSTEM_AUTHOR, "from": m.author,
             "created_at": epoch(m.created_at)}
            for m in messages
        ],
    })


@internal_only
async def user_left(request: Request, sender_id: str) -> response.HTTPResponse:
    """A channel tells us the user has gone (web chat closed for good, SMS STOP): the request expires."""
    handoff = await desk_of(request).user_left(unquote(sender_id))
    return json_reply({"expired": handoff is not None})


def resident_event(raw: bytes | None) -> dict[str, Any] | None:
    """{"kind": "typing"} or {"kind": "message", "text": non-empty, ...} from the hook's body; None otherwise."""
    try:
        body = json.loads(raw or b"null")
    except ValueError:
        return None
    if not isinstance(body, dict) or body.get("kind") not in ("message", "typing"):
        return None
    text = body.get("text")
    if body["kind"] == "message" and (not isinstance(text, str) or not text.strip()):
        return None
    return body


@internal_only
async def resident_pushed(request: Request, sender_id: str) -> response.HTTPResponse:
    """The Rasa process pushes what the person in a handoff writes ({"kind": "message", "text", "timestamp"})
    or that they are typing ({"kind": "typing"}): the agent's console shows it at once."""
    if len(request.body or b"") > MAX_RESIDENT_HOOK_BYTES:
        return error("body too large", 413)
    body = resident_event(request.body)
    if body is None:
        return error('{"kind": "typing"} or {"kind": "message", "text": "..."} is expected', 400)
    sender, hub = unquote(sender_id), hub_of(request)
    handoff = await asyncio.to_thread(agents_of(request).queue.open_request_for, sender)
    if handoff is None:
        return error("no open handoff for this conversation", 404)
    if body["kind"] == "typing":
        await hub.publish(sender, {"kind": "typing"})
    else:
        text = str(body["text"])[:RESIDENT_TEXT_CHARS]
        event = await asyncio.to_thread(desk_of(request).resident_wrote, handoff, text, body.get("timestamp"))
        await hub.publish(sender, {"kind": "message", "event": event})
    return json_reply({"delivered": True, "watching": hub.watchers(sender)}, status=202)


def register(app: Sanic) -> None:
    """Attach the REST outbox and the internal hooks."""
    app.add_route(outbox, "/api/handoff/<sender_id:str>/messages")
    app.add_route(user_left, "/internal/handoff/<sender_id:str>/left", methods=["POST"])
    app.add_route(resident_pushed, "/internal/handoff/<sender_id:str>/resident", methods=["POST"])
