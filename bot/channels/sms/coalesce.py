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
# After a part that did not fill a segment (the last part, or a whole message): parts of one SMS that arrive out
# of order come within a fraction of a second of each other.
LAST_PART_GRACE_SECONDS = 0.2


@dataclass(frozen=True, order=True)
class InboundSms:
    """One received SMS, as the gateway reported it."""

    received_at: datetime
    text: str = field(compare=False)
    phone: str = field(compare=False, repr=False)
    gateway: str = field(compare=False)
    message_id: str = field(default="", compare=False)
    inbox_id: int = field(default=0, compare=False)  # its row in the durable inbox, once accepted


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
    """Hands over the joined text of a conversation's parts once, as soon as the message looks whole.

    A part that filled a whole segment is a piece of a longer message: wait `window` seconds for the rest (each
    new part restarts the wait). Any other part ends a message, or is a message on its own: hand it over after
    a short grace (`last_part_grace`, for parts that arrive out of order a moment apart), so a one-part SMS is
    answered at once instead of after the whole window.
    """

    def __init__(self, window: float, flush: Callable[[str, list[InboundSms]], Awaitable[None]],
                 last_part_grace: float = LAST_PART_GRACE_SECONDS) -> None:
        self.window = window
        self.last_part_grace = min(window, last_part_grace)
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
        wait = self.window if len(sms.text) in FULL_SEGMENT_LENGTHS else self.last_part_grace
        self._timers[key] = asyncio.create_task(self._wait_then_flush(key, wait))

    @property
    def waiting(self) -> set[str]:
        """The conversations whose parts are still held (empty: nothing more will be handed over)."""
        return set(self._parts)

    def discard(self, key: str) -> None:
        """Forget the parts waiting for this conversation (after STOP)."""
        timer = self._timers.pop(key, None)
        if timer is not None and not timer.done():
            timer.cancel()
        self._parts.pop(key, None)

    async def _wait_then_flush(self, key: str, wait: float) -> None:
        try:
            await asyncio.sleep(wait)
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
