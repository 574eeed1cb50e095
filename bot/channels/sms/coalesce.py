"""Join SMS that arrive in several parts or out of order before the bot reads them."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

logger = logging.getLogger(__name__)

# A part this long filled a whole segment: the next part continues the same word (no space added).
FULL_SEGMENT_LENGTHS = frozenset({153, 160, 67, 70})


@dataclass(frozen=True, order=True)
class InboundSms:
    """One received SMS, as the gateway reported it."""

    received_at: datetime
    text: str = field(compare=False)
    phone: str = field(compare=False, repr=False)
    gateway: str = field(compare=False)
    message_id: str = field(default="", compare=False)


def join_parts(parts: list[InboundSms]) -> str:
    """The text of parts in the order they were written (receivedAt), split segments rejoined."""
    text, previous = "", ""
    for part in sorted(parts):
        if not text:
            text = part.text
        elif len(previous) in FULL_SEGMENT_LENGTHS:
            text += part.text  # the previous part filled a segment: same sentence, maybe same word
        else:
            text = text.rstrip() + " " + part.text.lstrip()
        previous = part.text
    return " ".join(text.split())


class Coalescer:
    """Waits `window` seconds after each part of a conversation, then hands over the joined text once."""

    def __init__(self, window: float, flush: Callable[[str, list[InboundSms]], Awaitable[None]]) -> None:
        self.window = window
        self._flush = flush
        self._parts: dict[str, list[InboundSms]] = {}
        self._timers: dict[str, asyncio.Task[None]] = {}

    async def add(self, key: str, sms: InboundSms) -> None:
        """Buffer one part; each new part restarts the wait for that conversation."""
        self._parts.setdefault(key, []).append(sms)
        if self.window <= 0:
            await self._flush_now(key)
            return
        timer = self._timers.get(key)
        if timer is not None and not timer.done():
            timer.cancel()
        self._timers[key] = asyncio.create_task(self._wait_then_flush(key))

    def discard(self, key: str) -> None:
        """Forget the parts waiting for this conversation (after STOP)."""
        timer = self._timers.pop(key, None)
        if timer is not None and not timer.done():
            timer.cancel()
        self._parts.pop(key, None)

    async def _wait_then_flush(self, key: str) -> None:
        try:
            await asyncio.sleep(self.window)
        except asyncio.CancelledError:
            return
        self._timers.pop(key, None)
        await self._flush_now(key)

    async def _flush_now(self, key: str) -> None:
        parts = self._parts.pop(key, [])
        if not parts:
            return
        try:
            await self._flush(key, sorted(parts))
        except Exception:  # one conversation's failure must not stop the others
            logger.exception("SMS conversation %s: processing failed", key)
