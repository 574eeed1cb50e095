"""Web chat: only a click on a button this conversation was offered reaches Rasa as an intent; typed text is text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage

from tests.security.webchat_server import ChatServer, serving_webchat
from tests.web.socketio_client import SocketIOClient

COMMUNE_CHOICE = '/inform_location{"commune": "Sainghin-en-Weppes"}'


async def offering_bot(message: UserMessage) -> None:
    """Offers a commune choice (a payload with entities), as the places answer does for an ambiguous name."""
    await message.output_channel.send_response(message.sender_id, {
        "text": "Quelle commune ?",
        "buttons": [{"title": "Sainghin-en-Weppes", "payload": COMMUNE_CHOICE},
                    {"title": "Parler à une personne", "payload": "/request_human"}],
    })


@pytest.fixture
async def chat_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[ChatServer]:
    async with serving_webchat(offering_bot, monkeypatch, tmp_path) as running:
        yield running


async def say(client: SocketIOClient, text: str, metadata: dict[str, Any] | None = None) -> None:
    ack = await client.emit("user_uttered", {"message": text, "metadata": metadata or {}}, ack=True)
    assert ack is not None
    await client.wait_ack(ack)


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [
        ("/restart", "restart"),
        ('/request_human{"commune": "Lille"}', 'request_human{"commune": "Lille"}'),
        ('  //inform_location{"commune": "1     x"}', 'inform_location{"commune": "1     x"}'),
        ("/ / /greet", "greet"),
        ("/", ""),
    ],
)
async def test_typed_slash_text_reaches_the_bot_as_plain_text(chat_server: ChatServer, typed: str,
                                                               read_as: str) -> None:
    async with SocketIOClient(chat_server.url) as client:
        await client.start_session(None)
        await say(client, typed)
    assert [m.text for m in chat_server.received] == [read_as]


async def test_clicked_button_this_conversation_was_offered_is_an_intent(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as client:
        await client.start_session(None)
        await say(client, "je cherche de l'aide à Sainghin")
        await say(client, COMMUNE_CHOICE, {"button": True})
    assert [m.text for m in chat_server.received] == ["je cherche de l'aide à Sainghin", COMMUNE_CHOICE]


async def test_button_mark_on_a_payload_never_offered_is_plain_text(chat_server: ChatServer) -> None:
    forged = '/inform_location{"commune": "Roubaix"}'
    async with SocketIOClient(chat_server.url) as client:
        await client.start_session(None)
        await say(client, "bonjour")
        await say(client, forged, {"button": True})
    assert chat_server.received[-1].text == forged[1:]


async def test_payload_offered_to_another_conversation_is_plain_text_here(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as first:
        await first.start_session(None)
        await say(first, "bonjour")  # this conversation was offered COMMUNE_CHOICE
    async with SocketIOClient(chat_server.url) as second:
        await second.start_session(None)
        await say(second, COMMUNE_CHOICE, {"button": True})
    assert chat_server.received[-1].text == COMMUNE_CHOICE[1:]


@pytest.mark.parametrize("menu", ["/greet", "/help_menu", "/request_human", "/find_help_nearby"])
async def test_menu_buttons_the_widget_always_shows_are_intents(chat_server: ChatServer, menu: str) -> None:
    async with SocketIOClient(chat_server.url) as client:
        await client.start_session(None)
        await say(client, menu, {"button": True})
    assert [m.text for m in chat_server.received] == [menu]


async def test_shared_position_travels_as_clean_metadata_not_as_entities(chat_server: ChatServer) -> None:
    metadata = {"button": True, "message_id": "m-1", "location": {"latitude": 50.63, "longitude": 3.06},
                "extra": "x" * 1000, "channel": "sms"}
    async with SocketIOClient(chat_server.url) as client:
        await client.start_session(None)
        await say(client, "/find_help_nearby", metadata)
    (message,) = chat_server.received
    assert message.text == "/find_help_nearby"
    assert message.metadata == {"button": True, "message_id": "m-1",
                                "location": {"latitude": 50.63, "longitude": 3.06}}
