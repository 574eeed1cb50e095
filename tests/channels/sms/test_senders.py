"""Outgoing SMS through the fake gateway's copies of the real APIs: retries, backoff, no blocking."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer

from bot.channels.sms.config import AndroidGatewayConfig, TwilioConfig
from bot.channels.sms.senders import AndroidGatewaySender, SendError, TwilioSender
from devtools.fake_sms_gateway import FakeGateway


@pytest.fixture
async def gateway() -> AsyncIterator[tuple[FakeGateway, str]]:
    fake = FakeGateway(username="numecrivain", password="secret")
    server = TestServer(fake.app(), host="127.0.0.1")
    await server.start_server()
    yield fake, str(server.make_url("")).rstrip("/")
    await server.close()


def android(url: str, password: str = "secret", **kwargs: float) -> AndroidGatewaySender:
    return AndroidGatewaySender(AndroidGatewayConfig(url, "numecrivain", password, "k"), **kwargs)  # type: ignore[arg-type]


async def test_android_api_receives_text_message_and_numbers(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    sender = android(url)
    await sender.send("+33639980001", "Bonjour")
    await sender.close()
    assert [(s.to, s.text, s.api, s.gsm7) for s in fake.sent] == [("+33639980001", "Bonjour", "android", True)]


async def test_wrong_credentials_fail_without_retrying(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    sender = android(url, password="wrong", attempts=4, backoff_seconds=5)
    started = time.monotonic()
    with pytest.raises(SendError, match="401"):
        await sender.send("+33639980001", "Bonjour")
    await sender.close()
    assert time.monotonic() - started < 2
    assert fake.sent == []


async def test_temporary_failures_are_retried_with_backoff(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    fake.fail_next = 2
    sender = android(url, attempts=4, backoff_seconds=0.05)
    started = time.monotonic()
    await sender.send("+33639980001", "Bonjour")
    await sender.close()
    assert time.monotonic() - started >= 0.05 + 0.1
    assert len(fake.sent) == 1


async def test_gives_up_after_the_last_attempt(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    fake.fail_next = 10
    sender = android(url, attempts=3, backoff_seconds=0.01)
    with pytest.raises(SendError, match="503"):
        await sender.send("+33639980001", "Bonjour")
    await sender.close()
    assert fake.fail_next == 7


async def test_unreachable_gateway_raises_send_error() -> None:
    sender = android("http://127.0.0.1:9", attempts=2, backoff_seconds=0.01)
    with pytest.raises(SendError):
        await sender.send("+33639980001", "Bonjour")
    await sender.close()


async def test_backoff_does_not_block_the_event_loop(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    fake.fail_next = 2
    sender = android(url, attempts=3, backoff_seconds=0.2)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.01)
            ticks += 1

    task = asyncio.create_task(ticker())
    await sender.send("+33639980001", "Bonjour")
    task.cancel()
    await sender.close()
    assert ticks >= 30  # the loop kept running during the 0.6 s of backoff


async def test_twilio_api_receives_to_from_body(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    sender = TwilioSender(TwilioConfig("AC123", "token", "+33700000000", url))
    await sender.send("+33639980001", "Bonjour")
    await sender.close()
    assert [(s.to, s.text, s.api) for s in fake.sent] == [("+33639980001", "Bonjour", "twilio")]
