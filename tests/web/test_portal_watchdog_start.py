"""The portal's start waits for the watchdog's first pass, but a hung pass (Rasa not answering) never holds it."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from bot.handoff.config import HandoffConfig
from bot.web.agents import context


def fake_app() -> Any:
    """What start_desk reads on app.ctx: the settings and the stores (stubs: no database is reached)."""
    settings = SimpleNamespace(rasa_url="http://rasa.test", rasa_api_token="k" * 32, internal_token="t" * 32)
    agents = SimpleNamespace(queue=SimpleNamespace(change_marker=lambda: 0),
                             callbacks=SimpleNamespace(pending_count=lambda: 0),
                             config=HandoffConfig(watchdog_seconds=3600))
    return SimpleNamespace(ctx=SimpleNamespace(settings=settings, agents=agents))


def test_a_hung_first_pass_goes_on_in_the_background_and_the_watch_follows_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        release, passes = asyncio.Event(), []

        async def hung_tick(_desk: Any) -> None:
            passes.append("started")
            await release.wait()
            passes.append("finished")

        monkeypatch.setattr(context, "tick", hung_tick)
        monkeypatch.setattr(context, "FIRST_TICK_SECONDS", 0.01)
        app = fake_app()
        await context.start_desk(app, None)  # returns although the first pass is still running
        assert passes == ["started"]
        assert not app.ctx.handoff_watchdog.done()
        release.set()
        for _ in range(100):  # the background pass ends once released (polling a condition)
            if passes == ["started", "finished"]:
                break
            await asyncio.sleep(0.01)
        assert passes == ["started", "finished"]
        await context.stop_desk(app, None)
        assert app.ctx.handoff_watchdog.cancelled()

    asyncio.run(scenario())


def test_a_quick_first_pass_is_over_before_the_start_returns(monkeypatch: pytest.MonkeyPatch) -> None:
    async def scenario() -> None:
        passes: list[str] = []

        async def quick_tick(_desk: Any) -> None:
            passes.append("done")

        monkeypatch.setattr(context, "tick", quick_tick)
        app = fake_app()
        await context.start_desk(app, None)
        assert passes == ["done"]
        await context.stop_desk(app, None)

    asyncio.run(scenario())
