"""The handoff watchdog: a task of the portal that expires, resumes and redelivers on its own."""

from __future__ import annotations

import asyncio
import logging

from bot.handoff.config import HandoffConfig
from bot.handoff.console import HandoffDesk

logger = logging.getLogger(__name__)


async def tick(desk: HandoffDesk) -> None:
    """Expire, resume, redeliver once (see HandoffDesk.watchdog_tick); a failure is logged, never raised."""
    try:
        counts = await desk.watchdog_tick()
        if any(counts.values()):
            logger.info("Handoff watchdog: %s", counts)
    except asyncio.CancelledError:
        raise
    except Exception:  # the watchdog must survive a database or network hiccup
        logger.exception("Handoff watchdog tick failed; retrying.")


async def watch(desk: HandoffDesk, config: HandoffConfig, after: asyncio.Task[None] | None = None) -> None:
    """After the first tick (started at start-up, `after`): one tick every few seconds."""
    if after is not None:
        await after
    while True:
        await asyncio.sleep(config.watchdog_seconds)
        await tick(desk)
