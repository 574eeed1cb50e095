"""The REST channel, mounted as Rasa mounts it (no model): bounded bodies and messages, typed text, own namespace."""

from __future__ import annotations

import itertools
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels import rest
from bot.channels.inputs import MAX_MESSAGE_CHARS, SLOW_DOWN_TEXT, TOO_LONG_TEXT
from bot.channels.rest import MAX_BODY_BYTES, RestInput
from tests.conftest import free_port
from tests.security.webchat_server import serving_app

_apps = itertools.count()


@dataclass
class RestServer:
    url: str
    received: list[UserMessage] = field(default_factory=list)


@pytest.fixture
async def server(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[RestServer]:
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", f"sqlite:///{tmp_path / 'numecrivain.db'}")
    monkeypatch.setenv("NUMECRIVAIN_RATELIMIT_PEPPER", "test-pepper")
    monkeypatch.setattr(Sanic, "test_mode", True)
    port = free_port()
    running = RestServer(f"http://127.0.0.1:{port}/webhooks/rest/webhook")

    async def bot(message: UserMessage) -> None:
        running.received.append(message)
        await message.output_channel.send_text_message(message.sender_id, f"reçu : {message.text}")

    app = Sanic(f"rest_channel_test_{next(_apps)}")
    app.config.PROXIES_COUNT = 1  # as behind the reverse proxy: X-Forwarded-For names the client
    app.blueprint(RestInput().blueprint(bot), url_prefix="/webhooks/rest")
    async with serving_app(app, port):
        yield running


async def post(url: str, body: object | bytes, **kwargs: object) -> tuple[int, object]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    async with aiohttp.ClientSession() as session, session.post(url, data=data, **kwargs) as response:
        text = await response.text()
        try:
            return response.status, json.loads(text)
        except ValueError:
            return response.status, text


async def test_message_goes_to_a_rest_prefixed_conversation_on_the_rest_channel(server: RestServer) -> None:
    status, answer = await post(server.url, {"sender": "sms-0123", "message": "bonjour", "input_channel": "sms",
                                             "metadata": {"channel": "sms", "location": {"latitude": 1}}})
    assert status == 200
    assert answer == [{"recipient_id": "sms-0123", "text": "reçu : bonjour"}]
    (message,) = server.received
    assert message.sender_id == "rest:sms-0123"
    assert message.input_channel == "rest"
    assert not message.metadata


@pytest.mark.parametrize(
    ("typed", "read_as"),
    [("/restart", "restart"), ('/request_human{"x": 1}', 'request_human{"x": 1}'),
     ('/inform_location{"commune": "1' + " " * 440 + 'x"}', 'inform_location{"commune": "1' + " " * 440 + 'x"}'),
     (" // /help_menu", "help_menu")],
)
async def test_typed_intents_are_plain_text_on_rest(server: RestServer, typed: str, read_as: str) -> None:
    status, _ = await post(server.url, {"sender": "a", "message": typed})
    assert status == 200
    assert server.received[0].text == read_as


async def test_too_long_message_gets_the_kind_answer_without_reaching_the_bot(server: RestServer) -> None:
    status, answer = await post(server.url, {"sender": "a", "message": "x" * (MAX_MESSAGE_CHARS + 1)})
    assert status == 200
    assert answer == [{"recipient_id": "a", "text": TOO_LONG_TEXT,
                       "buttons": [{"title": "Parler à une personne", "payload": "/request_human"}]}]
    assert server.received == []


async def test_message_at_the_limit_is_read(server: RestServer) -> None:
    await post(server.url, {"sender": "a", "message": "x" * MAX_MESSAGE_CHARS})
    text = server.received[0].text
    assert text is not None and len(text) == MAX_MESSAGE_CHARS


async def test_oversized_body_is_refused_with_413_declared_or_chunked(server: RestServer) -> None:
    huge = json.dumps({"sender": "a", "message": "x" * (MAX_BODY_BYTES + 1)}).encode()

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(huge), 4096):
            yield huge[start:start + 4096]

    assert (await post(server.url, huge))[0] == 413
    async with aiohttp.ClientSession() as session, session.post(server.url, data=chunks()) as response:
        assert response.status == 413
    assert server.received == []


@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'"x"', *(json.dumps(body).encode() for body in (
        {"message": "x"}, {"sender": "", "message": "x"}, {"sender": "s" * 65, "message": "x"},
        {"sender": 3, "message": "x"}, {"sender": "a", "message": ["x"]}))],
)
async def test_malformed_requests_get_400_not_500(server: RestServer, body: bytes) -> None:
    status, answer = await post(server.url, body)
    assert status == 400 and isinstance(answer, dict) and answer["error"]
    assert server.received == []


async def test_one_conversation_sending_too_fast_is_slowed_down_in_french(server: RestServer,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rest, "PER_CONVERSATION_LIMIT", 3)
    statuses = [(await post(server.url, {"sender": "pressé", "message": f"question {i}"}))[0] for i in range(6)]
    status, answer = await post(server.url, {"sender": "pressé", "message": "encore"})
    other, _ = await post(server.url, {"sender": "quelqu'un d'autre", "message": "bonjour"})
    # A sliding window across a minute boundary may let one more through (bot.security.ratelimit).
    assert statuses[:3] == [200, 200, 200] and statuses[-1] == 429
    assert status == 429 and answer == [{"recipient_id": "pressé", "text": SLOW_DOWN_TEXT}]
    assert other == 200
    assert len(server.received) == statuses.count(200) + 1


async def test_one_address_sending_too_fast_is_slowed_down(server: RestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rest, "PER_ADDRESS_LIMIT", 4)
    client = {"X-Forwarded-For": "203.0.113.5"}
    statuses = [(await post(server.url, {"sender": f"id-{i}", "message": "bonjour"}, headers=client))[0]
                for i in range(6)]
    other, _ = await post(server.url, {"sender": "id-x", "message": "bonjour"},
                          headers={"X-Forwarded-For": "203.0.113.6"})
    assert statuses[:4] == [200] * 4 and statuses[-1] == 429  # one more may pass across a minute boundary
    assert other == 200


async def test_without_a_trusted_proxy_header_local_peers_are_not_throttled_together(
        server: RestServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rest, "PER_ADDRESS_LIMIT", 2)
    statuses = [(await post(server.url, {"sender": f"id-{i}", "message": "bonjour"}))[0] for i in range(4)]
    assert statuses == [200] * 4
