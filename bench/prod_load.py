"""Load on the production stack through nginx: REST, web chat (socket.io) and SMS conversations mixed, a Rasa process
killed halfway, then every user message checked in PostgreSQL (stored once, in order, with its reply).

The simulated clients behave as the real ones: a REST client or the widget that gets no answer (502, 503, a
closed socket, a timeout) sends the same message again with the same ``message_id``, and the stack handles it
once (bot/resilience.py). An SMS gateway retries a webhook that failed (same event id, refused as a duplicate
once stored); once the webhook answered 200 the SMS is in the durable inbox (bot/channels/sms/inbox.py), so the
person does not write again: they wait for the reply, taken over by another process if the one holding the SMS
was killed. Afterwards the project database must show every accepted SMS answered, and the gateway must have
sent each person exactly one reply per SMS.

Usage: .venv/bin/python -m bench.prod_load [--conversations 2000] [--turns 3] [--compare]
  (--compare: the same load without a kill on 1 then 2 Rasa processes, for throughput and p95.)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import statistics
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import psycopg2
import websockets

from bot.channels.sms.pseudonym import pseudonymise
from bot.prod.stack import ProdStack
from devtools.fake_sms_gateway import android_webhook_body, android_webhook_headers
from tests.web.socketio_client import SocketIOClient

MESSAGES = [
    "bonjour", "jai perdu ma carte d'identité", "comment faire une demande d'APL", "mot de passe impots oublié",
    "carte grise vendu ma voiture", "inscription sur les listes électorales", "merci",
    "je cherche un médiateur numérique à Roubaix", "renouveler mon passeport",
]
MAX_ATTEMPTS = 30
# How long a person waits for the SMS reply: above the inbox lease (30 s) and a recovery pass under load.
SMS_REPLY_WAIT_SECONDS = 300.0
# ARCEP's numbers reserved for fiction (06 39 98 xx xx): they reach nobody. Each run of this process takes new
# ones, so that two runs on one stack never share a conversation.
SMS_NUMBER_BASE = 33639980000
_sms_numbers = itertools.count()


class WidgetClient(SocketIOClient):
    """The widget's socket.io packets; a closed socket fails the wait at once (the widget reconnects and resends)."""

    @property
    def closed(self) -> bool:
        return self._reader is None or self._reader.done()

    async def wait_ack(self, ack_id: str, timeout: float = 60) -> Any:
        deadline = asyncio.get_running_loop().time() + timeout
        while ack_id not in self.acks:
            if self.closed:
                raise ConnectionError("socket closed before the acknowledgement")
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"no acknowledgement for {ack_id}")
            await asyncio.sleep(0.05)
        answer = self.acks[ack_id]  # an acknowledgement carries the handler's return values as a list
        return answer[0] if isinstance(answer, list) and len(answer) == 1 else answer

    async def wait_for(self, name: str, count: int = 1, timeout: float = 15) -> list[Any]:
        if self.closed:
            raise ConnectionError("socket closed")
        return await super().wait_for(name, count, timeout)

    async def close(self) -> None:
        with contextlib.suppress(Exception):
            await self.__aexit__()


@dataclass
class Conversation:
    """One simulated person: channel, texts, and what the clients saw."""

    key: str
    channel: str  # rest | webchat | sms
    texts: list[str]
    message_ids: list[str] = field(default_factory=list)
    sender_id: str = ""
    phone: str = ""
    replied_turns: int = 0
    sent_texts: list[str] = field(default_factory=list)  # SMS: every SMS the person sent, resends included


