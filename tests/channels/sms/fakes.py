"""Test doubles for the SMS channel: a scripted bot, a recording sender, a fixed clock."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.sms.channel import SmsInput
from bot.channels.sms.config import AndroidGatewayConfig, SmsConfig, TwilioConfig
from bot.channels.sms.senders import SendError
from bot.channels.sms.service import SmsService
from bot.channels.sms.store import SmsStore
from bot.db import make_engine
from devtools.fake_sms_gateway import android_webhook_body, android_webhook_headers
from tests.stack import free_port

PHONE = "+33639980001"
PEPPER = "pepper-for-tests"
SIGNING_KEY = "signing-key-for-tests"
TWILIO_TOKEN = "twilio-token-for-tests"


def make_config(**overrides: Any) -> SmsConfig:
    """A channel configuration with test secrets and no coalescing delay."""
    values: dict[str, Any] = dict(
        android=AndroidGatewayConfig("http://127.0.0.1:1", "numecrivain", "", SIGNING_KEY),
        twilio=TwilioConfig("AC123", TWILIO_TOKEN, "+33700000000", "http://127.0.0.1:1"),
        pepper=PEPPER,
        coalesce_seconds=0,
    )
    values.update(overrides)
    return SmsConfig(**values)


def make_store(tmp_path: Path) -> SmsStore:
    """The SMS tables in a fresh SQLite file."""
    return SmsStore(make_engine(f"sqlite:///{tmp_path / 'sms.db'}"))


@dataclass
class Clock:
    """A clock the test moves by hand."""

    now: datetime = datetime(2026, 3, 10, 9, 0, 0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RecordingSender:
    """Records SMS instead of sending them; can be told to fail."""

    name: str = "android"
    sent: list[tuple[str, str]] = field(default_factory=list)
    failing: bool = False

    async def send(self, phone: str, text: str) -> None:
        if self.failing:
            raise SendError("gateway down")
        self.sent.append((phone, text))

    async def close(self) -> None:
        return None

    @property
    def texts(self) -> list[str]:
        return [text for _, text in self.sent]


LONG_TEXT = " ".join(f"Phrase numéro {i} de la réponse." for i in range(40))


@dataclass
class ScriptedBot:
    """Stands for Rasa: answers a few payloads and records every message it receives."""

    received: list[UserMessage] = field(default_factory=list)
    silent: bool = False

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.silent:
            return
        out = message.output_channel
        text = message.text or ""
        if text == "/help_menu":
            await out.send_response(message.sender_id, {"text": "Choisissez un sujet.", "buttons": [
                {"title": "Carte d'identité", "payload": "/procedure_identity_card"},
                {"title": "Passeport", "payload": "/procedure_passport"},
                {"title": "Parler à une personne", "payload": "/request_human"}]})
        elif text == "/request_human":
            await out.send_response(message.sender_id, {"text": "Une personne va vous répondre par SMS."})
        elif text == "long":
            await out.send_response(message.sender_id, {"text": LONG_TEXT, "buttons": []})
        else:
            await out.send_response(message.sender_id, {"text": f"Réponse à : {text}"})

    @property
    def texts(self) -> list[str]:
        return [m.text or "" for m in self.received]


# Fixtures of an SMS service wired to the fakes above (import them by name in a test module).
@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def bot() -> ScriptedBot:
    return ScriptedBot()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def service(tmp_path: Path, bot: ScriptedBot, sender: RecordingSender, clock: Clock) -> SmsService:
    return SmsService(make_config(), make_store(tmp_path), {"android": sender}, bot, clock)


@dataclass
class ServedSms:
    """An SMS channel served over real HTTP, and the session that plays the gateway."""

    url: str
    channel: SmsInput
    session: aiohttp.ClientSession

    async def resident_writes(self, text: str, phone: str = PHONE) -> None:
        """A signed Android-gateway webhook for one SMS, then wait until the channel has handled it."""
        body = android_webhook_body(phone, text, event_id=uuid.uuid4().hex)
        async with self.session.post(f"{self.url}/webhooks/sms/android", data=body,
                                     headers=android_webhook_headers(SIGNING_KEY, body)) as response:
            assert response.status == 200
        await self.channel.idle()


@asynccontextmanager
async def serving_sms_channel(channel: SmsInput, bot: Any) -> AsyncIterator[ServedSms]:
    """The channel's blueprint on a free port (Sanic.test_mode must be set, so several apps can start)."""
    app = Sanic(f"sms_served_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/sms")
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    try:
        async with aiohttp.ClientSession() as session:
            yield ServedSms(f"http://127.0.0.1:{port}", channel, session)
    finally:
        server.close()
        await server.wait_closed()
