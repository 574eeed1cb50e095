"""Web chat over socket.io, with Rasa 3.6's session persistence fixed (enter_room is awaited).

On top of Rasa's socket.io channel, the widget (bot/web/widget/) relies on:
- every bot message carrying an ``id`` (the widget drops a message it already shows);
- one bot message per reply (Rasa splits text on blank lines, which breaks Markdown lists);
- custom payloads sent as ``{"custom": {...}}`` (Rasa 3.6 passes them to ``emit`` as keyword arguments);
- user messages acknowledged once handled, and a resent ``metadata.message_id`` handled only once;
- ``POST /webhooks/webchat/agent_message`` relaying an agent's words after a handoff.
"""

from __future__ import annotations

import hmac
import json
import logging
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request

from bot.settings import get_settings

logger = logging.getLogger(__name__)

MAX_MESSAGE_CHARS = 500  # the widget says so to the user; longer input is cut here too
MAX_AGENT_MESSAGE_CHARS = 4000
MAX_ID_CHARS = 64
AGENT_EVENT_FROM = "agent"


def _valid_id(value: Any) -> bool:
    """Session and message ids come from browsers: short strings only."""
    return isinstance(value, str) and 0 < len(value) <= MAX_ID_CHARS


class SeenMessages:
    """The last user message ids handled per session, so a message resent after a reconnection runs once."""

    def __init__(self, capacity: int = 10_000) -> None:
        self.capacity = capacity
        self._seen: OrderedDict[tuple[str, str], None] = OrderedDict()

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


class WebChatOutput(SocketIOOutput):
    """Sends each bot reply as one identified socket.io message to the session's room."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    async def _send_message(self, socket_id: str, response: Any) -> None:
        message = {"id": uuid.uuid4().hex, **response}
        await self.sio.emit(self.bot_message_evt, message, room=socket_id)

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        """One bubble per reply: the widget renders the Markdown paragraphs itself."""
        await self._send_message(recipient_id, {"text": text.strip()})

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        """Text and its choices together, in Rasa's socket.io ``quick_replies`` format."""
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
    """socket.io input whose session_request really joins the session room (python-socketio 5)."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    def get_output_channel(self) -> WebChatOutput | None:
        """The output used for messages the bot sends on its own (reminders, external events)."""
        if self.sio is None:
            return None
        return WebChatOutput(self.sio, self.bot_message_evt)

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = super().blueprint(on_new_message)
        sio = self.sio
        assert sio is not None
        seen = SeenMessages()

        async def session_request(sid: str, data: dict[str, Any] | None) -> None:
            data = data if isinstance(data, dict) else {}
            session_id = data.get("session_id")
            if not _valid_id(session_id):
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                await sio.enter_room(sid, session_id)  # the fix: Rasa 3.6 forgets this await
            await sio.emit("session_confirm", session_id, room=sid)

        async def handle_message(sid: str, data: dict[str, Any] | None) -> dict[str, Any]:
            """Hand the message to Rasa once; the return value is the socket.io acknowledgement."""
            data = data if isinstance(data, dict) else {}
            sender_id = data.get("session_id") if self.session_persistence else sid
            if not _valid_id(sender_id):
                logger.warning("Web chat message without a valid session_id ignored.")
                return {"handled": False}
            metadata = data.get(self.metadata_key) or {}
            if isinstance(metadata, str):
                try:
                    metadata = json.loads(metadata)
                except ValueError:
                    metadata = {}
            if not isinstance(metadata, dict):
                metadata = {}
            message_id = metadata.get("message_id")
            if _valid_id(message_id) and not seen.first_time(sender_id, message_id):
                return {"handled": True, "duplicate": True}
            text = data.get("message")
            text = text[:MAX_MESSAGE_CHARS] if isinstance(text, str) else ""
            output = WebChatOutput(sio, self.bot_message_evt)
            await on_new_message(
                UserMessage(text, output, sender_id, input_channel=self.name(), metadata=metadata)
            )
            return {"handled": True}

        @webhook.route("/agent_message", methods=["POST"])
        async def agent_message(request: Request) -> response.HTTPResponse:
            """Relay an agent's message to the person's open chat, marked as coming from a person."""
            expected = f"Bearer {get_settings().internal_token}"
            if not hmac.compare_digest(request.headers.get("Authorization", "").encode(), expected.encode()):
                return response.json({"error": "unauthorized"}, status=401)
            try:
                body = json.loads(request.body or b"null")
            except ValueError:
                body = None
            if not isinstance(body, dict):
                return response.json({"error": "a JSON object is expected"}, status=400)
            sender_id, text, agent = body.get("sender_id"), body.get("text"), body.get("agent") or "Conseiller"
            if not _valid_id(sender_id) or not isinstance(text, str) or not text.strip() or not isinstance(agent, str):
                return response.json({"error": "sender_id, text and agent (strings) are expected"}, status=400)
            message = {
                "id": uuid.uuid4().hex,
                "text": text.strip()[:MAX_AGENT_MESSAGE_CHARS],
                "from": AGENT_EVENT_FROM,
                "agent": agent.strip()[:80],
            }
            await sio.emit(self.bot_message_evt, message, room=sender_id, namespace=self.namespace)
            online = any(True for _ in sio.manager.get_participants(self.namespace or "/", sender_id))
            return response.json({"delivered": True, "online": online})

        sio.on("session_request", namespace=self.namespace)(session_request)
        sio.on(self.user_message_evt, namespace=self.namespace)(handle_message)
        return webhook