@dataclass
class LoadResult:
    """What the clients measured, and what PostgreSQL holds afterwards."""

    conversations: int = 0
    turns: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    retries: int = 0
    sms_unanswered: int = 0  # accepted SMS that got no reply within SMS_REPLY_WAIT_SECONDS
    sms_extra_replies: int = 0  # replies beyond one per SMS (an SMS answered twice)
    # Extra replies in conversations without any SMS taken over after a crash: none may exist (docs/production.md).
    sms_extra_replies_unexplained: int = 0
    sms_recovered: int = 0  # accepted SMS taken over from the killed process (inbox attempts > 0)
    sms_inbox_not_answered: int = 0  # accepted SMS whose inbox row is not `answered` at the end
    failed_turns: int = 0
    lost: int = 0
    duplicated: int = 0
    sms_lost: int = 0
    out_of_order: int = 0
    without_reply: int = 0
    by_channel: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    problems_by_channel: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    examples: list[dict[str, Any]] = field(default_factory=list)  # a few conversations with a problem
    recovery_seconds: float | None = None

    @property
    def throughput(self) -> float:
        return self.turns / self.seconds if self.seconds else 0.0

    @property
    def p95(self) -> float:
        if len(self.latencies) < 2:
            return self.latencies[0] if self.latencies else 0.0
        return statistics.quantiles(self.latencies, n=20)[-1]

    def summary(self) -> dict[str, Any]:
        return {"conversations": self.conversations, "turns": self.turns, "seconds": round(self.seconds, 1),
                "turns_per_second": round(self.throughput, 1), "p95_seconds": round(self.p95, 2),
                "client_retries": self.retries, "failed_turns": self.failed_turns,
                "lost": self.lost, "duplicated": self.duplicated, "sms_lost": self.sms_lost,
                "sms_unanswered": self.sms_unanswered, "sms_extra_replies": self.sms_extra_replies,
                "sms_extra_replies_unexplained": self.sms_extra_replies_unexplained,
                "sms_recovered": self.sms_recovered, "sms_inbox_not_answered": self.sms_inbox_not_answered,
                "out_of_order": self.out_of_order,
                "without_reply": self.without_reply, "by_channel": dict(self.by_channel),
                "problems_by_channel": dict(self.problems_by_channel),
                "recovery_seconds": None if self.recovery_seconds is None else round(self.recovery_seconds, 1)}


def plan(count: int, turns: int, seed: int = 7, channels: tuple[str, ...] = ("rest", "webchat", "sms"),
         weights: tuple[int, ...] = (5, 3, 2)) -> list[Conversation]:
    """The conversations to run: channels mixed by weight, several turns each, every message id unique."""
    chooser = random.Random(seed)
    run = uuid.uuid4().hex[:8]
    conversations = []
    for index in range(count):
        channel = chooser.choices(channels, weights)[0]
        key = f"load-{run}-{index}"
        texts = [chooser.choice(MESSAGES) for _ in range(turns)]
        conversation = Conversation(key, channel, texts, [f"{key}-{turn}" for turn in range(turns)])
        if channel == "sms":
            conversation.phone = f"+{SMS_NUMBER_BASE + next(_sms_numbers) % 10_000}"
        conversations.append(conversation)
    return conversations


