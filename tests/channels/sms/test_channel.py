"""The `sms` Rasa input channel over real HTTP: signed webhooks of both gateways, replays, agent relay."""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sanic import Sanic

from bot.channels.sms.channel import SmsInput, parse_received_at
from bot.channels.sms.pseudonym import pseudonymise
from bot.channels.sms.signatures import twilio_signature
from bot.channels.sms.store import SmsStore
from devtools.fake_sms_gateway import android_webhook_body, android_webhook_headers
from tests.channels.sms.fakes import (
    PEPPER,
    PHONE,
    SIGNING_KEY,
    TWILIO_TOKEN,
    RecordingSender,
    ScriptedBot,
    make_config,
    make_store,
)
from tests.conftest import free_port

INTERNAL_TOKEN = "internal-token-for-tests"


@dataclass
class Running:
    url: str
    channel: SmsInput
    bot: ScriptedBot
    sender: RecordingSender
    store: SmsStore
    session: aiohttp.ClientSession

    async def post(self, path: str, **kwargs: Any) -> tuple[int, Any]:
        async with self.session.post(f"{self.url}/webhooks/sms{path}", **kwargs) as response:
            body = await response.text()
        await self.channel.idle()
        try:
            return response.status, json.loads(body)
        except ValueError:
            return response.status, body


@pytest.fixture
async def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    monkeypatch.setattr(Sanic, "test_mode", True)  # lets several apps start in one process (Sanic's touchup)
    bot, sender, store = ScriptedBot(), RecordingSender(), make_store(tmp_path)
    port = free_port()
    config = make_config(public_url="https://numecrivain.example")
    channel = SmsInput(config, store=store, senders={"android": sender, "twilio": sender},
                       internal_token=INTERNAL_TOKEN)
    app = Sanic(f"sms_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/sms")
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    async with aiohttp.ClientSession() as session:
        yield Running(f"http://127.0.0.1:{port}", channel, bot, sender, store, session)
    server.close()
    await server.wait_closed()


def android_request(text: str, phone: str = PHONE, *, key: str = SIGNING_KEY, timestamp: int | None = None,
                    event_id: str | None = None) -> dict[str, Any]:
    body = android_webhook_body(phone, text, event_id=event_id)
    return {"data": body, "headers": android_webhook_headers(key, body, timestamp)}


def twilio_request(text: str, *, token: str = TWILIO_TOKEN, sid: str | None = None) -> dict[str, Any]:
    params = {"From": PHONE, "To": "+33700000000", "Body": text, "MessageSid": sid or f"SM{uuid.uuid4().hex}"}
    signature = twilio_signature(token, "https://numecrivain.example/webhooks/sms/twilio", params)
    return {"data": params, "headers": {"X-Twilio-Signature": signature}}


async def test_signed_android_webhook_is_answered_by_sms(running: Running) -> None:
    status, body = await running.post("/android", **android_request("jai perdu ma cni"))
    assert (status, body) == (200, {"status": "accepted"})
    assert running.bot.texts == ["jai perdu ma cni"]
    assert running.bot.received[0].sender_id == pseudonymise(PHONE, PEPPER)
    assert running.sender.sent[0][0] == PHONE


@pytest.mark.parametrize("case", ["wrong key", "stale", "future", "missing signature", "missing timestamp"])
async def test_bad_android_webhook_gets_401_and_is_not_processed(running: Running, case: str) -> None:
    request = android_request("STOP", key="wrong" if case == "wrong key" else SIGNING_KEY,
                              timestamp={"stale": int(time.time()) - 3600,
                                         "future": int(time.time()) + 3600}.get(case))
    if case == "missing signature":
        del request["headers"]["X-Signature"]
    if case == "missing timestamp":
        del request["headers"]["X-Timestamp"]
    status, _ = await running.post("/android", **request)
    assert status == 401
    assert running.bot.received == [] and running.sender.sent == []
    assert running.store.get_contact(pseudonymise(PHONE, PEPPER)) is None


async def test_tampered_android_body_gets_401(running: Running) -> None:
    request = android_request("bonjour")
    request["data"] = request["data"].replace(b"bonjour", b"STOP")
    status, _ = await running.post("/android", **request)
    assert status == 401 and running.bot.received == []


@pytest.mark.parametrize(("route", "signed_request"), [("/android", android_request), ("/twilio", twilio_request)],
                         ids=["android", "twilio"])
