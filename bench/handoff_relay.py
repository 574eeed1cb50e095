"""Time from an agent's reply to its delivery to the user, with 50 conversations waiting or in progress; and
time from the person's message to the agent's screen (--resident).

    .venv/bin/python bench/handoff_relay.py            # portal + a stand-in channel route (no model needed)
    .venv/bin/python bench/handoff_relay.py --stack    # the real stack: Rasa + actions + portal, 50 web chats
    .venv/bin/python bench/handoff_relay.py --resident # person -> agent: the live stream vs the old 2 s polling

The first mode measures the portal's part (console API, database, relay call). The second is the whole path a
user sees: agent POST -> portal -> Rasa's /webhooks/webchat/agent_message -> socket.io -> the user's browser.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.db import get_engine  # noqa: E402
from bot.handoff.accounts import AgentDirectory  # noqa: E402
from bot.handoff.store import HandoffQueue  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.stack import free_port, running_stack  # noqa: E402

CONVERSATIONS = 50
STACK_CONVERSATIONS = 25  # the web chat opens at most 30 sessions a minute per address, and all come from 127.0.0.1
OLD_CONSOLE_POLL_SECONDS = 2.0  # what the console did before the live streams: GET the conversation every 2 s
RESIDENT_SAMPLES = 20
PASSWORD = "mot de passe du banc d'essai"


def summary(label: str, seconds: list[float]) -> None:
    if not seconds:
        print(f"{label}: no sample")
        return
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[min(len(ms) - 1, round(0.95 * len(ms)) - 1)]
    print(f"{label}: n={len(ms)}  median={statistics.median(ms):.1f} ms  p95={p95:.1f} ms  max={ms[-1]:.1f} ms")


def _group(pattern: str, page: str) -> str:
    """The first group of a pattern the page must hold (a changed page stops the bench with a clear message)."""
    found = re.search(pattern, page)
    if found is None:
        raise SystemExit(f"bench: the page no longer matches {pattern}")
    return found.group(1)


class Agent:
    """An agent logged in to the console through its login form."""

    def __init__(self, http: aiohttp.ClientSession, web_url: str) -> None:
        self.http, self.web_url, self.csrf = http, web_url, ""

    async def login(self, name: str) -> None:
        async with self.http.get(f"{self.web_url}/agents/login") as resp:
            token = _group(r'name="csrf" value="([^"]+)"', await resp.text())
        async with self.http.post(f"{self.web_url}/agents/login",
                                  data={"csrf": token, "name": name, "password": PASSWORD}) as resp:
            self.csrf = _group(r'id="csrf" data-token="([^"]+)"', await resp.text())

    async def post(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        async with self.http.post(f"{self.web_url}{path}", json=body or {},
                                  headers={"X-CSRF-Token": self.csrf}) as resp:
            assert resp.status < 300, await resp.text()
            return await resp.json()


@asynccontextmanager
async def portal_beside(fake_rasa: web.Application, prefix: str) -> AsyncIterator[tuple[str, HandoffQueue]]:
    """The real portal over HTTP, with one agent account, beside a stand-in Rasa: yields (portal URL, queue)."""
    from sanic import Sanic

    from bot.web.app import create_app

    runner = web.AppRunner(fake_rasa)
    await runner.setup()
    rasa_port, web_port = free_port(), free_port()
    await web.TCPSite(runner, "127.0.0.1", rasa_port).start()
    workdir = Path(tempfile.mkdtemp(prefix=prefix))
    database_url = f"sqlite:///{workdir / 'bench.db'}"
    AgentDirectory(get_engine(database_url)).create("agent.bench", PASSWORD)
    queue = HandoffQueue(get_engine(database_url))
    settings = Settings(rasa_url=f"http://127.0.0.1:{rasa_port}", web_url=f"http://127.0.0.1:{web_port}",
                        web_port=web_port, database_url=database_url, rasa_api_token="t", internal_token="i")
    Sanic.test_mode = True
    app = create_app(settings)
    server = await app.create_server(host="127.0.0.1", port=web_port, return_asyncio_server=True, access_log=False)
    assert server is not None  # return_asyncio_server=True always gives one
    await server.startup()
    app.is_running = True  # as app.run() does: listeners may use app.add_task
    await server.before_start()
    await server.after_start()
    try:
        yield settings.web_url, queue
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        await runner.cleanup()


async def bench_portal(replies_per_conversation: int) -> None:
    """Portal over real HTTP, a stand-in for Rasa's channel route that timestamps each arrival."""
    arrivals: dict[str, float] = {}

    async def relay(request: web.Request) -> web.Response:
        body = await request.json()
        arrivals[body["text"]] = time.perf_counter()
        return web.json_response({"delivered": True})

    async def ok(_: web.Request) -> web.Response:
        return web.json_response({"events": []})

    fake = web.Application()
    fake.router.add_post("/webhooks/{channel}/agent_message", relay)
    fake.router.add_get("/conversations/{sender}/tracker", ok)
    fake.router.add_post("/conversations/{sender}/tracker/events", ok)
    timings: list[float] = []
    async with portal_beside(fake, "handoff-bench-") as (web_url, queue):
        requests = [queue.enqueue(f"web-{i}", "webchat", [{"role": "user", "text": "aide"}])
                    for i in range(CONVERSATIONS)]
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            agent = Agent(http, web_url)
            await agent.login("agent.bench")
            for request in requests:
                await agent.post(f"/agents/api/requests/{request.public_id}/take")
            for round_ in range(replies_per_conversation):
                for request in requests:
                    text = f"réponse {round_} à {request.id}"
                    started = time.perf_counter()
                    await agent.post(f"/agents/api/requests/{request.public_id}/messages", {"text": text})
                    timings.append(arrivals[text] - started)
    print(f"Portal + relay route, {CONVERSATIONS} conversations taken, SQLite ({os.cpu_count()} CPUs):")
    summary("agent reply -> channel route", timings)


