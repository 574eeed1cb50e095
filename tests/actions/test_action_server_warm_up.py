"""The action server loads the knowledge base and the places before it serves: the first resident after a start
no longer waits for them, and a warm-up that fails never keeps the server from starting."""

from __future__ import annotations

from typing import Any

import pytest
from sanic import Sanic

from bot import action_server
from bot.action_server import create_action_app
from bot.knowledge.loader import get_knowledge_base
from bot.places import search
from tests.handoff.helpers import actions_database
from tests.stack import free_port

SECRET = "w" * 40


async def start_and_stop(monkeypatch: pytest.MonkeyPatch) -> None:
    """What `app.run` does before the port opens (the before_server_start listeners), then stop."""
    monkeypatch.setattr(Sanic, "test_mode", True)  # several apps named "rasa_sdk" may be built in one run
    server = await create_action_app(SECRET).create_server(host="127.0.0.1", port=free_port(),
                                                            return_asyncio_server=True)
    assert server is not None
    await server.startup()
    try:
        await server.before_start()
    finally:
        server.close()
        await server.wait_closed()


async def test_the_knowledge_base_and_the_places_are_loaded_before_serving(
        tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    actions_database(tmp_path, monkeypatch, "warm.db")
    get_knowledge_base.cache_clear()
    search._cached_index.cache_clear()
    monkeypatch.setattr(search, "_checked_at", {})

    await start_and_stop(monkeypatch)

    assert get_knowledge_base.cache_info().currsize == 1
    assert search._cached_index.cache_info().currsize == 1
    assert len(search.get_place_index().places) > 0


async def test_a_failed_warm_up_does_not_stop_the_server(monkeypatch: pytest.MonkeyPatch,
                                                        caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> None:
        raise ConnectionError("database not up yet")

    monkeypatch.setattr(action_server, "warm_up", broken)
    await start_and_stop(monkeypatch)
    assert "warm-up skipped (ConnectionError)" in caplog.text
