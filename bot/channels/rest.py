"""The REST channel (`POST /webhooks/rest/webhook`), bounded: for integrators and scripts, never trusted.

Compared with Rasa's own REST channel: the body is read up to a small limit; a message over the length limit
gets a kind answer without being parsed; typed text is always text (no "/intent{...}"); the conversation id
is prefixed with "rest:", so a REST client can never write into a web chat or SMS conversation; the client
cannot choose the input channel or attach metadata; per-address and per-conversation rate limits.

A client that got no answer (a timeout, a 502 or 503) sends the same message again with the same optional
``"message_id"`` (up to 64 characters): the message is handled once and the resent one gets the stored replies
(bot/resilience.py). When the message could not be handled at all (database or lock store restarting), the
answer is a 503 with a kind sentence and ``Retry-After``, never an empty 200.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.inputs import (
    MAX_MESSAGE_CHARS,
    SLOW_DOWN_TEXT,
    BodyTooLargeError,
    as_typed_text,
    client_address,
    is_too_long,
    read_body,
    too_long_reply,
)
from bot.resilience import MESSAGE_ID_KEY, SERVICE_UNAVAILABLE_TEXT
from bot.security.ratelimit import CLIENT_METADATA_KEY, allow_async, client_metadata_value
from bot.settings import RasaProcessSettings

logger = logging.getLogger(__name__)

CHANNEL_NAME = "rest"
SENDER_PREFIX = "rest:"
# Room for a pasted letter, so that it gets the kind "too long" answer rather than an error; beyond, 413.
MAX_BODY_BYTES = 64 * 1024
MAX_SENDER_CHARS = 64
# Per client address and per conversation; a person chatting sends a message every few seconds at most.
PER_ADDRESS_LIMIT, PER_ADDRESS_SECONDS = 120, 60.0
PER_CONVERSATION_LIMIT = RasaProcessSettings().rest_messages_per_minute  # NUMECRIVAIN_REST_MESSAGES_PER_MINUTE
PER_CONVERSATION_SECONDS = 60.0


def conversation_id(sender: str) -> str:
    """The id of a REST conversation: in its own namespace, apart from web chat and SMS."""
    return f"{SENDER_PREFIX}{sender}"


def _error(status: int, message: str) -> HTTPResponse:
    return response.json({"error": message}, status=status)


class RestInput(InputChannel):
    """Register in credentials.yml as `bot.channels.rest.RestInput` (in place of Rasa's `rest`)."""

    @classmethod
    def name(cls) -> str:
        return CHANNEL_NAME

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = Blueprint("numecrivain_rest_webhook", __name__)

        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        async def receive(request: Request) -> HTTPResponse:
            try:
                body = await read_body(request, MAX_BODY_BYTES)
            except BodyTooLargeError:
                return _error(413, f"the body must be at most {MAX_BODY_BYTES} bytes")
            except asyncio.TimeoutError:
                return _error(408, "the body took too long to arrive")
            try:
                data = json.loads(body or b"null")
            except ValueError:
                return _error(400, "the body must be JSON")
            if not isinstance(data, dict):
                return _error(400, "a JSON object is expected")
            sender, text = data.get("sender"), data.get("message")
            if not isinstance(sender, str) or not 0 < len(sender) <= MAX_SENDER_CHARS:
                return _error(400, f"'sender' must be a string of 1 to {MAX_SENDER_CHARS} characters")
            if text is None:
                text = ""
            if not isinstance(text, str):
                return _error(400, "'message' must be a string")
            message_id = data.get("message_id")
            if message_id is not None and (not isinstance(message_id, str)
                                           or not 0 < len(message_id) <= MAX_SENDER_CHARS):
                return _error(400, f"'message_id' must be a string of 1 to {MAX_SENDER_CHARS} characters")
            sender_id = conversation_id(sender)
            address = client_address(request)
            if (address is not None and not await allow_async("rest_address", address, PER_ADDRESS_LIMIT,
                                                               PER_ADDRESS_SECONDS)) \
                    or not await allow_async("rest_conversation", sender_id, PER_CONVERSATION_LIMIT,
                                             PER_CONVERSATION_SECONDS):
                return response.json([{"recipient_id": sender, "text": SLOW_DOWN_TEXT}], status=429,
                                     headers={"Retry-After": str(int(PER_CONVERSATION_SECONDS))})
            if is_too_long(text, MAX_MESSAGE_CHARS):
                reply = too_long_reply()
                return response.json([{"recipient_id": sender, "text": reply.text,
                                       "buttons": [button.as_dict() for button in reply.buttons]}])
            # Only what we stamp ourselves: the client's address, pseudonymised, for per-address handoff limits.
            metadata: dict[str, Any] = {CLIENT_METADATA_KEY: client_metadata_value(address)} \
                if address is not None else {}
            if message_id is not None:
                metadata[MESSAGE_ID_KEY] = message_id
            collector = CollectingOutputChannel()
            try:
                await on_new_message(UserMessage(as_typed_text(text), collector, sender_id,
                                                 input_channel=CHANNEL_NAME, metadata=metadata or None,
                                                 message_id=message_id))
            except Exception:  # the client is told to send it again; the log line has no text
                logger.exception("REST message not handled")
                return response.json([{"recipient_id": sender, "text": SERVICE_UNAVAILABLE_TEXT}], status=503,
                                     headers={"Retry-After": "5"})
            return response.json([{**message, "recipient_id": sender} for message in collector.messages])

        webhook.add_route(health, "/", methods=["GET"], name="health")
        webhook.add_route(receive, "/webhook", methods=["POST"], name="receive", stream=True)
        return webhook
