"""While one action waits on a slow database call, the running action server still answers another conversation.

The real action server (rasa-sdk's app with our actions, behind its secret) is served on a free port; the queue's
write is held on a threading.Event, the way a locked database would hold it. Nothing here waits on the clock: the
timeout below only keeps a broken build from hanging (an action blocking the event loop fails the assertions).
"""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest
import yaml
from rasa_sdk import Tracker
from sanic import Sanic

from bot.action_server import create_action_app
from bot.db import get_engine
from bot.handoff.store import HandoffQueue
from bot.paths import PROJECT_ROOT
from bot.service_auth import bearer_header
from tests.handoff.helpers import actions_database, put_an_agent_on_duty
from tests.stack import free_port
from tests.trackers import make_tracker

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
NEVER_REACHED_SECONDS = 60  # only if the test is broken: a blocked event loop shows in the assertions


@pytest.fixture
def database(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """A private project database where an agent is available around the clock."""
    url = actions_database(tmp_path, monkeypatch, "concurrency.db")
    put_an_agent_on_duty(url)
    return url


@asynccontextmanager
async def action_server(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[aiohttp.ClientSession]:
    """Our action server on a free port, and a client that knows its secret (base URL set)."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # several apps named "rasa_sdk" may be built in one run
    secret = secrets.token_urlsafe(32)
    port = free_port()
    before = asyncio.all_tasks()
    server = await create_action_app(secret).create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}", headers=bearer_header(secret)) as session:
            yield session
    finally:
        server.close()
        await server.wait_closed()
        for connection in list(server.connections):
            connection.close_if_idle()
        # The server's connection tasks end before the test's event loop does.
        await asyncio.gather(*(asyncio.all_tasks() - before - {asyncio.current_task()}), return_exceptions=True)


async def call(session: aiohttp.ClientSession, action: str, tracker: Tracker) -> dict[str, Any]:
    """What Rasa posts to run an action, and the server's answer."""
    body = {"next_action": action, "sender_id": tracker.sender_id, "tracker": tracker.current_state(),
            "domain": DOMAIN, "version": "3.6.2"}
    async with session.post("/webhook", json=body) as response:
        assert response.status == 200, await response.text()
        result: dict[str, Any] = await response.json()
        return result


async def test_a_slow_database_call_holds_only_its_own_conversation(database: str,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    inside, release = threading.Event(), threading.Event()
    released_by_the_test: list[bool] = []
    enqueue = HandoffQueue.enqueue

    def slow_enqueue(self: HandoffQueue, *args: Any, **kwargs: Any) -> Any:
        inside.set()
        released_by_the_test.append(release.wait(NEVER_REACHED_SECONDS))
        return enqueue(self, *args, **kwargs)

    monkeypatch.setattr(HandoffQueue, "enqueue", slow_enqueue)
    person = make_tracker("je veux parler à quelqu'un", "request_human", channel="webchat", sender_id="web-slow")
    question = make_tracker("Combien coûte un passeport ?", "procedure_passport", channel="webchat",
                            sender_id="web-other")
    async with action_server(monkeypatch) as session:
        held = asyncio.create_task(call(session, "action_request_human", person))
        assert await asyncio.to_thread(inside.wait, NEVER_REACHED_SECONDS)  # the first action is in the database
        answered = await call(session, "action_answer_procedure", question)
        assert not held.done() and released_by_the_test == []  # answered while the first is still held
        assert "Passeport" in answered["responses"][0]["text"]
        release.set()
        queued = await held
    assert released_by_the_test == [True]
    assert [event["event"] for event in queued["events"]] == ["pause"]
    assert "file d'attente" in queued["responses"][0]["text"]
    assert [r.sender_id for r in HandoffQueue(get_engine(database)).waiting()] == ["web-slow"]
