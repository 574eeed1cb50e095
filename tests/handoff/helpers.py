"""Test doubles for the handoff: a fake Rasa server over real HTTP and a portal started on a free port."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy.future import Engine

from bot.db import get_engine
from bot.handoff.accounts import Agent, AgentDirectory
from bot.service_auth import rasa_api_authorised
from bot.settings import Settings
from tests.conftest import free_port

RASA_TOKEN, INTERNAL_TOKEN = "rasa-test-token-long-enough-for-hs256", "internal-test-token"
FIXED_NOW = datetime(2024, 3, 11, 9, 30)  # a Monday, 10:30 in Lille (naive UTC as stored)


def sqlite_engine(tmp_path: Any, name: str = "handoff.db") -> Engine:
    """A fresh project database in a temporary folder."""
    return get_engine(f"sqlite:///{tmp_path / name}")  # migrated, as in production


def actions_database(tmp_path: Any, monkeypatch: pytest.MonkeyPatch, name: str) -> str:
    """Point the actions at a fresh database, with a service that never closes: opening hours are tested apart."""
    url = f"sqlite:///{tmp_path / name}"
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", url)
    monkeypatch.setenv("NUMECRIVAIN_SERVICE_HOURS", "24/7")
    monkeypatch.setenv("WEB_URL", "http://portal.test")
    return url


def put_an_agent_on_duty(database_url: str) -> None:
    """Alice, available: a request for a person is then queued, not answered 'nobody now'."""
    directory = AgentDirectory(get_engine(database_url))
    directory.set_available(directory.create("alice", "correct horse battery").id, True)


def agent_named(directory: AgentDirectory, name: str) -> Agent:
    """The active agent a test has just created or changed."""
    agent = directory.by_name(name)
    assert agent is not None, f"no active agent {name!r}"
    return agent


@dataclass
class FakeRasa:
    """What the portal sees of Rasa: trackers, appended events, relay routes (webchat and sms push)."""

    events: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    relayed: list[dict[str, Any]] = field(default_factory=list)
    appended: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    down: bool = False
    push_channels: tuple[str, ...] = ("webchat", "sms")
    unsubscribed: set[str] = field(default_factory=set)  # senders who sent STOP (the SMS route answers 409)
    online: set[str] = field(default_factory=set)  # web chat senders whose chat is open now
    url: str = ""

    def app(self) -> web.Application:
        application = web.Application()
        application.router.add_get("/conversations/{sender}/tracker", self._tracker)
        application.router.add_post("/conversations/{sender}/tracker/events", self._append)
        application.router.add_post("/webhooks/{channel}/agent_message", self._relay)
        application.router.add_get("/webhooks/webchat/presence", self._presence)
        return application

    async def _presence(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {INTERNAL_TOKEN}":
            return web.json_response({}, status=401)
        return web.json_response({"online": request.query.get("sender_id") in self.online})

    async def _tracker(self, request: web.Request) -> web.Response:
        if self.down or not rasa_api_authorised(request.headers, RASA_TOKEN):
            return web.json_response({}, status=503 if self.down else 401)
        sender = request.match_info["sender"]
        return web.json_response({"sender_id": sender, "events": self.events.get(sender, [])})

    async def _append(self, request: web.Request) -> web.Response:
        if self.down or not rasa_api_authorised(request.headers, RASA_TOKEN):
            return web.json_response({}, status=503 if self.down else 401)
        sender = request.match_info["sender"]
        body = await request.json()
        self.appended.setdefault(sender, []).extend(body)
        self.events.setdefault(sender, []).extend(body)
        return web.json_response({"sender_id": sender})

    async def _relay(self, request: web.Request) -> web.Response:
        if self.down:
            return web.json_response({}, status=503)
        if request.headers.get("Authorization") != f"Bearer {INTERNAL_TOKEN}":
            return web.json_response({}, status=401)
        if request.match_info["channel"] not in self.push_channels:
            return web.json_response({}, status=404)
        body = await request.json()
        if body.get("sender_id") in self.unsubscribed:
            return web.json_response({"delivered": False}, status=409)
        self.relayed.append({"channel": request.match_info["channel"], **body})
        return web.json_response({"delivered": True})

    def resumed(self, sender: str) -> bool:
        return any(e.get("event") == "resume" for e in self.appended.get(sender, []))


@asynccontextmanager
async def fake_rasa() -> AsyncIterator[FakeRasa]:
    """A FakeRasa listening on a free localhost port."""
    fake = FakeRasa()
    runner = web.AppRunner(fake.app())
    await runner.setup()
    port = free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    fake.url = f"http://127.0.0.1:{port}"
    try:
        yield fake
    finally:
        await runner.cleanup()


def portal_settings(rasa_url: str, database_url: str, web_port: int) -> Settings:
    """Settings of a portal under test (explicit tokens, its own database)."""
    return Settings(
        rasa_url=rasa_url, actions_url="http://127.0.0.1:9", web_url=f"http://127.0.0.1:{web_port}",
        web_port=web_port, database_url=database_url, rasa_api_token=RASA_TOKEN, internal_token=INTERNAL_TOKEN,
    )


@asynccontextmanager
async def running_portal(settings: Settings) -> AsyncIterator[str]:
    """The real portal app (bot.web.app.create_app) serving on settings.web_port; yields its base URL."""
    from sanic import Sanic

    from bot.web.app import create_app

    Sanic.test_mode = True  # lets Sanic 21.12 "touch up" its request handling again for a second app
    app = create_app(settings)
    server = await app.create_server(
        host="127.0.0.1", port=settings.web_port, return_asyncio_server=True, access_log=False
    )
    assert server is not None
    await server.startup()
    app.is_running = True  # as app.run() does: listeners may use app.add_task
    await server.before_start()
    await server.after_start()
    try:
        yield f"http://127.0.0.1:{settings.web_port}"
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await server.after_stop()


CSRF_IN_PAGE = re.compile(r'name="csrf" value="([^"]+)"')


async def login(session: aiohttp.ClientSession, base: str, name: str, password: str) -> tuple[int, str]:
    """Log in through the form like a browser; returns (status, console CSRF token or '')."""
    async with session.get(f"{base}/agents/login") as resp:
        csrf = CSRF_IN_PAGE.search(await resp.text())
        assert csrf is not None, "the login form carries its CSRF token"
        token = csrf.group(1)
    async with session.post(
        f"{base}/agents/login", data={"csrf": token, "name": name, "password": password}, allow_redirects=False
    ) as resp:
        status = resp.status
    if status != 303:
        return status, ""
    async with session.get(f"{base}/agents") as resp:
        page = await resp.text()
    match = re.search(r'id="csrf" data-token="([^"]+)"', page)
    return status, match.group(1) if match else ""