class Driver:
    """Runs conversations against the stack's public URL with the clients' retry rules."""

    def __init__(self, stack: ProdStack, result: LoadResult, concurrency: int) -> None:
        self.stack, self.result = stack, result
        self.semaphore = asyncio.Semaphore(concurrency)
        self.sms_replies: dict[str, int] = defaultdict(int)
        self.sms_seen = 0
        self.completed = 0

    async def run(self, conversations: list[Conversation], on_half: Any = None) -> None:
        timeout = aiohttp.ClientTimeout(total=90)
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            self.session = session
            poller = asyncio.create_task(self._poll_sms())
            half = len(conversations) // 2
            started = time.monotonic()

            async def one(conversation: Conversation) -> None:
                async with self.semaphore:
                    runner = {"rest": self._rest, "webchat": self._webchat, "sms": self._sms}[conversation.channel]
                    await runner(conversation)
                    self.completed += 1
                    if self.completed == half and on_half is not None:
                        on_half()

            await asyncio.gather(*(one(conversation) for conversation in conversations))
            self.result.seconds += time.monotonic() - started
            await self._read_sms_gateway()  # replies sent since the last poll (a late second reply included)
            poller.cancel()
        self.result.conversations += len(conversations)
        for conversation in conversations:
            self.result.by_channel[conversation.channel] += 1

    async def _before_attempt(self, attempt: int) -> None:
        """A retry is counted and waits a little longer each time (at most 5 s)."""
        if attempt:
            self.result.retries += 1
            await asyncio.sleep(min(5.0, 0.5 * 2 ** attempt))

    def _turn_done(self, started: float) -> None:
        self.result.turns += 1
        self.result.latencies.append(time.monotonic() - started)

    async def _rest(self, conversation: Conversation) -> None:
        url = f"{self.stack.public_url}/webhooks/rest/webhook"
        conversation.sender_id = f"rest:{conversation.key}"
        for text, message_id in zip(conversation.texts, conversation.message_ids, strict=True):
            started = time.monotonic()
            for attempt in range(MAX_ATTEMPTS):
                await self._before_attempt(attempt)
                try:
                    async with self.session.post(url, json={"sender": conversation.key, "message": text,
                                                            "message_id": message_id}) as response:
                        body = await response.json(content_type=None)
                        if response.status == 200 and body:
                            conversation.replied_turns += 1
                            self._turn_done(started)
                            break
                except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
                    continue
            else:
                self.result.failed_turns += 1

    async def _webchat(self, conversation: Conversation) -> None:
        token: str | None = None
        client: WidgetClient | None = None
        try:
            for text, message_id in zip(conversation.texts, conversation.message_ids, strict=True):
                started = time.monotonic()
                for attempt in range(MAX_ATTEMPTS):
                    await self._before_attempt(attempt)
                    try:
                        if client is None or client.closed:
                            if client is not None:
                                await client.close()
                            client = WidgetClient(self.stack.public_url)
                            await asyncio.wait_for(client.__aenter__(), 15)
                            token = await client.start_session(token)
                        ack_id = await client.emit("user_uttered", {"message": text,
                                                                    "metadata": {"message_id": message_id}}, ack=True)
                        ack = await client.wait_ack(str(ack_id), timeout=60)
                        if isinstance(ack, dict) and ack.get("handled"):
                            token = ack.get("session_id", token)
                            conversation.replied_turns += 1
                            self._turn_done(started)
                            break
                    except (ConnectionError, asyncio.TimeoutError, TimeoutError, OSError, ValueError, AssertionError,
                            websockets.exceptions.WebSocketException):
                        continue
                else:
                    self.result.failed_turns += 1
        finally:
            if client is not None:
                await client.close()

    async def _sms(self, conversation: Conversation) -> None:
        url = f"{self.stack.public_url}/webhooks/sms/android"
        key = self.stack.env["SMS_WEBHOOK_SIGNING_KEY"]
        conversation.sender_id = pseudonymise(conversation.phone, self.stack.env["NUMECRIVAIN_SMS_PEPPER"])
        for text in conversation.texts:
            started = time.monotonic()
            expected = self.sms_replies[conversation.phone] + 1
            body = android_webhook_body(conversation.phone, text)  # one event id, kept by the gateway's retries
            sent = False
            for post_attempt in range(MAX_ATTEMPTS):  # the gateway retries a webhook that failed
                if post_attempt:
                    self.result.retries += 1
                    await asyncio.sleep(min(5.0, 0.5 * 2 ** post_attempt))
                try:
                    async with self.session.post(url, data=body,
                                                 headers=android_webhook_headers(key, body)) as response:
                        await response.read()
                        if response.status == 200:  # stored (or already stored by an earlier try)
                            sent = True
                            conversation.sent_texts.append(text)
                            break
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    pass
            if not sent:
                self.result.failed_turns += 1
                continue
            deadline = time.monotonic() + SMS_REPLY_WAIT_SECONDS
            while time.monotonic() < deadline and self.sms_replies[conversation.phone] < expected:
                await asyncio.sleep(0.2)
            if self.sms_replies[conversation.phone] >= expected:
                conversation.replied_turns += 1
                self._turn_done(started)
            else:
                self.result.sms_unanswered += 1
                self.result.failed_turns += 1

    async def _poll_sms(self) -> None:
        while True:
            await self._read_sms_gateway()
            await asyncio.sleep(0.3)

    async def _read_sms_gateway(self) -> None:
        """Count the SMS the fake gateway sent since the last read, per number."""
        url = f"http://127.0.0.1:{self.stack.ports.sms_gateway}/messages"
        try:
            async with self.session.get(url, params={"after": str(self.sms_seen)}) as response:
                for sms in await response.json():
                    if sms["id"] > self.sms_seen:
                        self.sms_seen = sms["id"]
                        self.sms_replies[sms["to"]] += 1
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
            pass


