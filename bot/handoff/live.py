"""Live updates for the console: a change signal shared by the streams (server-sent events) of one portal process.

Changes made by this process (take, reply, close, watchdog) wake the streams at once. Changes made elsewhere (the
action server queues requests straight into the database, another portal process takes one) are seen by one
cheap query every `poll_seconds`, whatever the number of agents connected.

What the person does during a handoff (a message, typing) is pushed by the Rasa process to the portal's internal
hook, and reaches the streams watching that conversation through `ConsoleHub.publish`: nobody re-reads Rasa for it.
With several portal processes (NUMECRIVAIN_REDIS_URL set), `RedisRelay` passes each push to every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from bot.handoff.config import get_handoff_config
from bot.settings import get_settings

logger = logging.getLogger(__name__)

DEFAULT_POLL_SECONDS = 0.5
TYPING_EVERY_SECONDS = 2.0  # at most one "is typing" signal per conversation and direction in this time
TYPING_SHOWN_SECONDS = 5.0  # how long "… écrit…" stays without a new signal (the pages expire it themselves)


def resync_seconds() -> float:
    """How often an open conversation is re-read from Rasa (NUMECRIVAIN_CONSOLE_RESYNC_SECONDS; 0 turns it off)."""
    return get_handoff_config().console_resync_seconds


FEED_CAPACITY = 200  # pushed items kept for a stream that has not read them yet (older ones: a resync)


class TypingGate:
    """At most one typing signal per key every `every` seconds (the clock is injectable for tests)."""

    def __init__(self, every: float = TYPING_EVERY_SECONDS, clock: Callable[[], float] | None = None,
                 capacity: int = 10_000) -> None:
        self.every, self.capacity = every, capacity
        self.clock = clock or time.monotonic
        self._last: dict[str, float] = {}

    def allow(self, key: str) -> bool:
        """True when this key may signal now (and remember it), False when it signalled too recently."""
        now = self.clock()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            return False
        if len(self._last) >= self.capacity:  # bounded: forget the stale ones first
            self._last = {k: t for k, t in self._last.items() if now - t < self.every}
        self._last[key] = now
        return True


class ConversationFeed:
    """What was pushed for one conversation since its stream last looked (messages of the person, typing)."""

    def __init__(self) -> None:
        self.items: deque[dict[str, Any]] = deque()
        self.overflowed = False  # items were dropped: the stream must read the conversation again
        self.ready = asyncio.Event()

    def put(self, item: dict[str, Any]) -> None:
        if len(self.items) >= FEED_CAPACITY:
            self.items.popleft()
            self.overflowed = True
        self.items.append(item)
        self.ready.set()

    def take(self) -> list[dict[str, Any]]:
        """Everything pushed so far, oldest first; the feed is empty afterwards."""
        items = list(self.items)
        self.items.clear()
        self.ready.clear()
        return items


def sse_event(name: str, data: Any) -> str:
    """One server-sent event (JSON on a single data line: json.dumps escapes new lines)."""
    return f"event: {name}\ndata: {json.dumps(data, ensure_ascii=False, separators=(',', ':'))}\n\n"


SSE_COMMENT_PING = ": ping\n\n"  # keeps proxies and Sanic's response timeout from closing an idle stream


class ConsoleHub:
    """A generation counter and an event: streams wait on it and re-read what they show when it moves."""

    def __init__(self, marker: Callable[[], Any], poll_seconds: float = DEFAULT_POLL_SECONDS) -> None:
        self._marker = marker
        self.poll_seconds = poll_seconds
        self.generation = 0
        self._event = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._last_marker: Any = None
        self.streams = 0  # open streams: the database is only watched while someone looks
        self._feeds: dict[str, set[ConversationFeed]] = {}
        self.relay: RedisRelay | None = None

    @contextlib.contextmanager
    def watching(self) -> Iterator[None]:
        """Count an open stream for as long as it lasts (even when the browser goes away mid-way)."""
        self.streams += 1
        try:
            yield
        finally:
            self.streams -= 1

    def notify(self) -> None:
        """Something changed: wake every stream."""
        self.generation += 1
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, generation: int, timeout: float, feed: ConversationFeed | None = None) -> int:
        """Return the new generation as soon as it differs from `generation` (or `feed` has news), or after
        timeout seconds."""
        if self.generation != generation or (feed is not None and feed.items):
            return self.generation
        waiters = [asyncio.ensure_future(self._event.wait())]
        if feed is not None:
            waiters.append(asyncio.ensure_future(feed.ready.wait()))
        try:
            await asyncio.wait(waiters, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        return self.generation

    @contextlib.contextmanager
    def subscribe(self, sender_id: str) -> Iterator[ConversationFeed]:
        """A feed of what is pushed for this conversation, for as long as a stream shows it."""
        feed = ConversationFeed()
        self._feeds.setdefault(sender_id, set()).add(feed)
        try:
            yield feed
        finally:
            feeds = self._feeds.get(sender_id, set())
            feeds.discard(feed)
            if not feeds:
                self._feeds.pop(sender_id, None)

    def watchers(self, sender_id: str) -> int:
        """How many streams of this process show this conversation now."""
        return len(self._feeds.get(sender_id, ()))

    async def publish(self, sender_id: str, item: dict[str, Any]) -> None:
        """Push to every stream showing this conversation: through Redis to every portal process when shared."""
        if self.relay is not None and await self.relay.publish(sender_id, item):
            return  # comes back to this process too, through the subscription
        self.dispatch(sender_id, item)

    def dispatch(self, sender_id: str, item: dict[str, Any]) -> None:
        """Hand a pushed item to this process's streams of the conversation."""
        for feed in self._feeds.get(sender_id, ()):
            feed.put(item)

    def start(self) -> None:
        """Watch the database for changes made by other processes (and Redis's pushes, when shared)."""
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._watch())
        url = get_settings().redis_url
        if url and self.relay is None:
            self.relay = RedisRelay(url, self.dispatch)
            self.relay.start()

    async def stop(self) -> None:
        if self.relay is not None:
            await self.relay.stop()
            self.relay = None
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _watch(self) -> None:
        while True:
            if not self.streams:
                self._last_marker = None  # read afresh when someone looks again
                await asyncio.sleep(self.poll_seconds)
                continue
            try:
                marker = await asyncio.to_thread(self._marker)
                if marker != self._last_marker:
                    self._last_marker = marker
                    self.notify()
            except asyncio.CancelledError:
                raise
            except Exception:  # a database hiccup must not stop live updates for good
                logger.warning("Console change watch failed; retrying.")
            await asyncio.sleep(self.poll_seconds)


