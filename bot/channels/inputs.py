"""What every input channel does to a person's message before Rasa sees it: bound it, and keep typed text as text.

Rasa reads any text starting with "/" as an intent with JSON entities. Only payloads of buttons we sent (and the
few menu payloads without entities the widget and SMS always offer) may reach Rasa that way; any other text
loses its leading slashes, so "/restart" is read as the word "restart".
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from sanic.request import Request

from bot.replies import Reply

INTENT_PREFIX = "/"
MAX_MESSAGE_CHARS = 1000  # REST and SMS (a long SMS is at most ~10 parts of 153 characters)
MAX_WEBCHAT_MESSAGE_CHARS = 500  # the widget shows this limit to the person as they type
MAX_PAYLOAD_CHARS = 300
TOO_LONG_TEXT = (
    "Votre message est trop long. Écrivez en quelques phrases, ou demandez à parler à une personne."
)
SLOW_DOWN_TEXT = "Vous envoyez beaucoup de messages. Attendez une minute, puis écrivez de nouveau."
# Menu payloads without entities that the widget and SMS offer at any time (buttons, AIDE, 0).
ALWAYS_OFFERED = frozenset({"/greet", "/help_menu", "/request_human", "/find_help_nearby"})


def too_long_reply() -> Reply:
    """The kind answer to a message over the limit, with the way to a person."""
    return Reply(TOO_LONG_TEXT).with_human_offer()


def is_too_long(text: str, limit: int = MAX_MESSAGE_CHARS) -> bool:
    """True when the message must not be parsed at all."""
    return len(text) > limit


def as_typed_text(text: str) -> str:
    """Typed text with its leading slashes removed, so Rasa never reads it as an intent or entities."""
    cleaned = text.strip()
    while cleaned.startswith(INTENT_PREFIX):
        cleaned = cleaned[1:].strip()
    return cleaned


class OfferedPayloads:
    """The button payloads recently sent to each conversation, so a click on one of them is taken as an intent."""

    def __init__(self, per_conversation: int = 40, conversations: int = 20_000) -> None:
        self.per_conversation = per_conversation
        self.conversations = conversations
        self._offered: OrderedDict[str, OrderedDict[str, None]] = OrderedDict()

    def remember(self, sender_id: str, buttons: Iterable[dict[str, Any]]) -> None:
        """Note the payloads of buttons just sent to this conversation."""
        given = [b.get("payload") for b in buttons if isinstance(b, dict)]
        payloads = [p for p in given if isinstance(p, str) and 0 < len(p) <= MAX_PAYLOAD_CHARS]
        if not payloads:
            return
        offered = self._offered.setdefault(sender_id, OrderedDict())
        self._offered.move_to_end(sender_id)
        for payload in payloads:
            offered[payload] = None
            offered.move_to_end(payload)
        while len(offered) > self.per_conversation:
            offered.popitem(last=False)
        while len(self._offered) > self.conversations:
            self._offered.popitem(last=False)

    def was_offered(self, sender_id: str, payload: str) -> bool:
        """True when this exact payload was one of the buttons sent to this conversation."""
        return payload in ALWAYS_OFFERED or payload in self._offered.get(sender_id, {})

    def forget(self, sender_id: str) -> None:
        """Drop what was offered to a conversation that ended."""
        self._offered.pop(sender_id, None)


def text_for_rasa(text: str, *, clicked: bool, sender_id: str, offered: OfferedPayloads | None) -> str:
    """A button click on a payload we offered goes as is; anything else is typed text."""
    stripped = text.strip()
    if clicked and offered is not None and offered.was_offered(sender_id, stripped):
        return stripped
    return as_typed_text(text)


def client_address(request: Request) -> str | None:
    """The client's address for per-address limits, or None when only a proxy is seen.

    Behind the reverse proxy, Sanic gives the client's address once told to trust it (SANIC_PROXIES_COUNT or
    SANIC_FORWARDED_SECRET). Without that, every client would share the proxy's local address: rather than
    throttle everyone together, no per-address limit applies (the per-conversation limits still do).
    """
    if request.remote_addr:
        return str(request.remote_addr)
    try:
        peer = ipaddress.ip_address(request.ip)
    except ValueError:
        return None
    return None if peer.is_loopback or peer.is_private else str(peer)


class BodyTooLargeError(Exception):
    """The request body is over the route's limit (answer 413)."""


async def read_body(request: Request, limit: int, timeout: float = 10.0) -> bytes:
    """The body of a streamed request, refused as soon as it is longer than `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None:
        try:
            if int(declared) > limit:
                raise BodyTooLargeError
        except ValueError as error:  # a Content-Length that is not a number: refuse as well
            raise BodyTooLargeError from error
    if request.stream is None:
        body = request.body or b""
        if len(body) > limit:
            raise BodyTooLargeError
        return body
    chunks: list[bytes] = []
    size = 0
    while True:
        chunk = await asyncio.wait_for(request.stream.read(), timeout)
        if chunk is None:
            break
        size += len(chunk)
        if size > limit:
            raise BodyTooLargeError
        chunks.append(chunk)
    return b"".join(chunks)


