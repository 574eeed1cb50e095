"""The agents' console over real HTTP: login, sessions, CSRF, queue, take, reply, close, outbox, callbacks."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime

import aiohttp
import pytest

from bot.db import get_engine
from bot.handoff.accounts import AgentDirectory
from bot.handoff.callbacks import CallbackBook
from bot.handoff.store import HandoffQueue
from tests.conftest import free_port
from tests.handoff.helpers import FakeRasa, fake_rasa, login, portal_settings, running_portal

PASSWORD = "un mot de passe assez long"


@dataclass
class Portal:
    url: str
    rasa: FakeRasa
    queue: HandoffQueue
    database_url: str


@pytest.fixture
async def portal(tmp_path, monkeypatch) -> AsyncIterator[Portal]:
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS", "3600")  # tests call the watchdog themselves
    database_url = f"sqlite:///{tmp_path / 'portal.db'}"
    directory = AgentDirectory(get_engine(database_url))
    directory.create("alice", PASSWORD)
    directory.create("bob", PASSWORD)
    async with fake_rasa() as rasa:
        settings = portal_settings(rasa.url, database_url, free_port())
        async with running_portal(settings) as url:
            yield Portal(url, rasa, HandoffQueue(get_engine(database_url)), database_url)


def client() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def post(session: aiohttp.ClientSession, url: str, csrf: str, body: dict | None = None) -> tuple[int, dict]:
    async with session.post(url, json=body or {}, headers={"X-CSRF-Token": csrf}) as resp:
        return resp.status, await resp.json()


async def test_console_page_redirects_to_login_without_a_session(portal):
    async with client() as session, session.get(f"{portal.url}/agents", allow_redirects=False) as resp:
        assert resp.status == 302 and resp.headers["Location"] == "/agents/login"


async def test_login_sets_a_strict_httponly_cookie_and_shows_the_console(portal):
    async with client() as session:
        async with session.get(f"{portal.url}/agents/login") as resp:
            csrf = re.search(r'name="csrf" value="([^"]+)"', await resp.text())
            assert csrf is not None, "the login form carries its CSRF token"
            token = csrf.group(1)
        async with session.post(f"{portal.url}/agents/login", allow_redirects=False,
                                data={"csrf": token, "name": "alice", "password": PASSWORD}) as resp:
            assert resp.status == 303
            cookie = resp.headers["Set-Cookie"]
            assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
        async with session.get(f"{portal.url}/agents") as resp:
            page = await resp.text()
            assert "Bonjour Alice" in page and "File d'attente" in page
            assert "script-src 'self'" in resp.headers["Content-Security-Policy"]


async def test_wrong_password_is_refused_with_a_clear_message(portal):
    async with client() as session:
        status, _ = await login(session, portal.url, "alice", "pas le bon mot de passe")
        assert status == 401
        async with session.get(f"{portal.url}/agents/api/queue") as resp:
            assert resp.status == 401


async def test_login_without_the_form_token_is_refused(portal):
    async with client() as session, session.post(f"{portal.url}/agents/login", allow_redirects=False,
                                                 data={"name": "alice", "password": PASSWORD}) as resp:
        assert resp.status == 403


async def test_forged_session_cookie_gets_401(portal):
    forged = aiohttp.ClientSession(cookies={"numecrivain_agent": "forged-token"})
    async with forged as session, session.get(f"{portal.url}/agents/api/queue") as resp:
        assert resp.status == 401
        assert "reconnectez-vous" in (await resp.json())["error"]


async def test_logged_out_session_is_stale(portal):
    async with client() as session:
        _, csrf = await login(session, portal.url, "alice", PASSWORD)
        old_cookie = session.cookie_jar.filter_cookies(portal.url)["numecrivain_agent"].value
        async with session.post(f"{portal.url}/agents/logout", data={"csrf": csrf}, allow_redirects=False) as resp:
            assert resp.status == 303
    replay = aiohttp.ClientSession(cookies={"numecrivain_agent": old_cookie})
    async with replay as session, session.get(f"{portal.url}/agents/api/queue") as resp:
        assert resp.status == 401


async def test_post_without_csrf_token_is_refused(portal):
    request = portal.queue.enqueue("web-1", "webchat", [])
    async with client() as session:
        await login(session, portal.url, "alice", PASSWORD)
        status, body = await post(session, f"{portal.url}/agents/api/requests/{request.public_id}/take", "wrong")
        assert status == 403 and "jeton" in body["error"]
    assert portal.queue.get(request.id).status == "waiting"


async def test_queue_lists_waiting_conversations_oldest_first_with_waiting_time(portal):
    first = portal.queue.enqueue("web-1", "webchat", [], commune="Lille", topic="procedure_passport")
    portal.queue.enqueue("sms-2", "sms", [])
    async with client() as session:
        await login(session, portal.url, "alice", PASSWORD)
        async with session.get(f"{portal.url}/agents/api/queue") as resp:
            body = await resp.json()
    assert next(r["id"] for r in body["waiting"]) == first.public_id
    assert body["waiting"][0]["commune"] == "Lille" and body["waiting"][0]["waiting_seconds"] >= 0


async def test_second_agent_taking_the_same_conversation_gets_409(portal):
    request = portal.queue.enqueue("web-1", "webchat", [])
    async with client() as alice, client() as bob:
        _, csrf_a = await login(alice, portal.url, "alice", PASSWORD)
        _, csrf_b = await login(bob, portal.url, "bob", PASSWORD)
        url = f"{portal.url}/agents/api/requests/{request.public_id}/take"
        (status_a, _), (status_b, body_b) = await asyncio.gather(post(alice, url, csrf_a), post(bob, url, csrf_b))
    assert sorted([status_a, status_b]) == [200, 409]
    assert "déjà été prise" in (body_b if status_b == 409 else _)["error"]


async def test_agent_reply_reaches_the_web_chat_through_the_channel_route(portal):
    request = portal.queue.enqueue("web-1", "webchat", [], now=datetime(2024, 3, 11, 9, 30))
    portal.rasa.events["web-1"] = [
        {"event": "user", "text": "je veux parler à quelqu'un", "timestamp": 1.0},
        {"event": "user", "text": "c'est pour mon passeport", "timestamp": 1_710_149_600.0},  # 11/03/2024 9:33
        {"event": "user", "text": "vous êtes là ?", "timestamp": 4_000_000_000.0},  # after the take
    ]
    async with client() as session:
        _, csrf = await login(session, portal.url, "alice", PASSWORD)
        await post(session, f"{portal.url}/agents/api/requests/{request.public_id}/take", csrf)
        status, body = await post(session, f"{portal.url}/agents/api/requests/{request.public_id}/messages", csrf,
                                  {"text": "Bonjour, je suis Alice."})
        assert status == 201 and body["delivery"] == "pushed"
        async with session.get(f"{portal.url}/agents/api/requests/{request.public_id}") as resp:
            conversation = await resp.json()
    assert portal.rasa.relayed == [
        {"channel": "webchat", "sender_id": "web-1", "kind": "notice", "agent": "Numécrivain",
         "text": "Alice, de l'équipe, a rejoint la conversation et va vous répondre."},
        {"channel": "webchat", "sender_id": "web-1", "text": "Bonjour, je suis Alice.", "agent": "Alice"},
    ]
    texts = [(m["role"], m["text"], m["while_waiting"]) for m in conversation["messages"]]
    assert ("user", "c'est pour mon passeport", True) in texts
    assert ("user", "vous êtes là ?", False) in texts
    assert ("agent", "Bonjour, je suis Alice.", False) in texts


async def test_rest_user_reads_agent_messages_from_the_outbox_with_its_key(portal):
    request = portal.queue.enqueue("rest-1", "rest", [])
    async with client() as session:
        _, csrf = await login(session, portal.url, "alice", PASSWORD)
        await post(session, f"{portal.url}/agents/api/requests/{request.public_id}/take", csrf)
        _status, body = await post(session, f"{portal.url}/agents/api/requests/{request.public_id}/messages", csrf,
                                  {"text": "Je regarde votre dossier."})
        assert body["delivery"] == "outbox"
    async with aiohttp.ClientSession() as user:
        async with user.get(f"{portal.url}/api/handoff/rest-1/messages", params={"key": "guess"}) as resp:
            assert resp.status == 404
        async with user.get(f"{portal.url}/api/handoff/rest-1/messages",
                            params={"key": request.outbox_key}) as resp:
            outbox = await resp.json()
    assert outbox["status"] == "taken"
    assert [(m["from"], m["text"]) for m in outbox["messages"]] == [
        ("notice", "Alice, de l'équipe, a rejoint la conversation et va vous répondre."),
        ("agent", "Je regarde votre dossier."),
    ]


async def test_replying_to_a_closed_conversation_gets_409_and_close_resumes_the_bot(portal):
    request = portal.queue.enqueue("web-1", "webchat", [])
    async with client() as session:
        _, csrf = await login(session, portal.url, "alice", PASSWORD)
        await post(session, f"{portal.url}/agents/api/requests/{request.public_id}/take", csrf)
        status, body = await post(session, f"{portal.url}/agents/api/requests/{request.public_id}/close", csrf)
        assert status == 200 and body["resumed"] is True
        status, body = await post(session, f"{portal.url}/agents/api/requests/{request.public_id}/messages", csrf,
                                  {"text": "Encore une chose"})
        assert status == 409 and "terminée" in body["error"]
        status, _ = await post(session, f"{portal.url}/agents/api/requests/{request.public_id}/close", csrf)
        assert status == 409
    assert portal.rasa.resumed("web-1")
    goodbye, survey = portal.rasa.relayed[-2:]  # the goodbye, then the optional satisfaction question
    assert "a terminé la conversation" in goodbye["text"] and survey["text"].startswith("Avez-vous obtenu l'aide")


async def test_presence_toggle_makes_an_agent_available(portal):
    async with client() as session:
        _, csrf = await login(session, portal.url, "alice", PASSWORD)
        status, body = await post(session, f"{portal.url}/agents/api/presence", csrf, {"available": True})
        assert status == 200 and body == {"available": True}
        from bot.handoff.store import utcnow
        assert AgentDirectory(get_engine(portal.database_url)).available_count(utcnow(), 5) == 1
        status, _ = await post(session, f"{portal.url}/agents/api/presence", csrf, {"available": "oui"})
        assert status == 400


async def test_callback_done_deletes_the_number(portal):
    book = CallbackBook(get_engine(portal.database_url))
    callback = book.add("06 12 34 56 78", "webchat", "Lille", None)
    async with client() as session:
        _, csrf = await login(session, portal.url, "alice", PASSWORD)
        async with session.get(f"{portal.url}/agents/api/callbacks") as resp:
            assert (await resp.json())["callbacks"][0]["phone"] == "06 12 34 56 78"
        status, _ = await post(session, f"{portal.url}/agents/api/callbacks/{callback.id}/done", csrf)
        assert status == 200
        status, _ = await post(session, f"{portal.url}/agents/api/callbacks/{callback.id}/done", csrf)
        assert status == 409
    assert book.pending() == []


async def test_channel_can_say_the_user_left_and_the_request_expires(portal):
    request = portal.queue.enqueue("web-1", "webchat", [])
    async with aiohttp.ClientSession() as channel:
        url = f"{portal.url}/internal/handoff/web-1/left"
        async with channel.post(url) as resp:
            assert resp.status == 401
        async with channel.post(url, headers={"Authorization": "Bearer internal-test-token"}) as resp:
            assert (await resp.json()) == {"expired": True}
    assert portal.queue.get(request.id).status == "expired"
    assert portal.rasa.resumed("web-1")


async def test_only_admins_manage_canned_answers_and_tools_refuse_what_is_not_yours(portal):
    request = portal.queue.enqueue("web-5", "webchat", [])
    async with client() as bob, client() as alice:
        _, csrf_bob = await login(bob, portal.url, "bob", PASSWORD)
        _, csrf_alice = await login(alice, portal.url, "alice", PASSWORD)
        status, body = await post(bob, f"{portal.url}/agents/api/canned", csrf_bob, {"title": "T", "text": "x"})
        assert status == 403 and "administrateurs" in body["error"]
        AgentDirectory(get_engine(portal.database_url)).set_role("bob", "admin")
        status, body = await post(bob, f"{portal.url}/agents/api/canned", csrf_bob, {"title": "T", "text": "{x}"})
        assert status == 400 and "Variable inconnue" in body["error"]
        await post(alice, f"{portal.url}/agents/api/requests/{request.public_id}/take", csrf_alice)
        base = f"{portal.url}/agents/api/requests/{request.public_id}"
        status, _ = await post(bob, f"{base}/notes", csrf_bob, {"text": "pas ma conversation"})
        assert status == 409
        status, body = await post(alice, f"{base}/transfer", csrf_alice, {"to": 999})
        assert status == 409 and "pas disponible" in body["error"]
        status, _ = await post(alice, f"{base}/transfer", csrf_alice, {"to": "bob"})
        assert status == 400
        status, _ = await post(alice, f"{base}/notes", csrf_alice, {"text": "   "})
        assert status == 400
        async with bob.get(f"{base}/procedure/passport") as resp:
            assert resp.status == 404  # only the agent holding the conversation prepares answers for it
    async with client() as anonymous, anonymous.get(f"{portal.url}/agents/api/stream") as resp:
        assert resp.status == 401


async def test_conversation_put_back_in_the_queue_is_announced_and_waits_first_in_line(portal):
    request = portal.queue.enqueue("web-6", "webchat", [])
    async with client() as session:
        _, csrf = await login(session, portal.url, "alice", PASSWORD)
        base = f"{portal.url}/agents/api/requests/{request.public_id}"
        await post(session, f"{base}/take", csrf)
        status, body = await post(session, f"{base}/transfer", csrf, {"to": None})
        assert status == 200 and body["request"]["status"] == "waiting"
    assert portal.rasa.relayed[-1]["text"].startswith("Une autre personne de l'équipe va vous répondre.")
    assert portal.rasa.relayed[-1]["kind"] == "notice"
    assert portal.queue.waiting()[0].id == request.id
