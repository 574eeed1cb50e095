"""The person's messages and typing reach the agent's console by push (no re-reading of Rasa), and the agent's
typing reaches the web chat: the real portal over HTTP, a stand-in Rasa that counts its tracker reads."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.db import get_engine
from bot.handoff.accounts import AgentDirectory
from bot.handoff.live import TypingGate
from bot.handoff.resident_push import ResidentPush
from bot.handoff.store import HandoffQueue, utcnow
from tests.conftest import free_port
from tests.handoff.helpers import INTERNAL_TOKEN, FakeRasa, login, portal_settings, running_portal

PASSWORD = "un mot de passe pour le direct"


@dataclass
class CountingRasa(FakeRasa):
    """The stand-in Rasa, counting tracker reads and recording the "agent is typing" relays."""

    tracker_reads: int = 0
    typing: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        application = super().app()
        application.router.add_post("/webhooks/webchat/agent_typing", self._agent_typing)
        return application

    async def _tracker(self, request: web.Request) -> web.Response:
        self.tracker_reads += 1
        return await super()._tracker(request)

    async def _agent_typing(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {INTERNAL_TOKEN}":
            return web.json_response({}, status=401)
        self.typing.append(await request.json())
        return web.json_response({"delivered": True})


@asynccontextmanager
async def serving(application: web.Application) -> AsyncIterator[str]:
    runner = web.AppRunner(application)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


class Sse:
    """Reads a server-sent event stream, one named event at a time."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self.response = response

    async def next(self, name: str, matching: Callable[[Any], bool] = lambda _: True, timeout: float = 10) -> Any:
        async def read() -> Any:
            event = None
            async for raw in self.response.content:
                line = raw.decode().rstrip("\n")
                if line.startswith("event: "):
                    event = line[len("event: "):]
                elif line.startswith("data: ") and event == name:
                    data = json.loads(line[len("data: "):])
                    if matching(data):
                        return data
            raise AssertionError(f"stream ended before a {name!r} event")
        return await asyncio.wait_for(read(), timeout)


