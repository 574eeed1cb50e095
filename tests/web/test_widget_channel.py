"""The web chat channel on a real socket.io server (in this process, no model): the contract the widget relies on."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels.inputs import TOO_LONG_TEXT
from bot.channels.webchat import MAX_MESSAGE_CHARS, SeenMessages
from bot.resilience import SERVICE_UNAVAILABLE_TEXT
from tests.security.webchat_server import INTERNAL_TOKEN as TOKEN
from tests.security.webchat_server import ChatServer, sender_of, serving_webchat
from tests.web.socketio_client import SocketIOClient

PLACES = {"type": "places", "places": [{"nom": "Espace France Services", "distance_km": 1.2,
                                        "map_url": "https://www.openstreetmap.org/?mlat=50.6&mlon=3.1"}]}


async def scripted_bot(message: UserMessage) -> None:
    """Answers 'lieux' with a places card, anything else by echoing it with a choice."""
    out = message.output_channel
    if message.text == "lieux":
        await out.send_response(message.sender_id, {"text": "Les lieux :\n1. **Espace**", "custom": dict(PLACES)})
        return
    await out.send_response(message.sender_id, {
        "text": f"**Reçu**\n\n- {(message.text or '')[:20]}\n- deux",
        "buttons": [{"title": "Parler à une personne", "payload": "/request_human"}],
    })


@pytest.fixture
async def chat_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[ChatServer]:
    """The channel mounted like Rasa mounts it (/webhooks/webchat), answering with a scripted bot."""
    async with serving_webchat(scripted_bot, monkeypatch, tmp_path) as running:
        yield running


async def post_agent_message(url: str, body: object, token: str | None = TOKEN) -> tuple[int, dict]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as session, session.post(
        f"{url}/webhooks/webchat/agent_message", data=json.dumps(body), headers=headers
    ) as response:
        return response.status, await response.json()


async def test_reply_arrives_as_one_identified_message_with_its_choices(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as client:
        session = await client.start_session(None)
        await client.emit("user_uttered", {"message": "bonjour", "session_id": session})
        (reply,) = await client.wait_for("bot_uttered")
    assert reply["text"] == "**Reçu**\n\n- bonjour\n- deux"  # Rasa would have cut it in three bubbles
    assert reply["parts"] == [  # read once by the server: the widget has no Markdown parser
        {"type": "paragraph", "lines": [[{"type": "strong", "children": ["Reçu"]}]]},
        {"type": "list", "ordered": False, "start": 1, "items": [
            [{"type": "paragraph", "lines": [["bonjour"]]}], [{"type": "paragraph", "lines": [["deux"]]}]]},
    ]
    assert reply["quick_replies"] == [{"content_type": "text", "title": "Parler à une personne",
                                       "payload": "/request_human"}]
    assert len(reply["id"]) >= 16
    assert chat_server.received[0].input_channel == "webchat"


async def test_places_payload_arrives_as_custom_after_its_text(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as client:
        session = await client.start_session(None)
        await client.emit("user_uttered", {"message": "lieux", "session_id": session})
        text, cards = await client.wait_for("bot_uttered", count=2)
    assert text["text"].startswith("Les lieux")
    assert cards["custom"] == PLACES
    assert text["id"] != cards["id"]


async def test_reloaded_page_rejoins_its_session_and_gets_the_replies(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as first_page:
        session = await first_page.start_session(None)
    async with SocketIOClient(chat_server.url) as reloaded:
        renewed = await reloaded.start_session(session)
        assert sender_of(renewed) == sender_of(session)  # same conversation; the token's expiry may be renewed
        await reloaded.emit("user_uttered", {"message": "encore moi", "session_id": renewed})
        (reply,) = await reloaded.wait_for("bot_uttered")
    assert "encore moi" in reply["text"]
    assert [m.sender_id for m in chat_server.received] == [sender_of(session)]


async def test_unusable_session_id_gets_a_fresh_one(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as client:
        confirmed = await client.start_session("x" * 500)
    signer = chat_server.channel.signer
    assert signer is not None
    assert confirmed != "x" * 500 and signer.verify(confirmed) is not None


async def test_message_is_acknowledged_and_a_resent_copy_is_handled_once(chat_server: ChatServer) -> None:
    message = {"message": "ma carte vitale", "metadata": {"message_id": "m-1"}}
    async with SocketIOClient(chat_server.url) as client:
        session = await client.start_session(None)
        first = await client.emit("user_uttered", {**message, "session_id": session}, ack=True)
        assert first is not None
        (ack,) = await client.wait_ack(first)
        assert ack["handled"] is True and sender_of(ack["session_id"]) == sender_of(session)
    async with SocketIOClient(chat_server.url) as after_reconnection:
        await after_reconnection.start_session(session)
        again = await after_reconnection.emit("user_uttered", {**message, "session_id": session}, ack=True)
        assert again is not None
        assert await after_reconnection.wait_ack(again) == [{"handled": True, "duplicate": True}]
        # Messages of one socket are handled in order: once the next one is answered, a reply to the copy
        # would already be there.
        await after_reconnection.emit("user_uttered", {"message": "suivant", "session_id": session})
        (reply,) = await after_reconnection.wait_for("bot_uttered")
        assert "suivant" in reply["text"]
        assert [name for name, _ in after_reconnection.events] == ["session_confirm", "bot_uttered"]
    assert [m.text for m in chat_server.received] == ["ma carte vitale", "suivant"]


class SlowGreeter:
    """A bot whose first answer takes a while, as Rasa on a busy machine: it answers once told to."""

    def __init__(self, fails: bool = False) -> None:
        self.thinking, self.may_answer, self.fails = asyncio.Event(), asyncio.Event(), fails

    async def __call__(self, message: UserMessage) -> None:
        self.thinking.set()
        await self.may_answer.wait()
        if self.fails:
            raise ConnectionError("Rasa is restarting (scripted)")
        await message.output_channel.send_response(message.sender_id, {"text": "Bonjour ! Je suis Numécrivain."})


async def resend_during_the_first_answer(bot: SlowGreeter, monkeypatch: pytest.MonkeyPatch,
                                         tmp_path: Path) -> tuple[Any, list[tuple[str, Any]], bool]:
    """A page sends its greeting request and is reloaded before the answer; the new page sends the same copy.
    Returns the copy's receipt, what the new page received, and whether the receipt came before the bot could
    answer."""
    greet = {"message": "/greet", "metadata": {"message_id": "greet-1", "button": True}}
    async with serving_webchat(bot, monkeypatch, tmp_path) as server:
        async with SocketIOClient(server.url) as first_page:
            session = await first_page.start_session(None)
            await first_page.emit("user_uttered", {**greet, "session_id": session})
            await asyncio.wait_for(bot.thinking.wait(), 30)
        async with SocketIOClient(server.url) as reloaded:
            await reloaded.start_session(session)
            copy = await reloaded.emit("user_uttered", {**greet, "session_id": session}, ack=True)
            assert copy is not None
            # Events of one socket are answered in order: once a later one is, a receipt sent at once would be here.
            await reloaded.emit("session_request", {"session_id": session})
            await reloaded.wait_for("session_confirm", count=2)
            early = copy in reloaded.acks
            bot.may_answer.set()
            receipt = await reloaded.wait_ack(copy)
            events = list(reloaded.events)
    return receipt, events, early


async def test_copy_resent_during_a_slow_answer_gets_its_receipt_after_the_reply(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """An early receipt told the reloaded widget the turn was over with nothing said: its next reload greeted again
    (two identical greetings)."""
    receipt, events, early = await resend_during_the_first_answer(SlowGreeter(), monkeypatch, tmp_path)
    assert not early
    assert receipt == [{"handled": True, "duplicate": True}]
    assert [name for name, _ in events] == ["session_confirm", "session_confirm", "bot_uttered"]


async def test_copy_of_a_message_whose_first_answer_failed_is_to_be_sent_again(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    receipt, events, early = await resend_during_the_first_answer(SlowGreeter(fails=True), monkeypatch, tmp_path)
    assert not early
    [ack] = receipt
    assert ack["handled"] is False and ack["error"] == "unavailable"  # the widget sends it again, same id
    assert events[-1][0] == "bot_uttered" and events[-1][1]["text"] == SERVICE_UNAVAILABLE_TEXT  # told first


async def test_too_long_message_gets_a_kind_answer_and_never_reaches_the_bot(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as client:
        await client.start_session(None)
        sent = await client.emit("user_uttered", {"message": "a" * (MAX_MESSAGE_CHARS + 1)}, ack=True)
        assert sent is not None
        (ack,) = await client.wait_ack(sent)
        (reply,) = await client.wait_for("bot_uttered")
    assert ack["too_long"] is True
    assert reply["text"] == TOO_LONG_TEXT
    assert [b["payload"] for b in reply["quick_replies"]] == ["/request_human"]
    assert chat_server.received == []


async def test_agent_message_reaches_the_open_chat_marked_as_a_person(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as client:
        session = await client.start_session(None)
        status, body = await post_agent_message(
            chat_server.url, {"sender_id": sender_of(session), "text": "Bonjour, je suis **Inès**.", "agent": "Inès"}
        )
        (message,) = await client.wait_for("bot_uttered")
    assert (status, body) == (200, {"delivered": True, "online": True})
    assert message["text"] == "Bonjour, je suis **Inès**." and message["from"] == "agent" and message["agent"] == "Inès"
    assert message["parts"] == [{"type": "paragraph", "lines": [
        ["Bonjour, je suis ", {"type": "strong", "children": ["Inès"]}, "."]]}]


@pytest.mark.parametrize("token", [None, "wrong-token"])
async def test_agent_message_without_the_internal_token_is_refused(chat_server: ChatServer, token: str | None) -> None:
    async with SocketIOClient(chat_server.url) as client:
        session = await client.start_session(None)
        status, _ = await post_agent_message(chat_server.url, {"sender_id": sender_of(session), "text": "x",
                                                               "agent": "A"}, token)
        # Relayed messages reach the socket in the order they were posted: the next one proves the first absent.
        await post_agent_message(chat_server.url, {"sender_id": sender_of(session), "text": "suivant", "agent": "A"})
        await client.wait_for("bot_uttered")
        assert [(name, data if name == "session_confirm" else data["text"]) for name, data in client.events] == [
            ("session_confirm", session), ("bot_uttered", "suivant")]
    assert status == 401


@pytest.mark.parametrize(
    "body", [[], {"sender_id": "s"}, {"sender_id": "", "text": "x"}, {"sender_id": "s", "text": 3}]
)
async def test_malformed_agent_message_is_rejected(chat_server: ChatServer, body: object) -> None:
    status, _ = await post_agent_message(chat_server.url, body)
    assert status == 400


def test_seen_messages_forget_the_oldest_beyond_capacity() -> None:
    seen = SeenMessages(capacity=2)
    assert seen.first_time("s", "1") and seen.first_time("s", "2") and not seen.first_time("s", "1")
    assert seen.first_time("s", "3")  # evicts "2", the least recently seen
    assert seen.first_time("s", "2") and not seen.first_time("s", "3")