def stored_turns(stack: ProdStack, sender_ids: list[str]) -> dict[str, list[tuple[str, str | None, str]]]:
    """Each conversation's events in PostgreSQL, in order: (type, message_id, text) of user and bot events."""
    found: dict[str, list[tuple[str, str | None, str]]] = defaultdict(list)
    connection = psycopg2.connect(stack.tracker_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sender_id, type_name, data FROM events WHERE sender_id = ANY(%s) "
                           "AND type_name IN ('user', 'bot') ORDER BY id", (sender_ids,))
            for sender_id, type_name, data in cursor:
                event = json.loads(data)
                found[sender_id].append((type_name, event.get("message_id"), event.get("text") or ""))
    finally:
        connection.close()
    return found


def find_web_senders(stack: ProdStack, conversations: list[Conversation], result: LoadResult) -> None:
    """The web chat conversation ids, found by the message ids (the server issues them); two ids is a split."""
    keys = {c.key: c for c in conversations if c.channel == "webchat"}
    if not keys:
        return
    prefix = next(iter(keys)).rsplit("-", 1)[0]
    senders: dict[str, set[str]] = defaultdict(set)
    connection = psycopg2.connect(stack.tracker_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sender_id, data::json->>'message_id' FROM events WHERE type_name = 'user' "
                           "AND sender_id LIKE 'web:%%' AND data::json->>'message_id' LIKE %s", (prefix + "-%",))
            for sender_id, message_id in cursor:
                senders[message_id.rsplit("-", 1)[0]].add(sender_id)
    finally:
        connection.close()
    for key, conversation in keys.items():
        found = senders.get(key, set())
        if len(found) > 1:
            result.out_of_order += 1  # the conversation was split in two: its history was not kept
        conversation.sender_id = min(found) if found else ""


def check_stored(stack: ProdStack, conversations: list[Conversation], result: LoadResult) -> None:
    """Every user message stored once, in order, each followed by a bot reply; counts what is not."""
    find_web_senders(stack, conversations, result)
    stored = stored_turns(stack, [c.sender_id for c in conversations if c.sender_id])
    for conversation in conversations:
        before = (result.lost, result.duplicated, result.out_of_order, result.without_reply)
        check_conversation(conversation, stored.get(conversation.sender_id, []), result)
        if (result.lost, result.duplicated, result.out_of_order, result.without_reply) != before:
            result.problems_by_channel[conversation.channel] += 1
            if len(result.examples) < 3:
                events = stored.get(conversation.sender_id, [])
                result.examples.append({"channel": conversation.channel, "sent": conversation.sent_texts or
                                        conversation.message_ids, "stored": [(*e[:2], e[2][:40]) for e in events]})


def is_subsequence(short: list[str], long: list[str]) -> bool:
    """True when `short` is `long` with some items left out, order kept."""
    remaining = iter(long)
    return all(any(item == candidate for candidate in remaining) for item in short)


def check_conversation(conversation: Conversation, events: list[tuple[str, str | None, str]],
                       result: LoadResult) -> None:
    """One conversation's stored events against what its client sent."""
    user_positions = [index for index, event in enumerate(events) if event[0] == "user"]
    if conversation.channel == "sms":
        # An accepted SMS has no id the person can resend: a resend after silence is a new SMS. Stored must be
        # what was sent, in order, each at most once; an accepted SMS missing is lost by the server.
        texts = [events[index][2] for index in user_positions]
        if len(texts) > len(conversation.sent_texts):
            result.duplicated += len(texts) - len(conversation.sent_texts)
        elif not is_subsequence(texts, conversation.sent_texts):
            result.out_of_order += 1
        else:
            result.sms_lost += len(conversation.sent_texts) - len(texts)
    else:
        ids = [events[index][1] for index in user_positions]
        result.lost += sum(1 for message_id in conversation.message_ids if message_id not in ids)
        result.duplicated += len(ids) - len(set(ids))
        seen_order = [message_id for message_id in ids if message_id in conversation.message_ids]
        if seen_order != sorted(set(seen_order), key=conversation.message_ids.index):
            result.out_of_order += 1
    for position, index in enumerate(user_positions):
        end = user_positions[position + 1] if position + 1 < len(user_positions) else len(events)
        if not any(event[0] == "bot" for event in events[index + 1:end]):
            result.without_reply += 1