@pytest.fixture
async def desk(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[dict[str, Any]]:
    """A portal whose safety resync is off, an agent who holds a web chat conversation, a waiting SMS one."""
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    monkeypatch.setenv("NUMECRIVAIN_CONSOLE_RESYNC_SECONDS", "0")  # the person's messages can only come pushed
    database_url = f"sqlite:///{tmp_path / 'live.db'}"
    AgentDirectory(get_engine(database_url)).create("ines.martin", PASSWORD)
    queue = HandoffQueue(get_engine(database_url))
    held = queue.enqueue("web-7", "webchat", [], now=utcnow() - timedelta(minutes=2))
    waiting = queue.enqueue("sms-1", "sms", [])
    rasa = CountingRasa()
    rasa.events["web-7"] = [{"event": "user", "text": "Bonjour, ma demande CAF", "timestamp": time.time() - 90}]
    async with serving(rasa.app()) as rasa_url:
        rasa.url = rasa_url
        settings = portal_settings(rasa_url, database_url, free_port())
        async with running_portal(settings) as url, aiohttp.ClientSession(
                cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            status, csrf = await login(http, url, "ines.martin", PASSWORD)
            assert status == 303
            async with http.post(f"{url}/agents/api/requests/{held.public_id}/take",
                                 headers={"X-CSRF-Token": csrf}) as resp:
                assert resp.status == 200
            yield {"url": url, "http": http, "csrf": csrf, "rasa": rasa, "queue": queue, "held": held,
                   "waiting": waiting}


async def push(url: str, sender: str, body: Any, token: str | None = INTERNAL_TOKEN) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with aiohttp.ClientSession() as http, http.post(f"{url}/internal/handoff/{sender}/resident",
                                                          data=json.dumps(body), headers=headers) as resp:
        return resp.status


async def test_person_message_and_typing_reach_the_open_console_without_reading_rasa_again(desk) -> None:
    url, rasa, held = desk["url"], desk["rasa"], desk["held"]
    async with desk["http"].get(f"{url}/agents/api/requests/{held.public_id}/stream") as resp:
        stream = Sse(resp)
        first = await stream.next("conversation")
        assert [m["text"] for m in first["messages"] if m["role"] == "user"] == ["Bonjour, ma demande CAF"]
        reads = rasa.tracker_reads
        before = desk["queue"].get(held.id).last_activity_at

        assert await push(url, "web-7", {"kind": "typing"}) == 202
        assert await stream.next("typing") == {"active": True, "seconds": 5.0}
        wrote_at = time.time()
        assert await push(url, "web-7", {"kind": "message", "text": "Vous êtes là ?", "timestamp": wrote_at}) == 202
        view = await stream.next("conversation", lambda d: any(m["text"] == "Vous êtes là ?" for m in d["messages"]))
        assert await stream.next("typing") == {"active": False, "seconds": 5.0}  # the message ends "écrit…"

    assert rasa.tracker_reads == reads  # delivered by the push alone: Rasa's tracker was not read again
    assert [m["text"] for m in view["messages"] if m["role"] == "user"] == ["Bonjour, ma demande CAF",
                                                                             "Vous êtes là ?"]
    assert desk["queue"].get(held.id).last_activity_at > before  # the idle timeout knows the person wrote


async def test_agent_typing_reaches_the_web_chat_once_per_two_seconds_and_strangers_are_refused(desk) -> None:
    url, http, csrf, rasa = desk["url"], desk["http"], desk["csrf"], desk["rasa"]
    # The push hook: internal token, a known kind and an open handoff.
    assert await push(url, "web-7", {"kind": "typing"}, token=None) == 401
    assert await push(url, "web-7", {"kind": "typing"}, token="pas-le-bon") == 401
    assert await push(url, "web-7", {"kind": "message", "text": "  "}) == 400
    assert await push(url, "web-7", {"kind": "delete_everything"}) == 400
    assert await push(url, "web-7", ["not", "an", "object"]) == 400
    assert await push(url, "web-7", {"kind": "message", "text": "x" * 20_000}) == 413
    assert await push(url, "web-nobody", {"kind": "typing"}) == 404

    # The agent's typing: the display name only, one signal per 2 s, their own conversation, with a session.
    typing_url = f"{url}/agents/api/requests/{desk['held'].public_id}/typing"
    async with http.post(typing_url, headers={"X-CSRF-Token": csrf}, json={"text": "brouillon"}) as resp:
        assert resp.status == 202 and await resp.json() == {"sent": True}
    assert rasa.typing == [{"sender_id": "web-7", "agent": "Ines"}]  # the display name, no text
    async with http.post(typing_url, headers={"X-CSRF-Token": csrf}) as resp:
        assert resp.status == 429 and "2 secondes" in (await resp.json())["error"]
    async with http.post(typing_url) as resp:
        assert resp.status == 403  # no CSRF token
    async with aiohttp.ClientSession() as stranger, stranger.post(typing_url) as resp:
        assert resp.status == 401  # no agent session
    async with http.post(f"{url}/agents/api/requests/{desk['waiting'].public_id}/typing",
                         headers={"X-CSRF-Token": csrf}) as resp:
        assert resp.status == 409  # not this agent's conversation
    assert len(rasa.typing) == 1


def test_typing_gate_lets_one_signal_through_every_two_seconds_per_conversation() -> None:
    now = [100.0]
    gate = TypingGate(clock=lambda: now[0])
    assert gate.allow("web-1") and gate.allow("web-2")
    now[0] += 1.9
    assert not gate.allow("web-1")
    now[0] += 0.1
    assert gate.allow("web-1")


async def test_broker_pushes_a_stored_person_message_only_during_a_handoff(tmp_path: Any) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'broker.db'}")
    HandoffQueue(engine).enqueue("web-1", "webchat", [])
    received: list[tuple[str, dict[str, Any]]] = []
    arrived = asyncio.Event()

    async def hook(request: web.Request) -> web.Response:
        assert request.headers["Authorization"] == "Bearer secret"
        received.append((request.match_info["sender"], await request.json()))
        arrived.set()
        return web.json_response({}, status=202)

    application = web.Application()
    application.router.add_post("/internal/handoff/{sender}/resident", hook)
    async with serving(application) as portal:
        pusher = ResidentPush(engine, portal_url=portal, internal_token="secret")
        pusher.on_stored_event({"sender_id": "web-2", "event": "user", "text": "pas en relais", "timestamp": 1.0})
        pusher.on_stored_event({"sender_id": "web-1", "event": "bot", "text": "réponse du robot", "timestamp": 2.0})
        pusher.on_stored_event({"sender_id": "web-1", "event": "user", "text": "Toujours là ?", "timestamp": 3.0,
                                "input_channel": "webchat"})
        await asyncio.wait_for(arrived.wait(), 10)
        await asyncio.gather(*pusher._tasks)
        await pusher.close()
    assert received == [("web-1", {"kind": "message", "text": "Toujours là ?", "timestamp": 3.0,
                                   "channel": "webchat"})]
