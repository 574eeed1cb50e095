"""« … écrit… » through the real web chat channel (socket.io server in this process, no model): the person's typing
goes to the portal's hook (the fact, never the text), rate-limited and refused without a session; the agent's
typing reaches the person's chat."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from rasa.core.channels.channel import UserMessage

from tests.conftest import free_port
from tests.security.webchat_server import INTERNAL_TOKEN, ChatServer, sender_of, serving_webchat
from tests.web.socketio_client import SocketIOClient


async def silent_bot(_: UserMessage) -> None:
    """The conversation is with a person: the bot says nothing."""


@pytest.fixture
async def portal(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[list[tuple[str, Any]]]:
    """A stand-in for the portal's internal hook: records what the channel pushes."""
    pushed: list[tuple[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {INTERNAL_TOKEN}":
            return web.json_response({}, status=401)
        pushed.append((request.match_info["sender"], await request.json()))
        return web.json_response({"delivered": True}, status=202)

    application = web.Application()
    application.router.add_post("/internal/handoff/{sender}/resident", hook)
    runner = web.AppRunner(application)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    monkeypatch.setenv("WEB_URL", f"http://127.0.0.1:{port}")
    yield pushed
    await runner.cleanup()


@pytest.fixture
async def chat_server(portal: list[Any], monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AsyncIterator[ChatServer]:
    async with serving_webchat(silent_bot, monkeypatch, tmp_path) as running:
        yield running


async def acknowledged(client: SocketIOClient, event: str, data: Any) -> Any:
    """Emit an event and return the server's acknowledgement."""
    ack_id = await client.emit(event, data, ack=True)
    assert ack_id is not None
    return await client.wait_ack(ack_id, timeout=10)


async def test_person_typing_reaches_the_portal_once_per_two_seconds_and_never_its_text(
        chat_server: ChatServer, portal: list[tuple[str, Any]]) -> None:
    async with SocketIOClient(chat_server.url) as client:
        refused = await acknowledged(client, "typing", {"text": "brouillon"})
        assert refused == [{"sent": False, "error": "no_session"}]
        token = await client.start_session(None)
        first = await acknowledged(client, "typing", {"text": "brouillon"})
        again = await acknowledged(client, "typing", {})
    assert first == [{"sent": True}]
    assert again == [{"sent": False, "error": "rate_limited"}]
    assert portal == [(sender_of(token), {"kind": "typing"})]  # only the fact: the draft never leaves the page


async def test_agent_typing_shows_in_the_person_chat_and_needs_the_internal_token(chat_server: ChatServer) -> None:
    url = f"{chat_server.url}/webhooks/webchat/agent_typing"
    async with SocketIOClient(chat_server.url) as client:
        token = await client.start_session(None)
        body = json.dumps({"sender_id": sender_of(token), "agent": "Inès"})
        async with aiohttp.ClientSession() as http:
            async with http.post(url, data=body) as resp:
                assert resp.status == 401
            bad = {"Authorization": f"Bearer {INTERNAL_TOKEN}"}
            async with http.post(url, data=json.dumps({"sender_id": sender_of(token)}), headers=bad) as resp:
                assert resp.status == 400
            async with http.post(url, data=body, headers=bad) as resp:
                assert resp.status == 200
        (shown,) = await client.wait_for("agent_typing", timeout=10)
    assert shown == {"agent": "Inès"}
