"""State that several processes must share lives in the project database: a signed SMS webhook replayed to
another Rasa process is refused, and the event broker's copy of the conversations follows their retention."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from pathlib import Path

import aiohttp
import pytest
from sanic import Sanic
from sqlalchemy import func, select
from sqlalchemy.future import Engine

from bot.channels.sms.channel import SmsInput
from bot.channels.sms.store import SmsStore
from bot.conversation_events import conversation_events
from bot.db import make_engine
from bot.event_broker import ProjectEventBroker
from bot.privacy.retention import RetentionPolicy, purge_project
from devtools.fake_sms_gateway import android_webhook_body, android_webhook_headers
from tests.channels.sms.fakes import PHONE, SIGNING_KEY, RecordingSender, ScriptedBot, make_config
from tests.conftest import free_port


@pytest.fixture
async def two_processes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[str]]:
    """Two SMS channels, each with its own engine on one database file, as two Rasa processes have."""
    monkeypatch.setattr(Sanic, "test_mode", True)
    urls, servers = [], []
    for _ in range(2):
        store = SmsStore(make_engine(f"sqlite:///{tmp_path / 'project.db'}"))
        channel = SmsInput(make_config(), store=store, senders={"android": RecordingSender()}, internal_token="t")
        app = Sanic(f"sms_shared_{uuid.uuid4().hex[:8]}")
        app.blueprint(channel.blueprint(ScriptedBot()), url_prefix="/webhooks/sms")
        port = free_port()
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        assert server is not None
        await server.startup()
        urls.append(f"http://127.0.0.1:{port}/webhooks/sms/android")
        servers.append(server)
    yield urls
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_a_webhook_replayed_to_another_process_is_refused(two_processes: list[str]) -> None:
    first, second = two_processes
    body = android_webhook_body(PHONE, "bonjour")
    headers = android_webhook_headers(SIGNING_KEY, body)
    async with aiohttp.ClientSession() as session:
        async with session.post(first, data=body, headers=headers) as response:
            assert response.status == 200
        async with session.post(second, data=body, headers=headers) as response:
            assert response.status == 401
        fresh = android_webhook_body(PHONE, "bonjour")  # a new event is still accepted by the other process
        async with session.post(second, data=fresh, headers=android_webhook_headers(SIGNING_KEY, fresh)) as response:
            assert response.status == 200


def test_broker_events_older_than_the_conversation_retention_are_purged(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'project.db'}"
    broker = ProjectEventBroker(url)
    now = datetime(2026, 12, 2, 12, 0)
    for sender, age in (("old", timedelta(days=31)), ("recent", timedelta(days=29))):
        at = (now - age).replace(tzinfo=timezone.utc).timestamp()  # `now` is naive UTC, as the tables store it
        broker.publish({"sender_id": sender, "event": "user", "timestamp": at, "text": "bonjour"})
    assert broker.flush()
    assert isinstance(broker.engine, Engine)  # the project's engine; Rasa's base class declares a 1.x one
    counts = purge_project(broker.engine, now, RetentionPolicy(conversation_days=30))
    assert counts["conversation_events"] == 1
    with broker.engine.connect() as connection:
        left = connection.execute(select(conversation_events.c.sender_id)).scalars().all()
        assert left == ["recent"]
        assert connection.execute(select(func.count()).select_from(conversation_events)).scalar_one() == 1
