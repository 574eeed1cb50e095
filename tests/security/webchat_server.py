"""The web chat channel mounted like Rasa mounts it, on a real socket.io server in this process (no model)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from bot.channels.sessions import SENDER_PREFIX
from bot.channels.webchat import WebChatInput
from tests.conftest import free_port

INTERNAL_TOKEN = "test-internal-token"
_apps = itertools.count()


@dataclass
class ChatServer:
    """A running socket.io server with the web chat blueprint; what the bot received."""

    url: str
    channel: WebChatInput
    received: list[UserMessage] = field(default_factory=list)


def sender_of(token: str) -> str:
    """The Rasa conversation id a session token stands for."""
    return f"{SENDER_PREFIX}{token.split('.')[0]}"


@asynccontextmanager
async def serving_app(app: Sanic, port: int) -> AsyncIterator[None]:
    """Run a Sanic app on 127.0.0.1:`port` in this process, as Rasa runs its channels, until the block ends."""
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    assert server is not None
    await server.startup()
    try:
        yield
    finally:
        server.close()
        await server.wait_closed()


@asynccontextmanager
async def serving_webchat(
    bot: Callable[[UserMessage], Awaitable[Any]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
) -> AsyncIterator[ChatServer]:
    """Serve the channel under /webhooks/webchat; rate limits count in a database of their own."""
    monkeypatch.setenv("NUMECRIVAIN_INTERNAL_TOKEN", INTERNAL_TOKEN)
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", f"sqlite:///{tmp_path / 'numecrivain.db'}")
    monkeypatch.setenv("NUMECRIVAIN_RATELIMIT_PEPPER", "test-pepper")
    monkeypatch.setattr(Sanic, "test_mode", True)  # lets Sanic 21.12 start several servers in one process
    port = free_port()
    channel = WebChatInput.from_credentials({"session_persistence": True})
    assert isinstance(channel, WebChatInput)
    running = ChatServer(f"http://127.0.0.1:{port}", channel)

    async def recording_bot(message: UserMessage) -> None:
        running.received.append(message)
        await bot(message)

    app = Sanic(f"webchat_channel_test_{next(_apps)}")
    app.blueprint(channel.blueprint(recording_bot), url_prefix="/webhooks/webchat")
    async with serving_app(app, port):
        yield running
