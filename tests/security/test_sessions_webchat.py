"""Web chat sessions belong to one person: issued and signed by the server, bound to the socket, expiring."""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage

from bot.channels import webchat
from bot.channels.inputs import SLOW_DOWN_TEXT
from bot.channels.sessions import SESSION_TTL_SECONDS, SessionSigner
from bot.channels.webchat import MAX_FRAME_BYTES
from bot.handoff.transcript import SYSTEM_AUTHOR
from bot.security import ratelimit
from tests.security.webchat_server import INTERNAL_TOKEN, ChatServer, sender_of, serving_webchat
from tests.web.socketio_client import SocketIOClient


async def echo_bot(message: UserMessage) -> None:
    await message.output_channel.send_response(message.sender_id, {"text": f"reçu : {message.text}"})


@pytest.fixture
async def chat_server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[ChatServer]:
    async with serving_webchat(echo_bot, monkeypatch, tmp_path) as running:
        yield running


async def say(client: SocketIOClient, text: str, **extra: object) -> dict:
    ack = await client.emit("user_uttered", {"message": text, **extra}, ack=True)
    assert ack is not None
    (answer,) = await client.wait_ack(ack)
    return answer


async def relay(url: str, sender_id: str, text: str, agent: str = "Inès") -> tuple[int, dict]:
    body = {"sender_id": sender_id, "text": text, "agent": agent}
    async with aiohttp.ClientSession() as session, session.post(
        f"{url}/webhooks/webchat/agent_message", data=json.dumps(body),
        headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"},
    ) as response:
        return response.status, await response.json()


def test_signed_token_renews_its_conversation_and_refuses_tampering() -> None:
    signer = SessionSigner(b"secret")
    session = signer.issue(now=1000)
    renewed = signer.renew(session, now=2000)
    assert renewed.sender_id == session.sender_id and renewed.expires_at > session.expires_at
    assert signer.verify(session.token, now=1001) == session
    conversation, expires, signature = session.token.split(".")
    assert signer.verify(f"{conversation}.{int(expires) + 10_000}.{signature}", now=1001) is None
    assert signer.verify(f"{'0' * 32}.{expires}.{signature}", now=1001) is None
    assert SessionSigner(b"other secret").verify(session.token, now=1001) is None
    assert signer.verify(session.token, now=1000 + SESSION_TTL_SECONDS + 1) is None
    assert signer.verify(conversation, now=1001) is None


async def test_forged_or_bare_conversation_id_opens_a_new_conversation(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as victim:
        token = await victim.start_session(None)
        await say(victim, "mon numéro fiscal")
    conversation, expires, _ = token.split(".")
    for forged in (conversation, f"{conversation}.{expires}.{'0' * 64}", sender_of(token)):
        async with SocketIOClient(chat_server.url) as attacker:
            given = await attacker.start_session(forged)
            await say(attacker, "je suis la même personne")
        assert sender_of(given) != sender_of(token)
    assert [m.sender_id for m in chat_server.received].count(sender_of(token)) == 1


async def test_expired_token_opens_a_new_conversation(chat_server: ChatServer) -> None:
    signer = chat_server.channel.signer
    assert signer is not None
    old = signer.issue(now=time.time() - SESSION_TTL_SECONDS - 60)
    async with SocketIOClient(chat_server.url) as client:
        given = await client.start_session(old.token)
    assert sender_of(given) != old.sender_id


async def test_message_goes_to_the_socket_s_own_session_whatever_it_claims(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as victim, SocketIOClient(chat_server.url) as attacker:
        victim_token = await victim.start_session(None)
        attacker_token = await attacker.start_session(None)
        await say(attacker, "écrit à la place d'un autre", session_id=victim_token)
        # The attacker's message was handled (acknowledged): a reply sent to the victim would reach the
        # victim's socket before the answer to the victim's own next message.
        await say(victim, "ma propre question")
        replies = await victim.wait_for("bot_uttered")
        assert [data["text"] for name, data in victim.events if name == "bot_uttered"] == [
            "reçu : ma propre question"] == [reply["text"] for reply in replies]
    assert [m.sender_id for m in chat_server.received] == [sender_of(attacker_token), sender_of(victim_token)]


async def test_socket_without_a_session_is_not_heard(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as client:
        answer = await say(client, "bonjour", session_id="anything")
    assert answer == {"handled": False, "error": "no_session"}
    assert chat_server.received == []


async def test_agent_words_reach_only_the_socket_holding_the_signed_session(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as person, SocketIOClient(chat_server.url) as other:
        token = await person.start_session(None)
        await other.start_session(token.split(".")[0])  # knows the id, not the signature
        status, _ = await relay(chat_server.url, sender_of(token), "Bonjour, ici Inès.")
        (message,) = await person.wait_for("bot_uttered")
        # Relayed messages are emitted in the order they are posted: the next one, meant for the other
        # socket's own conversation, arrives after anything the first one could have sent it.
        other_token = next(data for name, data in other.events if name == "session_confirm")
        await relay(chat_server.url, sender_of(other_token), "pour l'autre")
        await other.wait_for("bot_uttered")
        assert [data["text"] for name, data in other.events if name == "bot_uttered"] == ["pour l'autre"]
    assert status == 200 and message["text"] == "Bonjour, ici Inès."
    assert "handoff_ended" not in message


async def test_bot_closing_words_tell_the_widget_the_handoff_ended(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as person:
        token = await person.start_session(None)
        await relay(chat_server.url, sender_of(token), "Vous reparlez avec Numécrivain.", SYSTEM_AUTHOR)
        (message,) = await person.wait_for("bot_uttered")
    assert message["handoff_ended"] is True


async def test_oversized_frame_closes_the_connection_unread(chat_server: ChatServer) -> None:
    async with SocketIOClient(chat_server.url) as client:
        await client.start_session(None)
        await client.emit("user_uttered", {"message": "x" * (MAX_FRAME_BYTES + 10)})
        await client.wait_closed()
    assert chat_server.received == []


async def test_conversation_sending_too_fast_is_slowed_down_in_french(chat_server: ChatServer,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(webchat, "MESSAGES_PER_CONVERSATION", 2)
    # The limiter's clock stands still at the start of a window: no minute boundary can let one more through.
    monkeypatch.setattr(ratelimit, "time", SimpleNamespace(time=lambda: 1_800_000_000.0))
    async with SocketIOClient(chat_server.url) as client:
        await client.start_session(None)
        answers = [await say(client, f"question {i}") for i in range(4)]
        replies = await client.wait_for("bot_uttered", count=4)
    assert [answer["handled"] for answer in answers] == [True, True, False, False]
    assert {answer.get("error") for answer in answers[2:]} == {"rate_limited"}
    assert [reply["text"] for reply in replies[2:]] == [SLOW_DOWN_TEXT, SLOW_DOWN_TEXT]
    assert [m.text for m in chat_server.received] == ["question 0", "question 1"]