class RedisRelay:
    """Pushes shared by every portal process: the Rasa process reaches one of them, the agent may be on another."""

    CHANNEL = "numecrivain-console"

    def __init__(self, url: str, dispatch: Callable[[str, dict[str, Any]], None]) -> None:
        self.redis = aioredis.Redis.from_url(url, socket_timeout=5)
        self.dispatch = dispatch
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._listen())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        with contextlib.suppress(RedisError, OSError):
            await self.redis.close()

    async def publish(self, sender_id: str, item: dict[str, Any]) -> bool:
        """False when Redis is unreachable (the caller then serves this process's streams)."""
        try:
            await self.redis.publish(self.CHANNEL, json.dumps({"sender_id": sender_id, "item": item}))
        except (RedisError, OSError):
            logger.warning("Console push not shared through Redis (unavailable).")
            return False
        return True

    async def _listen(self) -> None:
        while True:
            try:
                async with self.redis.pubsub() as pubsub:
                    await pubsub.subscribe(self.CHANNEL)
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        with contextlib.suppress(ValueError, TypeError, KeyError):
                            body = json.loads(message["data"])
                            self.dispatch(str(body["sender_id"]), dict(body["item"]))
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError):
                logger.warning("Console pushes from Redis interrupted; reconnecting.")
                await asyncio.sleep(1.0)


__all__ = ["SSE_COMMENT_PING", "TYPING_EVERY_SECONDS", "TYPING_SHOWN_SECONDS", "ConsoleHub", "ConversationFeed",
           "RedisRelay", "TypingGate", "resync_seconds", "sse_event"]
