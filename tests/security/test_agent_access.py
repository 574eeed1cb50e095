"""Agents over real HTTP (the real portal, a fake Rasa): only their own conversations, every read logged,
a login throttle nobody can use to lock a colleague out, and display names instead of logins."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from bot.db import get_engine
from bot.handoff.accounts import AgentDirectory
from bot.handoff.store import HandoffQueue
from tests.conftest import free_port
from tests.handoff.helpers import CSRF_IN_PAGE, FakeRasa, fake_rasa, login, portal_settings, running_portal

PASSWORD = "un mot de passe assez long"
SECRET_TEXT = "ma question privée sur la carte grise zq7"


@dataclass
class Portal:
    url: str
    rasa: FakeRasa
    queue: HandoffQueue
    directory: AgentDirectory
    db_file: Path


@pytest.fixture
async def portal(tmp_path, monkeypatch) -> AsyncIterator[Portal]:
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")
    monkeypatch.setenv("NUMECRIVAIN_RATELIMIT_PEPPER", "test-pepper")
    database_url = f"sqlite:///{tmp_path / 'portal.db'}"
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", database_url)
    directory = AgentDirectory(get_engine(database_url))
    directory.create("alice.martin", PASSWORD)
    directory.create("bob.durand", PASSWORD, display_name="Bob")
    async with fake_rasa() as rasa:
        settings = portal_settings(rasa.url, database_url, free_port())
        async with running_portal(settings) as url:
            yield Portal(url, rasa, HandoffQueue(get_engine(database_url)), directory, tmp_path / "portal.db")


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def post(session: aiohttp.ClientSession, url: str, csrf: str) -> int:
    async with session.post(url, json={}, headers={"X-CSRF-Token": csrf}) as resp:
        return resp.status


async def read(session: aiohttp.ClientSession, url: str) -> tuple[int, dict]:
    async with session.get(url) as resp:
        return resp.status, await resp.json()


async def taken_by_alice(session: aiohttp.ClientSession, portal: Portal) -> tuple[str, str]:
    """A new web conversation that Alice, signed in on `session`, has taken: its API url and her CSRF token."""
    request = portal.queue.enqueue("web-1", "webchat", [])
    _, csrf = await login(session, portal.url, "alice.martin", PASSWORD)
    url = f"{portal.url}/agents/api/requests/{request.public_id}"
    assert await post(session, f"{url}/take", csrf) == 200
    return url, csrf


async def test_agent_reads_only_waiting_conversations_and_their_own(portal):
    mine = portal.queue.enqueue("web-1", "webchat", [])
    colleague = portal.queue.enqueue("web-2", "webchat", [])
    waiting = portal.queue.enqueue("web-3", "webchat", [])
    portal.rasa.events["web-2"] = [{"event": "user", "text": SECRET_TEXT, "timestamp": 4_000_000_000.0}]
    async with client() as alice, client() as bob:
        _, csrf_a = await login(alice, portal.url, "alice.martin", PASSWORD)
        _, csrf_b = await login(bob, portal.url, "bob.durand", PASSWORD)
        assert await post(alice, f"{portal.url}/agents/api/requests/{mine.public_id}/take", csrf_a) == 200
        assert await post(bob, f"{portal.url}/agents/api/requests/{colleague.public_id}/take", csrf_b) == 200
        api = f"{portal.url}/agents/api/requests"
        assert (await read(alice, f"{api}/{mine.public_id}"))[0] == 200
        assert (await read(alice, f"{api}/{waiting.public_id}"))[0] == 200
        status, body = await read(alice, f"{api}/{colleague.public_id}")
        assert status == 404 and SECRET_TEXT not in str(body) and "bob" not in str(body).lower()
        # Nor can she write to it or close it.
        assert await post(alice, f"{api}/{colleague.public_id}/close", csrf_a) == 409
    assert portal.queue.get(colleague.id).status == "taken"


async def test_a_conversation_once_taken_cannot_be_read_after_it_ended(portal):
    async with client() as alice:
        url, csrf = await taken_by_alice(alice, portal)
        assert await post(alice, f"{url}/close", csrf) == 200
        status, body = await read(alice, url)
        assert status == 404 and "n'existe pas" in body["error"]
    expired = portal.queue.enqueue("web-9", "webchat", [])
    portal.queue.close(expired.id, "wait_timeout")
    async with client() as alice:
        await login(alice, portal.url, "alice.martin", PASSWORD)
        assert (await read(alice, f"{portal.url}/agents/api/requests/{expired.public_id}"))[0] == 404


async def test_sequential_ids_lead_nowhere(portal):
    requests = [portal.queue.enqueue(f"web-{n}", "webchat", []) for n in range(3)]
    async with client() as alice:
        await login(alice, portal.url, "alice.martin", PASSWORD)
        for guess in ["1", "2", "3", "0", "-1", "%2e%2e", "a" * 200]:
            status, _ = await read(alice, f"{portal.url}/agents/api/requests/{guess}")
            assert status == 404
        async with alice.get(f"{portal.url}/agents/api/queue") as resp:
            listed = [item["id"] for item in (await resp.json())["waiting"]]
    assert listed == [r.public_id for r in requests]
    assert all(len(public_id) >= 16 for public_id in listed)


async def test_every_read_is_logged_with_ids_only(portal, caplog):
    request = portal.queue.enqueue("web-1", "webchat", [])
    portal.rasa.events["web-1"] = [{"event": "user", "text": SECRET_TEXT, "timestamp": 4_000_000_000.0}]
    alice = portal.directory.by_name("alice.martin")
    assert alice is not None
    caplog.set_level(logging.INFO)
    async with client() as session:
        await login(session, portal.url, "alice.martin", PASSWORD)
        for _ in range(2):
            status, body = await read(session, f"{portal.url}/agents/api/requests/{request.public_id}")
            assert status == 200 and SECRET_TEXT in str(body)
    reads = portal.queue.reads_of(request.id)
    assert [agent_id for agent_id, _ in reads] == [alice.id, alice.id]
    assert all(when is not None for _, when in reads)
    columns = [row[1] for row in sqlite3.connect(portal.db_file).execute("PRAGMA table_info(handoff_reads)")]
    assert columns == ["id", "request_id", "agent_id", "read_at"]
    lines = [record.getMessage() for record in caplog.records if "read handoff" in record.getMessage()]
    assert len(lines) == 2 and all(request.public_id in line for line in lines)
    assert not any(SECRET_TEXT in line or "alice" in line or "web-1" in line for line in lines)


async def _try_login(session: aiohttp.ClientSession, base: str, name: str, password: str,
                     forwarded_for: str | None = None) -> tuple[int, str]:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for else {}
    async with session.get(f"{base}/agents/login") as resp:
        csrf = CSRF_IN_PAGE.search(await resp.text())
        assert csrf is not None, "the login form carries its CSRF token"
        token = csrf.group(1)
    async with session.post(f"{base}/agents/login", data={"csrf": token, "name": name, "password": password},
                            headers=headers, allow_redirects=False) as resp:
        return resp.status, await resp.text()


async def test_guessing_a_password_is_stopped_but_cannot_lock_out_the_colleague(portal, monkeypatch):
    monkeypatch.setenv("NUMECRIVAIN_TRUSTED_PROXIES", "127.0.0.1")
    async with client() as attacker:
        statuses = [(await _try_login(attacker, portal.url, "alice.martin", f"essai {n}", "203.0.113.66"))[0]
                    for n in range(6)]
        assert statuses == [401] * 5 + [429]
        status, page = await _try_login(attacker, portal.url, "alice.martin", PASSWORD, "203.0.113.66")
        # Even the right password is refused from the guessing address, for the rest of the window.
        assert status == 429 and "Trop d" in page and "15 minutes" in page
        # Changing the header does not help a client that is not one of our proxies: see the next test.
    async with client() as colleague:
        status, _ = await _try_login(colleague, portal.url, "alice.martin", PASSWORD, "198.51.100.20")
        assert status == 303  # Alice, from her own office, gets in
    async with client() as other:
        status, _ = await _try_login(other, portal.url, "bob.durand", PASSWORD, "203.0.113.66")
        assert status == 303  # another account from the same address is not blocked either


async def test_forwarded_for_is_ignored_unless_it_comes_from_our_proxy(portal, monkeypatch):
    monkeypatch.delenv("NUMECRIVAIN_TRUSTED_PROXIES", raising=False)
    async with client() as attacker:
        statuses = [(await _try_login(attacker, portal.url, "alice.martin", f"essai {n}", f"192.0.2.{n}"))[0]
                    for n in range(6)]
    # A fresh X-Forwarded-For per try does not make a fresh address: the sixth try is refused.
    assert statuses == [401] * 5 + [429]


async def test_many_tries_on_one_account_from_everywhere_slow_down_but_never_lock(portal, monkeypatch):
    import bot.web.agents.throttle as agents

    monkeypatch.setenv("NUMECRIVAIN_TRUSTED_PROXIES", "127.0.0.1")
    monkeypatch.setattr(agents, "LOGINS_PER_ACCOUNT_BEFORE_SLOWDOWN", 3)
    monkeypatch.setattr(agents, "LOGIN_SLOWDOWN_SECONDS", 0.01)
    slowed: list[float] = []
    real_sleep = agents.asyncio.sleep

    async def counting_sleep(seconds: float) -> None:
        slowed.append(seconds)
        await real_sleep(seconds)

    monkeypatch.setattr(agents.asyncio, "sleep", counting_sleep)
    async with client() as botnet:
        for n in range(8):
            await _try_login(botnet, portal.url, "alice.martin", f"essai {n}", f"192.0.2.{n}")
    assert slowed.count(0.01) >= 5  # past 3 tries on the account, each try waits
    async with client() as alice:
        status, _ = await _try_login(alice, portal.url, "alice.martin", PASSWORD, "198.51.100.20")
    assert status == 303


async def test_users_read_the_display_name_never_the_login(portal):
    async with client() as session:
        url, csrf = await taken_by_alice(session, portal)
        async with session.post(f"{url}/messages", json={"text": "Bonjour !"}, headers={"X-CSRF-Token": csrf}):
            pass
        assert await post(session, f"{url}/close", csrf) == 200
    relayed = portal.rasa.relayed
    assert relayed[0]["text"].startswith("Alice, de l'équipe, a rejoint la conversation")  # a service notice
    assert [r["agent"] for r in relayed if r["text"] == "Bonjour !"] == ["Alice"]
    closing = [r["text"] for r in relayed if r["text"].startswith("Alice a terminé la conversation")]
    assert len(closing) == 1  # the satisfaction survey may follow it
    assert not any("alice.martin" in str(r) for r in relayed)
