"""A portal request stuck in a slow database call must not freeze the others (async all the way)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from bot.db import get_engine
from bot.handoff.accounts import AgentDirectory
from bot.handoff.store import HandoffQueue
from tests.conftest import free_port
from tests.handoff.helpers import fake_rasa, login, portal_settings, running_portal

PASSWORD = "un mot de passe assez long"
SAFETY_NET_SECONDS = 60  # only so that a frozen portal ends the test instead of hanging it


@pytest.fixture
async def portal(tmp_path, monkeypatch) -> AsyncIterator[tuple[str, HandoffQueue]]:
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    database_url = f"sqlite:///{tmp_path / 'portal.db'}"
    AgentDirectory(get_engine(database_url)).create("alice", PASSWORD)
    async with fake_rasa() as rasa, running_portal(portal_settings(rasa.url, database_url, free_port())) as url:
        yield url, HandoffQueue(get_engine(database_url))


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def test_a_request_stuck_in_the_database_does_not_stop_the_others(portal, monkeypatch):
    url, queue = portal
    request = queue.enqueue("web-1", "webchat", [])
    entered, release = threading.Event(), threading.Event()
    real_take = HandoffQueue.take

    def slow_take(self: HandoffQueue, *args: Any, **kwargs: Any) -> Any:
        entered.set()
        release.wait(SAFETY_NET_SECONDS)
        return real_take(self, *args, **kwargs)

    async with client() as agent, client() as visitor:
        _, csrf = await login(agent, url, "alice", PASSWORD)
        monkeypatch.setattr(HandoffQueue, "take", slow_take)
        take = asyncio.create_task(agent.post(f"{url}/agents/api/requests/{request.public_id}/take", json={},
                                              headers={"X-CSRF-Token": csrf}))
        assert await asyncio.to_thread(entered.wait, SAFETY_NET_SECONDS)  # the take is now inside the database
        async with visitor.get(f"{url}/agents/login") as resp:
            assert resp.status == 200 and 'name="csrf"' in await resp.text()
        async with visitor.get(f"{url}/healthz") as resp:
            assert resp.status == 200
        assert not take.done()  # both answered while the take was still waiting for the database
        release.set()
        async with await take as resp:
            assert resp.status == 200 and (await resp.json())["request"]["agent"] == "Alice"