def kill_and_time_recovery(stack: ProdStack, name: str, result: LoadResult) -> None:
    """SIGKILL one Rasa process now; in the background, time until the supervisor has it answering again."""
    old_pid = stack.pid(name)
    killed_at = time.monotonic()
    stack.kill(name, signal.SIGKILL)
    index = int(name.split("-")[1]) - 1
    url = f"http://127.0.0.1:{stack.ports.rasa[index]}/"

    def watch() -> None:
        import urllib.request

        while time.monotonic() - killed_at < 600:
            if stack.pid(name) != old_pid:
                try:
                    with urllib.request.urlopen(url, timeout=2):
                        result.recovery_seconds = time.monotonic() - killed_at
                        return
                except OSError:
                    pass
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


def sms_inbox_counts(stack: ProdStack, pseudonyms: list[str]) -> dict[str, dict[str, int]]:
    """Per pseudonym: inbox rows by state, and `recovered` (rows taken over after a crash)."""
    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    connection = psycopg2.connect(stack.database_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pseudonym, state, count(*), sum(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) "
                           "FROM sms_inbox WHERE pseudonym = ANY(%s) GROUP BY pseudonym, state", (pseudonyms,))
            for pseudonym, state, count, recovered in cursor.fetchall():
                counts[pseudonym][state] += count
                counts[pseudonym]["recovered"] += recovered or 0
    finally:
        connection.close()
    return counts


def wait_for_sms_inbox(stack: ProdStack, conversations: list[Conversation], timeout: float = 300) -> None:
    """Until no accepted SMS of this run is still pending: a person can stop waiting before the last turn is saved
    (an extra reply counted as theirs), and the stored conversations are read only once every SMS was handled."""
    pseudonyms = [conversation.sender_id for conversation in conversations if conversation.channel == "sms"]
    deadline = time.monotonic() + timeout
    while pseudonyms and time.monotonic() < deadline:
        counts = sms_inbox_counts(stack, pseudonyms)
        if not any(states.get("received") or states.get("processing") for states in counts.values()):
            return
        time.sleep(1)


def gateway_replies(stack: ProdStack) -> dict[str, int]:
    """Every SMS the fake gateway was asked to send, counted per number (read once everything was handled)."""
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{stack.ports.sms_gateway}/messages", timeout=60) as response:
        sent = json.loads(response.read())
    counts: dict[str, int] = defaultdict(int)
    for sms in sent:
        counts[sms["to"]] += 1
    return counts


def check_sms_answered_once(stack: ProdStack, conversations: list[Conversation], replies: dict[str, int],
                            result: LoadResult) -> None:
    """In the project database, every accepted SMS is `answered`; at the gateway, one reply per SMS.

    The one documented exception: a process killed between the gateway taking a reply and the row being marked
    answered; the SMS taken over is answered again. An extra reply in a conversation without any SMS taken over
    is counted as unexplained.
    """
    sms = [conversation for conversation in conversations if conversation.channel == "sms"]
    if not sms:
        return
    counts = sms_inbox_counts(stack, [conversation.sender_id for conversation in sms])
    for conversation in sms:
        states = counts.get(conversation.sender_id, {})
        result.sms_inbox_not_answered += max(0, len(conversation.sent_texts) - states.get("answered", 0))
        result.sms_recovered += states.get("recovered", 0)
        extra = max(0, replies[conversation.phone] - len(conversation.sent_texts))
        result.sms_extra_replies += extra
        result.sms_extra_replies_unexplained += max(0, extra - states.get("recovered", 0))


