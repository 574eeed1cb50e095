"""What every route of the agents' desk shares: the stores, the settings, the desk and the live hub.

Built once by `register` and kept on app.ctx, so the route modules hold plain functions, not closures.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from sanic import Sanic
from sanic.request import Request
from sqlalchemy.future import Engine

from bot.db import get_engine
from bot.handoff.accounts import AgentDirectory
from bot.handoff.callbacks import CallbackBook
from bot.handoff.config import HandoffConfig, get_handoff_config
from bot.handoff.console import HandoffDesk
from bot.handoff.live import ConsoleHub, TypingGate
from bot.handoff.rasa_api import RasaClient
from bot.handoff.sessions import SessionStore
from bot.handoff.store import HandoffQueue
from bot.handoff.survey import SurveyBook
from bot.handoff.tools import DeskTools
from bot.web.agents.throttle import LoginThrottle
from bot.web.agents.watchdog import tick, watch

logger = logging.getLogger(__name__)
FIRST_TICK_SECONDS = 10.0  # longer than one Rasa call's timeout (5 s): a hung Rasa delays the start this much at most


@dataclass
class AgentsContext:
    """The stores of the handoff, opened on the portal's database."""

    config: HandoffConfig
    engine: Engine
    queue: HandoffQueue
    directory: AgentDirectory
    sessions: SessionStore
    callbacks: CallbackBook
    throttle: LoginThrottle
    tools: DeskTools
    surveys: SurveyBook
    typing_gate: TypingGate = field(default_factory=TypingGate)  # per agent and conversation

    @classmethod
    def open(cls, database_url: str) -> AgentsContext:
        """Every store on one engine (the shared database of the portal processes)."""
        config = get_handoff_config()
        engine = get_engine(database_url)
        return cls(config=config, engine=engine, queue=HandoffQueue(engine), directory=AgentDirectory(engine),
                   sessions=SessionStore(engine, config.session_hours, config.session_idle_minutes),
                   callbacks=CallbackBook(engine), throttle=LoginThrottle(engine), tools=DeskTools(engine),
                   surveys=SurveyBook(engine))


def agents_of(request: Request) -> AgentsContext:
    """The stores of this portal."""
    context: AgentsContext = request.app.ctx.agents
    return context


def desk_of(request: Request) -> HandoffDesk:
    """The desk (queue + Rasa client), started with the server."""
    desk: HandoffDesk = request.app.ctx.handoff_desk
    return desk


def hub_of(request: Request) -> ConsoleHub:
    """The hub that wakes the live streams when something changes."""
    hub: ConsoleHub = request.app.ctx.console_hub
    return hub


async def start_desk(app: Sanic, _loop: Any) -> None:
    """After start: the Rasa client, the desk, the live hub and the watchdog (its first tick awaited)."""
    settings, agents = app.ctx.settings, app.ctx.agents
    app.ctx.handoff_http = aiohttp.ClientSession()
    client = RasaClient(app.ctx.handoff_http, settings.rasa_url, settings.rasa_api_token, settings.internal_token)
    app.ctx.handoff_desk = HandoffDesk(agents.queue, client, agents.config)
    app.ctx.console_hub = ConsoleHub(lambda: (agents.queue.change_marker(), agents.callbacks.pending_count()))
    app.ctx.console_hub.start()
    # The first tick is over before the server counts as started: what a previous run left stuck is dealt with
    # before anyone relies on the queue (and tests know the watchdog will not act behind their back). A Rasa that
    # hangs must not hold the start: past FIRST_TICK_SECONDS the tick goes on in the background.
    loop = asyncio.get_running_loop()
    first = loop.create_task(tick(app.ctx.handoff_desk))
    done, _ = await asyncio.wait({first}, timeout=FIRST_TICK_SECONDS)
    if not done:
        logger.warning("Handoff watchdog: the first pass is slow (Rasa or the database); it goes on in the background.")
    app.ctx.handoff_watchdog = loop.create_task(watch(app.ctx.handoff_desk, agents.config, after=first))


async def stop_desk(app: Sanic, _loop: Any) -> None:
    """Before stop: the hub, the watchdog, then the HTTP client they use."""
    await app.ctx.console_hub.stop()
    app.ctx.handoff_watchdog.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await app.ctx.handoff_watchdog
    await app.ctx.handoff_http.close()
