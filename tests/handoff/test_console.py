"""HandoffDesk against a fake Rasa over real HTTP: relay, resume, watchdog timeouts, Rasa down then back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import aiohttp
import pytest

from bot.handoff.config import HandoffConfig
from bot.handoff.console import HandoffDesk
from bot.handoff.rasa_api import RasaClient
from bot.handoff.store import CLOSED, EXPIRED, FAILED, PUSHED, REFUSED, HandoffQueue, utcnow
from tests.handoff.helpers import INTERNAL_TOKEN, RASA_TOKEN, FakeRasa, fake_rasa, sqlite_engine

CONFIG = HandoffConfig(wait_timeout_minutes=15, idle_timeout_minutes=15)


@pytest.fixture
async def desk(tmp_path) -> AsyncIterator[tuple[HandoffDesk, FakeRasa]]:
    async with fake_rasa() as rasa, aiohttp.ClientSession() as http:
        client = RasaClient(http, rasa.url, RASA_TOKEN, INTERNAL_TOKEN, timeout=2)
        yield HandoffDesk(HandoffQueue(sqlite_engine(tmp_path)), client, CONFIG), rasa


async def test_unanswered_request_expires_with_an_apology_and_the_bot_resumes(desk):
    desk_, rasa = desk
    request = desk_.queue.enqueue("web-1", "webchat", [], now=utcnow() - timedelta(minutes=16))
    counts = await desk_.watchdog_tick()
    assert counts["expired"] == 1 and counts["resumed"] == 1
    assert desk_.queue.get(request.id).status == EXPIRED
    assert rasa.resumed("web-1")
    assert "personne n'a pu vous répondre" in rasa.relayed[-1]["text"]


async def test_idle_conversation_is_closed_and_given_back_to_the_bot(desk):
    desk_, rasa = desk
    request = desk_.queue.enqueue("web-1", "webchat", [])
    desk_.queue.take(request.id, "alice", now=utcnow() - timedelta(minutes=20))
    await desk_.watchdog_tick()
    assert desk_.queue.get(request.id).status == CLOSED and rasa.resumed("web-1")


async def test_recent_requests_are_left_waiting(desk):
    desk_, rasa = desk
    request = desk_.queue.enqueue("web-1", "webchat", [])
    assert await desk_.watchdog_tick() == {"expired": 0, "resumed": 0, "redelivered": 0,
                                           "unconfirmed_numbers_deleted": 0}
    assert desk_.queue.get(request.id).status == "waiting" and not rasa.appended


async def test_message_written_while_rasa_is_down_is_kept_and_delivered_later(desk):
    desk_, rasa = desk
    request = desk_.queue.enqueue("sms-1", "sms", [])
    desk_.queue.take(request.id, "alice")
    rasa.down = True
    message = await desk_.reply(request.id, "alice", "Je vous rappelle dans 5 minutes.")
    assert message.delivery == FAILED and rasa.relayed == []
    rasa.down = False
    counts = await desk_.watchdog_tick()
    assert counts["redelivered"] == 1
    assert desk_.queue.message(message.id).delivery == PUSHED
    assert rasa.relayed[0]["text"] == "Je vous rappelle dans 5 minutes." and rasa.relayed[0]["channel"] == "sms"


async def test_close_while_rasa_is_down_resumes_once_rasa_is_back(desk):
    desk_, rasa = desk
    request = desk_.queue.enqueue("web-1", "webchat", [])
    desk_.queue.take(request.id, "alice")
    rasa.down = True
    closed = await desk_.close(request.id, "alice")
    assert closed.status == CLOSED and closed.resumed_at is None
    rasa.down = False
    await desk_.watchdog_tick()
    assert desk_.queue.get(request.id).resumed_at is not None and rasa.resumed("web-1")
    goodbyes = [r for r in rasa.relayed if "a terminé la conversation" in r["text"]]
    assert len(goodbyes) == 1
    await desk_.watchdog_tick()
    assert len([r for r in rasa.relayed if "a terminé la conversation" in r["text"]]) == 1


async def test_transcript_falls_back_to_the_copy_when_rasa_is_down(desk):
    desk_, rasa = desk
    request = desk_.queue.enqueue("web-1", "webchat", [{"role": "user", "text": "aidez-moi", "timestamp": 1.0}])
    rasa.down = True
    view = await desk_.transcript(request)
    assert view["live"] is False and [m["text"] for m in view["messages"]] == ["aidez-moi"]


async def test_channel_without_relay_route_keeps_the_message_in_the_outbox(desk):
    desk_, rasa = desk
    request = desk_.queue.enqueue("x-1", "telegram", [])
    desk_.queue.take(request.id, "alice")
    message = await desk_.reply(request.id, "alice", "Bonjour")
    assert message.delivery == "outbox" and rasa.relayed == []


async def test_message_to_someone_who_sent_stop_is_refused_and_never_retried(desk):
    desk_, rasa = desk
    request = desk_.queue.enqueue("sms-stop", "sms", [])
    desk_.queue.take(request.id, "alice")
    rasa.unsubscribed.add("sms-stop")
    message = await desk_.reply(request.id, "alice", "Bonjour, je suis là.")
    assert message.delivery == REFUSED and rasa.relayed == []
    assert (await desk_.watchdog_tick())["redelivered"] == 0
