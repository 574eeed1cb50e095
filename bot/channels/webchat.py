"""Web chat over socket.io, with Rasa 3.6's session persistence fixed and bounded for the public.

On top of Rasa's socket.io channel, the widget (bot/web/static/widget/) relies on:
- a session token the server issues and signs (bot.channels.sessions); the socket that asked for it is bound to
  its conversation, and messages go to that conversation whatever they claim;
- every bot message carrying an ``id`` (the widget drops a message it already shows), and its text read once into
  ``parts`` (bot.markdown) that the widget turns into DOM nodes;
- one bot message per reply (Rasa splits text on blank lines, which breaks Markdown lists);
- custom payloads sent as ``{"custom": {...}}`` (Rasa 3.6 passes them to ``emit`` as keyword arguments);
- user messages acknowledged once handled (with the renewed token), and a resent ``metadata.message_id``
  handled only once;
- a button click marked ``metadata.button``: its payload is taken as an intent only if this conversation was
  offered that button; anything else is typed text, and typed text is never an intent;
- a message over ``MAX_MESSAGE_CHARS`` answered kindly without being parsed; frames over ``MAX_FRAME_BYTES``
  close the connection; per-address and per-conversation rate limits shared by every process;
- the widget's ``typing`` event (the fact, never the text) pushed to the agents' console, and
  ``POST /webhooks/webchat/agent_typing`` showing « Inès écrit… » to the person (both at most one per 2 s);
- ``POST /webhooks/webchat/agent_message`` relaying an agent's words after a handoff (``handoff_ended`` on the
  bot's closing message, so the widget forgets the conversation), with optional buttons (the survey's answers);
- a click on a satisfaction survey answer (``/handoff_survey_N``) recorded and thanked here, before the NLU;
- with several Rasa processes (``NUMECRIVAIN_REDIS_URL`` set), python-socketio's Redis manager: a message emitted
  to a conversation's room by any process (an agent's words, a reply) reaches the socket wherever it is held,
  and whether the person is online is counted in Redis too;
- a message Rasa could not handle (database or Redis restarting) answered with a kind sentence and acknowledged
  ``handled: false``, so the widget can send it again with the same ``message_id`` (handled once, bot/resilience.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeGuard

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from redis import asyncio as aioredis
from redis.exceptions import RedisError
from sanic import Blueprint, response
from sanic.request import Request
from socketio import AsyncRedisManager

from bot.channels.inputs import (
    MAX_WEBCHAT_MESSAGE_CHARS,
    SLOW_DOWN_TEXT,
    OfferedPayloads,
    client_address,
    is_too_long,
    text_for_rasa,
    too_long_reply,
)
from bot.channels.sessions import SessionSigner, WebSession
from bot.handoff.live import TypingGate
from bot.handoff.resident_push import ResidentPush
from bot.handoff.survey import reply_to_button
from bot.handoff.transcript import SYSTEM_AUTHOR
from bot.markdown import to_parts
from bot.resilience import SERVICE_UNAVAILABLE_TEXT
from bot.security import internal_routes as routes
from bot.security.ratelimit import CLIENT_METADATA_KEY, allow_async, client_metadata_value
from bot.settings import get_settings

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = MAX_WEBCHAT_MESSAGE_CHARS  # the widget says so to the user
MAX_AGENT_MESSAGE_CHARS = 4000
MAX_AGENT_BODY_BYTES = 32 * 1024
MAX_ID_CHARS = 64
MAX_SENDER_ID_CHARS = 128
MAX_FRAME_BYTES = 16 * 1024  # one socket.io frame: a 500-character message and its metadata, with room to spare
AGENT_EVENT_FROM = "agent"
# Per client address and per conversation (messages), and new sessions per address.
MESSAGES_PER_ADDRESS, MESSAGES_PER_CONVERSATION, SESSIONS_PER_ADDRESS, PER_SECONDS = 120, 20, 30, 60.0


def _valid_id(value: Any, limit: int = MAX_ID_CHARS) -> TypeGuard[str]:
    """Message ids come from browsers: short strings only."""
    return isinstance(value, str) and 0 < len(value) <= limit


def _coordinate(value: Any, bound: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) and -bound <= number <= bound else None


def clean_metadata(raw: Any) -> dict[str, Any]:
    """Only what the bot uses from the widget: the message id, the button mark and a shared position."""
    if isinstance(raw, str) and len(raw) <= MAX_FRAME_BYTES:
        try:
            raw = json.loads(raw)
        except ValueError:
            raw = {}
    if not isinstance(raw, dict):
        return {}
    metadata: dict[str, Any] = {}
    if _valid_id(raw.get("message_id")):
        metadata["message_id"] = raw["message_id"]
    if raw.get("button") is True:
        metadata["button"] = True
    location = raw.get("location")
    if isinstance(location, dict):
        latitude, longitude = _coordinate(location.get("latitude"), 90), _coordinate(location.get("longitude"), 180)
        if latitude is not None and longitude is not None:
            metadata["location"] = {"latitude": latitude, "longitude": longitude}
    return metadata


PRESENCE_KEY_PREFIX = "numecrivain:webchat:online:"
PRESENCE_TTL_SECONDS = 3600  # a process killed cannot say its sockets left: their marks expire


def redis_url() -> str | None:
    """Where the socket.io processes meet (NUMECRIVAIN_REDIS_URL); None for one process (`make run`)."""
    return os.environ.get("NUMECRIVAIN_REDIS_URL", "").strip() or None


def share_rooms_through_redis(sio: Any, url: str) -> None:
    """Make every emit reach the room's sockets in every Rasa process, through Redis's publish/subscribe.

    Rasa builds the socket.io server itself, so the manager is swapped before the first connection (the server
    initialises its manager on the first one). An emit still reaches this process's sockets when Redis is down.
    """
    manager = AsyncRedisManager(url, channel="numecrivain-socketio")
    manager.set_server(sio)
    sio.manager = manager
    sio.manager_initialized = False


class Presence:
    """Which conversations have a socket open: this process's rooms, plus Redis's marks with several processes."""

    def __init__(self, sio: Any, namespace: str, url: str | None) -> None:
        self.sio, self.namespace = sio, namespace
        self.redis = aioredis.Redis.from_url(url, socket_timeout=2) if url else None

    async def joined(self, sender_id: str, sid: str) -> None:
        if self.redis is not None:
            try:
                key = PRESENCE_KEY_PREFIX + sender_id
                await self.redis.sadd(key, sid)
                await self.redis.expire(key, PRESENCE_TTL_SECONDS)
            except (RedisError, OSError):
                logger.warning("Presence not recorded in Redis (unavailable).")

    async def left(self, sender_id: str, sid: str) -> None:
        if self.redis is not None:
            try:
                await self.redis.srem(PRESENCE_KEY_PREFIX + sender_id, sid)
            except (RedisError, OSError):
                logger.warning("Presence not updated in Redis (unavailable).")

    async def online(self, sender_id: str) -> bool:
        """True when a socket of this conversation is open in this process or, per Redis, in another."""
        if any(True for _ in self.sio.manager.get_participants(self.namespace, sender_id)):
            return True
        if self.redis is None:
            return False
        try:
            return bool(await self.redis.scard(PRESENCE_KEY_PREFIX + sender_id))
        except (RedisError, OSError):
            return False


def socket_address(sio: Any, sid: str, namespace: str | None) -> str | None:
    """The socket's client address for per-address limits (see bot.channels.inputs.client_address)."""
    environ = sio.get_environ(sid, namespace=namespace or "/") or {}
    request = environ.get("sanic.request")
    return client_address(request) if request is not None else None


