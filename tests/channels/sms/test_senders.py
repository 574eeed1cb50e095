"""Outgoing SMS through the fake gateway's copies of the real APIs: retries, backoff, no blocking."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

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


def android(url: str, password: str = "secret", **kwargs: object) -> AndroidGatewaySender:
    return AndroidGatewaySender(AndroidGatewayConfig(url, "numecrivain", password, "k"), **kwargs)


class RecordedBackoff:
    """Stands for asyncio.sleep in the sender: records each backoff instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the event loop until the condition holds (bounded by the caller's wait_for)."""
    while not condition():
        await asyncio.sleep(0.01)


async def test_android_api_receives_text_message_and_numbers(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    sender = android(url)
    await sender.send("+33639980001", "Bonjour")
    await sender.close()
    assert [(s.to, s.text, s.api, s.gsm7) for s in fake.sent] == [("+33639980001", "Bonjour", "android", True)]


async def test_wrong_credentials_fail_without_retrying(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    backoff = RecordedBackoff()
    sender = android(url, password="wrong", attempts=4, backoff_seconds=5, sleep=backoff)
    with pytest.raises(SendError, match="401"):
        await sender.send("+33639980001", "Bonjour")
    await sender.close()
    assert backoff.delays == []  # no second attempt, so no wait
    assert fake.sent == []


async def test_temporary_failures_are_retried_with_backoff(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    fake.fail_next = 2
    backoff = RecordedBackoff()
    sender = android(url, attempts=4, backoff_seconds=0.5, sleep=backoff)
    await sender.send("+33639980001", "Bonjour")
    await sender.close()
    assert backoff.delays == [0.5, 1.0]  # exponential: doubled after each failure
    assert len(fake.sent) == 1


async def test_gives_up_after_the_last_attempt(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    fake.fail_next = 10
    backoff = RecordedBackoff()
    sender = android(url, attempts=3, backoff_seconds=0.5, sleep=backoff)
    with pytest.raises(SendError, match="503"):
        await sender.send("+33639980001", "Bonjour")
    await sender.close()
    assert fake.fail_next == 7
    assert backoff.delays == [0.5, 1.0]  # no wait after the last attempt


async def test_unreachable_gateway_raises_send_error() -> None:
    sender = android("http://127.0.0.1:9", attempts=2, backoff_seconds=0.5, sleep=RecordedBackoff())
    with pytest.raises(SendError):
        await sender.send("+33639980001", "Bonjour")
    await sender.close()


async def test_backoff_waits_without_blocking_the_event_loop(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    fake.fail_next = 1
    sender = android(url, attempts=2, backoff_seconds=600)  # the real asyncio wait, far longer than the test
    sending = asyncio.create_task(sender.send("+33639980001", "Bonjour"))
    await asyncio.wait_for(until(lambda: fake.fail_next == 0), timeout=10)  # first attempt refused
    await asyncio.sleep(0)
    assert not sending.done()  # the sender is in its backoff, and this test keeps running meanwhile
    sending.cancel()  # a blocking wait could not be cancelled: the loop would be stuck in it
    with pytest.raises(asyncio.CancelledError):
        await sending
    await sender.close()
    assert fake.sent == []


async def test_twilio_api_receives_to_from_body(gateway: tuple[FakeGateway, str]) -> None:
    fake, url = gateway
    sender = TwilioSender(TwilioConfig("AC123", "token", "+33700000000", url))
    await sender.send("+33639980001", "Bonjour")
    await sender.close()
    assert [(s.to, s.text, s.api) for s in fake.sent] == [("+33639980001", "Bonjour", "twilio")]