def run_load(stack: ProdStack, count: int, turns: int, kill: str | None = "rasa-1", concurrency: int = 64,
             weights: tuple[int, ...] = (5, 3, 2)) -> tuple[LoadResult, list[Conversation]]:
    """Drive `count` conversations through nginx (killing one Rasa process halfway), then check PostgreSQL."""
    result = LoadResult()
    conversations = plan(count, turns, weights=weights)
    driver = Driver(stack, result, concurrency)
    on_half = (lambda: kill_and_time_recovery(stack, kill, result)) if kill else None
    asyncio.run(driver.run(conversations, on_half))
    wait_for_sms_inbox(stack, conversations)
    check_stored(stack, conversations, result)
    if any(conversation.channel == "sms" for conversation in conversations):
        check_sms_answered_once(stack, conversations, gateway_replies(stack), result)
    return result, conversations


def answered_after(stack: ProdStack, sender: str, text: str, message_id: str, ok: Any = None,
                   timeout: float = 300) -> float:
    """Seconds until this message (resent with the same id) gets a 200 (and `ok(body)` when given)."""
    import requests

    started = time.monotonic()
    while time.monotonic() - started < timeout:
        try:
            response = requests.post(f"{stack.public_url}/webhooks/rest/webhook", timeout=30,
                                     json={"sender": sender, "message": text, "message_id": message_id})
            if response.status_code == 200 and (ok is None or ok(response.json())):
                return time.monotonic() - started
        except requests.RequestException:
            pass
        if ok is not None:
            message_id = f"{message_id}-{uuid.uuid4().hex[:4]}"  # a new question, not the same one resent
        time.sleep(0.5)
    return float("nan")


def fault_recovery(stack: ProdStack) -> dict[str, float]:
    """Seconds from the end of each fault until a person is answered normally again."""
    from bot.resilience import ACTION_UNAVAILABLE_TEXT

    figures: dict[str, float] = {}
    for service, signum in (("postgres", signal.SIGINT), ("redis", signal.SIGTERM)):
        stack.hold_down(service, signum)
        stack.release(service)
        figures[f"{service}_restart"] = answered_after(stack, f"fault-{service}", "bonjour", f"{service}-1")
    for name in ("actions-1", "actions-2"):
        stack.kill(name)

    def not_apology(body: list[dict[str, Any]]) -> bool:
        return ACTION_UNAVAILABLE_TEXT not in [message.get("text") for message in body]

    figures["action_servers_killed"] = answered_after(stack, "fault-actions", MESSAGES[1], "actions-1", not_apology)
    stack.reload_nginx()
    figures["nginx_reload"] = answered_after(stack, "fault-nginx", "bonjour", "nginx-1")
    return {name: round(value, 1) for name, value in figures.items()}


def main(argv: list[str] | None = None) -> None:
    from tests.prod.harness import prod_stack

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--conversations", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--compare", action="store_true", help="also 1 vs 2 Rasa processes, without a kill")
    args = parser.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    figures: dict[str, Any] = {}
    compare_count = max(100, args.conversations // 4)
    if args.compare:
        with prod_stack(1) as stack:
            result, _ = run_load(stack, compare_count, args.turns, kill=None, concurrency=args.concurrency)
            figures["1_rasa_no_kill"] = result.summary()
            print(f"1 Rasa: {json.dumps(result.summary())}", flush=True)
    with prod_stack(2) as stack:
        if args.compare:
            result, _ = run_load(stack, compare_count, args.turns, kill=None, concurrency=args.concurrency)
            figures["2_rasa_no_kill"] = result.summary()
            print(f"2 Rasa: {json.dumps(result.summary())}", flush=True)
        result, _ = run_load(stack, args.conversations, args.turns, concurrency=args.concurrency)
        figures["2_rasa_one_killed"] = result.summary()
        print(f"2 Rasa, rasa-1 killed halfway: {json.dumps(result.summary())}", flush=True)
        figures["recovery_seconds_after"] = fault_recovery(stack)
        print(f"recovery (s): {json.dumps(figures['recovery_seconds_after'])}", flush=True)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