class SeenMessages:
    """The last user message ids handled per session, so a message resent after a reconnection runs once.

    A resent message whose first copy is still being answered gets its receipt only once that answer is out: an
    earlier receipt told the widget the turn was over with no reply yet, so a reload then greeted a second time."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._running: dict[tuple[str, str], asyncio.Event] = {}

    def started(self, session_id: str, message_id: str) -> None:
        """The first copy of this message is being answered."""
        self._running[(session_id, message_id)] = asyncio.Event()

    def finished(self, session_id: str, message_id: str) -> None:
        """Its answer is out (or failed): receipts of its copies may go."""
        done = self._running.pop((session_id, message_id), None)
        if done is not None:
            done.set()

    async def answered(self, session_id: str, message_id: str) -> bool:
        """Wait until the first copy of this message has been answered; False when that failed (send it again)."""
        running = self._running.get((session_id, message_id))
        if running is not None:
            await running.wait()
        return (session_id, message_id) in self._seen

    def first_time(self, session_id: str, message_id: str) -> bool:
        """True the first time this (session, message) pair is seen, then False."""
        key = (session_id, message_id)
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)
        return True

    def forget(self, session_id: str, message_id: str) -> None:
        """A message that failed may be sent again."""
        self._seen.pop((session_id, message_id), None)


def with_parts(message: dict[str, Any]) -> dict[str, Any]:
    """The message with ``parts`` next to its ``text``: the widget builds its bubble from them, never from HTML."""
    text = message.get("text")
    if isinstance(text, str) and text:
        message["parts"] = to_parts(text)
    return message


class WebChatOutput(SocketIOOutput):
    """Sends each bot reply as one identified socket.io message to the session's room."""

    def __init__(self, sio: Any, bot_message_evt: str, offered: OfferedPayloads | None = None) -> None:
        super().__init__(sio, bot_message_evt)
        self.offered = offered

    @classmethod
    def name(cls) -> str:
        return "webchat"

    async def _send_message(self, socket_id: str, response: Any) -> None:
        message = with_parts({"id": uuid.uuid4().hex, **response})
        await self.sio.emit(self.bot_message_evt, message, room=socket_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """One bubble per reply, its Markdown read here into parts the widget shows (bot.markdown)."""
        await self._send_message(recipient_id, {"text": text.strip()})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Text and its choices together, in Rasa's socket.io ``quick_replies`` format; the choices are remembered."""
        if self.offered is not None:
            self.offered.remember(recipient_id, buttons)
        quick_replies = [
            {"content_type": "text", "title": button["title"], "payload": button["payload"]} for button in buttons
        ]
        await self._send_message(recipient_id, {"text": text.strip(), "quick_replies": quick_replies})
    async def send_quick_replies(
        self, recipient_id: str, text: str, quick_replies: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Quick replies are buttons for the widget."""
        await self.send_text_with_buttons(recipient_id, text, quick_replies, **kwargs)

    async def send_elements(self, recipient_id: str, elements: Iterable[dict[str, Any]], **kwargs: Any) -> None:
        """Rasa's generic template, unchanged but identified."""
        for element in elements:
            await self._send_message(
                recipient_id,
                {"attachment": {"type": "template", "payload": {"template_type": "generic", "elements": element}}},
            )

    async def send_custom_json(self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any) -> None:
        """A custom payload (for example place cards) as ``{"custom": ...}``: Rasa 3.6 would crash on it."""
        await self._send_message(recipient_id, {"custom": json_message})


class WebChatInput(SocketIOInput):
    """socket.io input with signed sessions bound to the socket, bounded messages and button-only intents."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offered = OfferedPayloads()
        self.signer: SessionSigner | None = None
        self.sessions: dict[str, WebSession] = {}  # socket id -> the session it asked for

    @classmethod
    def name(cls) -> str:
        return "webchat"

    def get_output_channel(self) -> WebChatOutput | None:
        """The output used for messages the bot sends on its own (reminders, external events)."""
        if self.sio is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt, self.offered)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        sio.eio.max_http_buffer_size = MAX_FRAME_BYTES  # a bigger frame closes the connection unread
        shared = redis_url()
        if shared is not None:
            share_rooms_through_redis(sio, shared)
        namespace = self.namespace or "/"
        online_rooms = Presence(sio, namespace, shared)
        self.signer = self.signer or SessionSigner()
        sockets = WebChatSockets(self, sio, namespace, online_rooms, on_new_message)
        relay = AgentRelay(sio, namespace, self.bot_message_evt, online_rooms, self.offered)
        webhook.add_route(internal_only(relay.agent_message), "/agent_message", methods=["POST"],
                          name="agent_message")
        webhook.add_route(internal_only(relay.presence), "/presence", methods=["GET"], name="presence")
        webhook.add_route(internal_only(relay.agent_typing), "/agent_typing", methods=["POST"], name="agent_typing")
        sio.on("typing", namespace=self.namespace)(sockets.resident_typing)
        sio.on("session_request", namespace=self.namespace)(sockets.session_request)
        sio.on("disconnect", namespace=self.namespace)(sockets.disconnect)
        sio.on(self.user_message_evt, namespace=self.namespace)(sockets.handle_message)
        return webhook


class WebChatSockets:
    """The socket.io events of one channel: sessions, the person's messages and typing."""

    def __init__(self, channel: WebChatInput, sio: Any, namespace: str, online_rooms: Presence,
                 on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> None:
        assert channel.signer is not None
        self.channel = channel
        self.sio = sio
        self.namespace = namespace
        self.online_rooms = online_rooms
        self.on_new_message = on_new_message
        self.signer: SessionSigner = channel.signer
        self.sessions = channel.sessions
        self.seen = SeenMessages()
        self.typing_gate, self.pusher = TypingGate(), ResidentPush()

    def output(self) -> WebChatOutput:
        return WebChatOutput(self.sio, self.channel.bot_message_evt, self.channel.offered)

    async def bind(self, sid: str, session: WebSession) -> None:
        previous = self.sessions.get(sid)
        if previous is not None and previous.sender_id != session.sender_id:
            await self.sio.leave_room(sid, previous.sender_id, namespace=self.namespace)
            await self.online_rooms.left(previous.sender_id, sid)
        self.sessions[sid] = session
        await self.sio.enter_room(sid, session.sender_id, namespace=self.namespace)  # Rasa 3.6 forgets this await
        await self.online_rooms.joined(session.sender_id, sid)

    async def session_request(self, sid: str, data: dict[str, Any] | None) -> None:
        """Rejoin a session whose signed token is valid, else start a new one; the token is renewed."""
        data = data if isinstance(data, dict) else {}
        session = self.signer.verify(data.get("session_id"))
        if session is None:
            address = socket_address(self.sio, sid, self.namespace)
            if address is not None and not await allow_async("webchat_session", address, SESSIONS_PER_ADDRESS,
                                                              PER_SECONDS):
                await self.sio.emit("session_refused", {"text": SLOW_DOWN_TEXT}, room=sid, namespace=self.namespace)
                return
            session = self.signer.issue()
        else:
            session = self.signer.renew(session)
        await self.bind(sid, session)
        await self.sio.emit("session_confirm", session.token, room=sid, namespace=self.namespace)

    async def disconnect(self, sid: str, *_: Any) -> None:
        session = self.sessions.pop(sid, None)
        if session is not None:
            await self.online_rooms.left(session.sender_id, sid)

    async def allowed(self, sid: str, sender_id: str) -> bool:
        address = socket_address(self.sio, sid, self.namespace)
        if address is not None and not await allow_async("webchat_address", address, MESSAGES_PER_ADDRESS,
                                                         PER_SECONDS):
            return False
        return await allow_async("webchat_conversation", sender_id, MESSAGES_PER_CONVERSATION, PER_SECONDS)

    async def answered_before_rasa(self, output: WebChatOutput, sender_id: str, text: str,
                                   metadata: dict[str, Any]) -> dict[str, Any] | None:
        """A message answered here without Rasa (too long, a survey answer): its acknowledgement, else None."""
        if is_too_long(text, MAX_MESSAGE_CHARS):
            reply = too_long_reply()
            await output.send_text_with_buttons(sender_id, reply.text, [b.as_dict() for b in reply.buttons])
            return {"handled": True, "too_long": True}
        if metadata.get("button"):  # a survey answer is recorded here, before the NLU (no intent needed)
            thanks = await reply_to_button(sender_id, text)
            if thanks is not None:
                await output.send_text_message(sender_id, thanks)
                return {"handled": True}
        return None

    async def answer(self, sid: str, session: WebSession, data: dict[str, Any], metadata: dict[str, Any],
                     message_id: str | None) -> dict[str, Any]:
        """One user message handed to Rasa; the return value is the socket.io acknowledgement."""
        sender_id = session.sender_id
        output = self.output()
        if not await self.allowed(sid, sender_id):
            await output.send_text_message(sender_id, SLOW_DOWN_TEXT)
            return {"handled": False, "error": "rate_limited"}
        session = self.signer.renew(session)
        self.sessions[sid] = session
        text = data.get("message")
        text = text if isinstance(text, str) else ""
        done = await self.answered_before_rasa(output, sender_id, text, metadata)
        if done is not None:
            return {**done, "session_id": session.token}
        text = text_for_rasa(text, clicked=bool(metadata.get("button")), sender_id=sender_id,
                             offered=self.channel.offered)
        address = socket_address(self.sio, sid, self.namespace)
        if address is not None:  # stamped by us, never by the client: per-address limits on handoffs
            metadata[CLIENT_METADATA_KEY] = client_metadata_value(address)
        try:
            await self.on_new_message(UserMessage(text, output, sender_id, input_channel=self.channel.name(),
                                                  metadata=metadata, message_id=message_id))
        except Exception:  # the person is told, the widget may resend; the log line has no text
            logger.exception("Web chat message not handled")
            if message_id is not None:
                self.seen.forget(sender_id, message_id)
            await output.send_text_message(sender_id, SERVICE_UNAVAILABLE_TEXT)
            return {"handled": False, "error": "unavailable", "session_id": session.token}
        return {"handled": True, "session_id": session.token}

    async def handle_message(self, sid: str, data: dict[str, Any] | None) -> dict[str, Any]:
        """Hand the message to Rasa once; the return value is the socket.io acknowledgement."""
        session = self.sessions.get(sid)
        if session is None:
            logger.info("Web chat message on a socket without a session ignored.")
            return {"handled": False, "error": "no_session"}
        data = data if isinstance(data, dict) else {}
        sender_id = session.sender_id
        key = self.channel.metadata_key
        metadata = clean_metadata(data.get(key) if key else None)
        message_id = metadata.get("message_id")
        if message_id is not None:
            if not self.seen.first_time(sender_id, message_id):
                if not await self.seen.answered(sender_id, message_id):
                    return {"handled": False, "error": "unavailable", "session_id": session.token}
                return {"handled": True, "duplicate": True}
            self.seen.started(sender_id, message_id)
        try:
            return await self.answer(sid, session, data, metadata, message_id)
        finally:
            if message_id is not None:
                self.seen.finished(sender_id, message_id)

    async def resident_typing(self, sid: str, *_: Any) -> dict[str, Any]:
        """The person is typing (the fact only, never the text): pushed to the agent's console, at most once
        every 2 s per conversation; the portal drops it when no handoff is open."""
        session = self.sessions.get(sid)
        if session is None:
            return {"sent": False, "error": "no_session"}
        if not self.typing_gate.allow(session.sender_id):
            return {"sent": False, "error": "rate_limited"}
        return {"sent": await self.pusher.typing(session.sender_id)}


internal_only = routes.internal_only(lambda _request: get_settings().internal_token)


def _json_object(request: Request, limit: int) -> dict[str, Any] | None:
    """The request's JSON object, or None (too large, not JSON, not an object)."""
    if len(request.body or b"") > limit:
        return None
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def agent_chat_message(body: dict[str, Any]) -> dict[str, Any] | None:
    """The chat message an agent's relay request describes, or None when it is malformed."""
    sender_id, text, agent = body.get("sender_id"), body.get("text"), body.get("agent") or "Conseiller"
    if not _valid_id(sender_id, MAX_SENDER_ID_CHARS) or not isinstance(text, str) or not text.strip() \
            or not isinstance(agent, str):
        return None
    message: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "text": text.strip()[:MAX_AGENT_MESSAGE_CHARS],
        "from": AGENT_EVENT_FROM,
        "agent": agent.strip()[:80],
    }
    with_parts(message)
    buttons = body.get("buttons")
    if isinstance(buttons, list) and buttons:  # choices under the message (the satisfaction survey)
        message["quick_replies"] = [
            {"content_type": "text", "title": b["title"][:80], "payload": b["payload"][:64]}
            for b in buttons[:5]
            if isinstance(b, dict) and isinstance(b.get("title"), str) and isinstance(b.get("payload"), str)
        ]
    if body.get("kind") == "notice":  # news of the service (who joined): the handoff goes on
        message["kind"] = "notice"
    elif agent == SYSTEM_AUTHOR:  # the bot's closing words: the person is back with the bot
        message["handoff_ended"] = True
    return message


class AgentRelay:
    """What the portal sends to a person's open chat: an agent's words, « … écrit », and whether they are there."""

    def __init__(self, sio: Any, namespace: str, bot_message_evt: str, online_rooms: Presence,
                 offered: OfferedPayloads) -> None:
        self.sio = sio
        self.namespace = namespace
        self.bot_message_evt = bot_message_evt
        self.online_rooms = online_rooms
        self.offered = offered

    async def agent_message(self, request: Request) -> response.HTTPResponse:
        """Relay an agent's message to the person's open chat, marked as coming from a person."""
        if len(request.body or b"") > MAX_AGENT_BODY_BYTES:
            return response.json({"error": "body too large"}, status=413)
        body = _json_object(request, MAX_AGENT_BODY_BYTES)
        if body is None:
            return response.json({"error": "a JSON object is expected"}, status=400)
        message = agent_chat_message(body)
        if message is None:
            return response.json({"error": "sender_id, text and agent (strings) are expected"}, status=400)
        sender_id = body["sender_id"]
        if message.get("handoff_ended"):
            self.offered.forget(sender_id)
        await self.sio.emit(self.bot_message_evt, message, room=sender_id, namespace=self.namespace)
        online = await self.online_rooms.online(sender_id)
        return response.json({"delivered": True, "online": online})

    async def presence(self, request: Request) -> response.HTTPResponse:
        """Whether the person has the chat open now (for the agents' "still connected" sign)."""
        sender_id = request.args.get("sender_id")
        if not _valid_id(sender_id, MAX_SENDER_ID_CHARS):
            return response.json({"error": "sender_id is expected"}, status=400)
        online = await self.online_rooms.online(sender_id)
        return response.json({"online": online})

    async def agent_typing(self, request: Request) -> response.HTTPResponse:
        """Show « <agent> écrit… » in the person's open chat (the portal sends the name, never the text)."""
        body = _json_object(request, MAX_FRAME_BYTES) or {}
        sender_id, agent = body.get("sender_id"), body.get("agent")
        if not _valid_id(sender_id, MAX_SENDER_ID_CHARS) or not isinstance(agent, str) or not agent.strip():
            return response.json({"error": "sender_id and agent (strings) are expected"}, status=400)
        await self.sio.emit("agent_typing", {"agent": agent.strip()[:80]}, room=sender_id, namespace=self.namespace)
        return response.json({"delivered": True})