async def bench_stack(replies_per_conversation: int) -> None:
    """The real stack on free ports; 50 web chat users over socket.io wait for a person."""
    from tests.web.socketio_client import SocketIOClient

    workdir = Path(tempfile.mkdtemp(prefix="handoff-bench-stack-"))
    extra = {"NUMECRIVAIN_SERVICE_HOURS": "24/7",
             # Every simulated person shares 127.0.0.1: lift the per-address handoff limits for the bench.
             "NUMECRIVAIN_HANDOFF_MAX_WAITING_PER_ADDRESS": "100", "NUMECRIVAIN_HANDOFF_PER_ADDRESS_PER_HOUR": "100",
             "NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS": os.environ["NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS"]}
    with running_stack(workdir, extra, timeout=300) as stack:
        env, rasa_url, web_url = stack.env, stack.rasa_url, stack.web_url
        subprocess.run([sys.executable, "-m", "bot.handoff.accounts", "create", "agent.bench"], input=PASSWORD + "\n",
                       cwd=ROOT, env=env, text=True, check=True, capture_output=True)
        timings: list[float] = []
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            agent = Agent(http, web_url)
            await agent.login("agent.bench")
            await agent.post("/agents/api/presence", {"available": True})
            chats: dict[str, SocketIOClient] = {}  # by Rasa sender id ("web:" + the session's conversation)
            tokens: dict[str, str] = {}
            for _ in range(STACK_CONVERSATIONS):
                chat = await SocketIOClient(rasa_url).__aenter__()
                token = await chat.start_session(None)  # the server issues a signed session
                sender = "web:" + token.split(".")[0]
                # Typed words (a typed "/request_human" is text, never an intent: only an offered button is).
                await chat.emit("user_uttered", {"message": "je voudrais parler à un conseiller", "session_id": token})
                await chat.wait_for("bot_uttered", 1, timeout=60)
                chats[sender], tokens[sender] = chat, token
            async with http.get(f"{web_url}/agents/api/queue") as resp:
                waiting = (await resp.json())["waiting"]
            print(f"{len(waiting)} conversations waiting in the queue.")
            queue = HandoffQueue(get_engine(env["NUMECRIVAIN_DB_URL"]))
            by_id = {r["id"]: queue.by_public_id(r["id"]).sender_id for r in waiting}
            for request_id in by_id:
                await agent.post(f"/agents/api/requests/{request_id}/take")
            for round_ in range(replies_per_conversation):
                for request_id, session_id in by_id.items():
                    chat = chats[session_id]
                    seen = len([e for e in chat.events if e[0] == "bot_uttered"])
                    started = time.perf_counter()
                    await agent.post(f"/agents/api/requests/{request_id}/messages",
                                     {"text": f"réponse {round_} n° {request_id}"})
                    await chat.wait_for("bot_uttered", seen + 1, timeout=10)
                    timings.append(time.perf_counter() - started)
            live, polled = await resident_to_agent_on_stack(http, web_url, by_id, chats, tokens)
            for request_id in by_id:
                await agent.post(f"/agents/api/requests/{request_id}/close")
            for chat in chats.values():
                await chat.__aexit__()
        print(f"Real stack, {len(by_id)} web chats over socket.io ({os.cpu_count()} CPUs):")
        summary("agent reply -> user's socket.io client", timings)
        if live:
            summary("person's message -> agent's live stream (now)", live)
        summary("person's message -> agent polling every 2 s (before)", polled)


