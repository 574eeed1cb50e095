"""Messages in several parts or out of order are read as one, in the order they were written."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.channels.sms.coalesce import Coalescer, InboundSms, join_parts

T0 = datetime(2026, 3, 10, 9, 0, 0)


def part(seconds: float, text: str) -> InboundSms:
    return InboundSms(T0 + timedelta(seconds=seconds), text, "+33639980001", "android")


class Flushed:
    """The coalescer's hand-over: records each message, joined, and lets a test wait for the next one."""

    def __init__(self) -> None:
        self.texts: list[str] = []
        self._next = asyncio.Event()

    async def __call__(self, key: str, parts: list[InboundSms]) -> None:
        self.texts.append(join_parts(parts))
        self._next.set()

    async def handed_over(self) -> None:
        """Wait for a hand-over not waited for yet."""
        await asyncio.wait_for(self._next.wait(), timeout=10)
        self._next.clear()


def test_parts_are_joined_in_received_order_not_arrival_order() -> None:
    assert join_parts([part(2, "ma cni"), part(0, "jai"), part(1, "perdu")]) == "jai perdu ma cni"


def test_a_part_that_filled_a_segment_continues_the_same_word() -> None:
    first = "x" * 152 + "a"  # 153 characters: one segment of a concatenated SMS
    assert join_parts([part(1, "dministration"), part(0, first)]) == first + "dministration"


async def test_coalescer_reads_parts_arriving_within_the_window_once() -> None:
    flushed: list[tuple[str, str]] = []
    both = asyncio.Event()

    async def flush(key: str, parts: list[InboundSms]) -> None:
        flushed.append((key, join_parts(parts)))
        if len(flushed) == 2:
            both.set()

    coalescer = Coalescer(0.05, flush)
    await coalescer.add("a", part(1, "perdu ma cni"))
    await coalescer.add("a", part(0, "jai"))
    await coalescer.add("b", part(0, "bonjour"))
    await asyncio.wait_for(both.wait(), timeout=10)
    assert sorted(flushed) == [("a", "jai perdu ma cni"), ("b", "bonjour")]
    assert coalescer.waiting == set()  # nothing held any more: nothing can be handed over a second time


async def test_coalescer_without_window_reads_each_message_at_once() -> None:
    flushed: list[str] = []

    async def flush(key: str, parts: list[InboundSms]) -> None:
        flushed.append(join_parts(parts))

    coalescer = Coalescer(0, flush)
    await coalescer.add("a", part(0, "un"))
    await coalescer.add("a", part(1, "deux"))
    assert flushed == ["un", "deux"]


async def test_discard_forgets_waiting_parts() -> None:
    flushed = Flushed()
    coalescer = Coalescer(0.05, flushed)
    await coalescer.add("a", part(0, "bonjour"))
    coalescer.discard("a")
    assert coalescer.waiting == set()
    # Sentinel: a message added after it, with the same wait, is handed over; the discarded one would have been
    # handed over first.
    await coalescer.add("b", part(1, "au revoir"))
    await flushed.handed_over()
    assert flushed.texts == ["au revoir"]


async def test_a_one_part_message_is_handed_over_without_waiting_for_the_window() -> None:
    flushed = Flushed()
    coalescer = Coalescer(60, flushed)  # a window far longer than the test may take
    await coalescer.add("a", part(0, "jai perdu ma carte vitale"))
    await flushed.handed_over()
    assert flushed.texts == ["jai perdu ma carte vitale"]


async def test_a_part_that_filled_a_segment_waits_for_the_rest_then_both_are_read_once() -> None:
    flushed = Flushed()
    first = "x" * 152 + "a"  # a full segment: the phone split a longer message
    coalescer = Coalescer(60, flushed, last_part_grace=0)
    await coalescer.add("a", part(0, first))
    # Sentinel: another conversation's whole message is handed over meanwhile; the full part alone is still held.
    await coalescer.add("b", part(0, "bonjour"))
    await flushed.handed_over()
    assert flushed.texts == ["bonjour"] and coalescer.waiting == {"a"}
    await coalescer.add("a", part(1, "dministration"))
    await flushed.handed_over()
    assert flushed.texts == ["bonjour", first + "dministration"]