async def test_replayed_webhook_gets_401(running: Running, route: str,
                                         signed_request: Callable[[str], dict[str, Any]]) -> None:
    request = signed_request("bonjour")
    assert (await running.post(route, **request))[0] == 200
    assert (await running.post(route, **request))[0] == 401
    assert running.bot.texts == ["bonjour"]


async def test_gateway_retry_of_the_same_event_is_answered_once(running: Running) -> None:
    first = android_request("bonjour", event_id="evt-1", timestamp=int(time.time()) - 5)
    retry = android_request("bonjour", event_id="evt-1")
    assert await running.post("/android", **first) == (200, {"status": "accepted"})
    assert await running.post("/android", **retry) == (200, {"status": "duplicate"})
    assert running.bot.texts == ["bonjour"]


async def test_other_gateway_events_are_acknowledged_and_ignored(running: Running) -> None:
    body = json.dumps({"event": "sms:delivered", "payload": {"phoneNumber": PHONE}}).encode()
    status, answer = await running.post("/android", data=body, headers=android_webhook_headers(SIGNING_KEY, body))
    assert (status, answer["status"]) == (200, "ignored")
    assert running.bot.received == []


async def test_signed_twilio_webhook_is_answered(running: Running) -> None:
    status, body = await running.post("/twilio", **twilio_request("bonjour"))
    assert status == 200 and "<Response>" in body
    assert running.bot.texts == ["bonjour"]
    contact = running.store.get_contact(pseudonymise(PHONE, PEPPER))
    assert contact is not None and contact.gateway == "twilio"


@pytest.mark.parametrize("case", ["wrong token", "missing", "tampered"])
async def test_bad_twilio_webhook_gets_401_and_is_not_processed(running: Running, case: str) -> None:
    request = twilio_request("bonjour", token="wrong" if case == "wrong token" else TWILIO_TOKEN)
    if case == "missing":
        request["headers"] = {}
    if case == "tampered":
        request["data"]["Body"] = "STOP"
    status, _ = await running.post("/twilio", **request)
    assert status == 401
    assert running.bot.received == [] and running.sender.sent == []


async def test_stop_by_webhook_unsubscribes(running: Running) -> None:
    await running.post("/android", **android_request("bonjour"))
    await running.post("/android", **android_request("STOP"))
    await running.post("/android", **android_request("bonjour"))
    assert running.bot.texts == ["bonjour"]
    assert len(running.sender.sent) == 2 and "START" in running.sender.sent[1][1]


async def test_agent_message_needs_the_internal_token(running: Running) -> None:
    await running.post("/android", **android_request("0"))
    data = json.dumps({"sender_id": pseudonymise(PHONE, PEPPER), "text": "Bonjour", "agent": "Camille"})
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": INTERNAL_TOKEN}):
        status, _ = await running.post("/agent_message", data=data, headers=headers)
        assert status == 401
    assert len(running.sender.sent) == 1


async def test_agent_message_is_delivered_by_sms(running: Running) -> None:
    await running.post("/android", **android_request("0"))
    data = json.dumps({"sender_id": pseudonymise(PHONE, PEPPER), "text": "Bonjour, je m'appelle Camille.",
                       "agent": "Camille", "role": "conseillère"})
    status, body = await running.post("/agent_message", data=data,
                                      headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    assert (status, body) == (200, {"delivered": True})
    assert running.sender.sent[-1] == (PHONE, "Camille (conseillère) : Bonjour, je m'appelle Camille.")


async def test_agent_message_for_unknown_sender_is_404(running: Running) -> None:
    data = json.dumps({"sender_id": "sms-" + "f" * 32, "text": "Bonjour", "agent": "Camille"})
    status, body = await running.post("/agent_message", data=data,
                                      headers={"Authorization": f"Bearer {INTERNAL_TOKEN}"})
    assert (status, body["delivered"]) == (404, False)


async def test_clear_number_is_never_logged(running: Running, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG):
        await running.post("/android", **android_request("bonjour"))
        await running.post("/android", **android_request("bonjour", key="wrong"))
        await running.post("/android", **android_request("STOP"))
    assert caplog.text
    assert PHONE not in caplog.text and "639980001" not in caplog.text


def test_received_at_is_read_as_utc() -> None:
    default = parse_received_at(None, parse_received_at("2026-01-01T00:00:00", None))  # type: ignore[arg-type]
    assert str(parse_received_at("2024-06-22T15:46:11.000+07:00", default)) == "2024-06-22 08:46:11"
    assert parse_received_at("not a date", default) == default