async def resident_to_agent_on_stack(http: aiohttp.ClientSession, web_url: str, by_id: dict[str, str],
                                     chats: dict[str, Any], tokens: dict[str, str]) -> tuple[list[float], list[float]]:
    """A web chat user writes while an agent has the conversation open: through the stream, and by polling."""
    import random

    live: list[float] = []
    polled: list[float] = []
    for n, (request_id, session_id) in enumerate(list(by_id.items())[:RESIDENT_SAMPLES]):
        url = f"{web_url}/agents/api/requests/{request_id}"
        text = f"message en direct {n}"
        async with http.get(f"{url}/stream") as stream:
            if stream.status == 200:  # a portal without live streams (an older version) measures polling only
                await stream.content.readline()  # the stream is open
                await asyncio.sleep(random.uniform(0.2, 1.0))
                started = time.perf_counter()
                await chats[session_id].emit("user_uttered", {"message": text, "session_id": tokens[session_id]})
                async for line in stream.content:
                    if line.startswith(b"data:") and text.encode() in line:
                        live.append(time.perf_counter() - started)
                        break
        text = f"message attendu {n}"
        phase = random.uniform(0, OLD_CONSOLE_POLL_SECONDS)
        started = time.perf_counter() + phase

        async def write_later(session_id: str = session_id, text: str = text, phase: float = phase) -> None:
            await asyncio.sleep(phase)
            await chats[session_id].emit("user_uttered", {"message": text, "session_id": tokens[session_id]})

        writer = asyncio.create_task(write_later())
        while True:
            async with http.get(url) as resp:
                if any(m["text"] == text for m in (await resp.json())["messages"]):
                    polled.append(time.perf_counter() - started)
                    break
            await asyncio.sleep(OLD_CONSOLE_POLL_SECONDS)
        await writer
    return live, polled


async def bench_resident(samples: int) -> None:
    """Person -> agent: a message appended to the conversation in a stand-in Rasa, until the agent's console has
    it, read (a) from the live stream the console now uses, (b) by polling every 2 s as the console did before."""
    import random

    events: dict[str, list[dict[str, Any]]] = {}

    async def tracker(request: web.Request) -> web.Response:
        return web.json_response({"events": events.get(request.match_info["sender"], [])})

    async def ok(_: web.Request) -> web.Response:
        return web.json_response({"delivered": True})

    fake = web.Application()
    fake.router.add_get("/conversations/{sender}/tracker", tracker)
    fake.router.add_post("/conversations/{sender}/tracker/events", ok)
    fake.router.add_post("/webhooks/{channel}/agent_message", ok)
    live: list[float] = []
    polled: list[float] = []
    async with (portal_beside(fake, "handoff-bench-resident-") as (web_url, queue),
                aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http):
        agent = Agent(http, web_url)
        await agent.login("agent.bench")
        request = queue.enqueue("web-resident", "webchat", [])
        await agent.post(f"/agents/api/requests/{request.public_id}/take")
        events["web-resident"] = []
        url = f"{web_url}/agents/api/requests/{request.public_id}"
        async with http.get(f"{url}/stream") as stream:
            for n in range(samples):
                await asyncio.sleep(random.uniform(0.2, 1.0))
                text = f"question {n}"
                started = time.perf_counter()
                events["web-resident"].append({"event": "user", "text": text, "timestamp": time.time()})
                async for line in stream.content:
                    if line.startswith(b"data:") and text.encode() in line:
                        live.append(time.perf_counter() - started)
                        break
        for n in range(samples):
            text = f"question polled {n}"
            phase = random.uniform(0, OLD_CONSOLE_POLL_SECONDS)  # the person writes at any moment
            started = time.perf_counter() + phase

            async def write_later(text: str = text, phase: float = phase) -> None:
                await asyncio.sleep(phase)
                events["web-resident"].append({"event": "user", "text": text, "timestamp": time.time()})

            writer = asyncio.create_task(write_later())
            while True:
                async with http.get(url) as resp:
                    seen = any(m["text"] == text for m in (await resp.json())["messages"])
                if seen:
                    polled.append(time.perf_counter() - started)
                    break
                await asyncio.sleep(OLD_CONSOLE_POLL_SECONDS)
            await writer
    print(f"Person -> agent's console, portal + stand-in Rasa, SQLite ({os.cpu_count()} CPUs):")
    summary("live stream (server-sent events, now)", live)
    summary("polling every 2 s (the console before)", polled)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--stack", action="store_true", help="start the real stack (needs the trained model)")
    parser.add_argument("--replies", type=int, default=4, help="replies per conversation (default 4)")
    parser.add_argument("--resident", action="store_true", help="person -> agent: live stream vs 2 s polling")
    args = parser.parse_args()
    os.environ.setdefault("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    if args.resident:
        asyncio.run(bench_resident(RESIDENT_SAMPLES))
        return
    asyncio.run(bench_stack(args.replies) if args.stack else bench_portal(args.replies))
    print(json.dumps({"conversations": CONVERSATIONS, "replies_per_conversation": args.replies}))


if __name__ == "__main__":
    main()
