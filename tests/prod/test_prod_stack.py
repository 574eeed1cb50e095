"""The production stack for real: PostgreSQL, Redis, nginx and 2 Rasa processes, faults and load, nothing lost.

One stack for the whole module (each Rasa process loads the model, about a minute): the tests run in this
order, and the killed processes come back through the supervisor as in production.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg2
import pytest
import requests

from bench.prod_load import WidgetClient, run_load, stored_turns
from bot.prod.stack import ProdStack, wait_for
from bot.resilience import ACTION_UNAVAILABLE_TEXT, SERVICE_UNAVAILABLE_TEXT
from bot.service_auth import bearer_header
from tests.prod.harness import prod_stack

pytestmark = [pytest.mark.stack, pytest.mark.prod]

RASA_PROCESSES = 2
LOST_CARD = "jai perdu ma carte d'identité"


@pytest.fixture(scope="module")
def stack() -> Iterator[ProdStack]:
    with prod_stack(replicas=RASA_PROCESSES) as running:
        yield running


def say(stack: ProdStack, sender: str, text: str, message_id: str | None = None, base: str | None = None,
        timeout: float = 60) -> requests.Response:
    """One REST turn through nginx (or straight to one Rasa process when base is given)."""
    body: dict[str, Any] = {"sender": sender, "message": text}
    if message_id:
        body["message_id"] = message_id
    return requests.post(f"{base or stack.public_url}/webhooks/rest/webhook", json=body, timeout=timeout)


def say_until_answered(stack: ProdStack, sender: str, text: str, message_id: str,
                       timeout: float = 120) -> tuple[requests.Response, list[requests.Response]]:
    """Resend the same message (same id) until a 200, as a client does; the answer and the failures seen."""
    failures: list[requests.Response] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            response = say(stack, sender, text, message_id, timeout=30)
            if response.status_code == 200:
                return response, failures
            failures.append(response)
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise AssertionError(f"no answer within {timeout} s; failures: {[r.status_code for r in failures]}")
        time.sleep(1)


def user_messages(stack: ProdStack, sender_id: str) -> list[tuple[str, str | None, str]]:
    return stored_turns(stack, [sender_id]).get(sender_id, [])


def wait_all_rasa_up(stack: ProdStack, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    for port in stack.ports.rasa:
        assert wait_for(f"http://127.0.0.1:{port}/", deadline), f"Rasa on {port} did not come back"


def test_nginx_exposes_the_public_routes_only(stack: ProdStack) -> None:
    public = stack.public_url
    assert requests.get(f"{public}/widget/numecrivain.js", timeout=10).status_code == 200
    demo = requests.get(f"{public}/", timeout=10)
    assert demo.status_code == 200 and public in demo.text  # the widget talks to nginx, not to Rasa
    assert requests.get(f"{public}/socket.io/?EIO=4&transport=polling", timeout=10).status_code == 200
    for path in ("/model/parse", "/status", "/version", "/conversations/x/tracker", "/webhooks/rest/",
                 "/webhooks/webchat/agent_message", "/webhooks/webchat/presence", "/healthz", "/internal/x",
                 "/webhook", "/health", "/actions"):
        assert requests.get(f"{public}{path}", timeout=10).status_code == 404, path
    assert requests.post(f"{public}/model/parse", json={"text": "x"}, timeout=10).status_code == 404


def test_agent_message_reaches_the_socket_whichever_rasa_process_relays_it(stack: ProdStack) -> None:
    async def scenario() -> list[dict[str, Any]]:
        async with WidgetClient(stack.public_url) as client:
            await client.start_session(None)
            ack_id = await client.emit("user_uttered", {"message": "bonjour", "metadata": {"message_id": "m-1"}},
                                       ack=True)
            assert (await client.wait_ack(str(ack_id)))["handled"] is True
            sender_id = web_sender(stack, "m-1")
            replies = len([name for name, _ in client.events if name == "bot_uttered"])
            for index, port in enumerate(stack.ports.rasa):  # one holds the socket, the other goes through Redis
                url = f"http://127.0.0.1:{port}/webhooks/webchat/agent_message"
                answer = await asyncio.to_thread(
                    requests.post, url, json={"sender_id": sender_id, "text": f"Bonjour, ici Awa ({index})",
                                              "agent": "Awa"},
                    headers=bearer_header(stack.env["NUMECRIVAIN_INTERNAL_TOKEN"]), timeout=10)
                assert answer.json() == {"delivered": True, "online": True}
            messages = await client.wait_for("bot_uttered", count=replies + len(stack.ports.rasa), timeout=15)
            return messages[replies:]

    relayed = asyncio.run(scenario())
    assert [message["text"] for message in relayed] == ["Bonjour, ici Awa (0)", "Bonjour, ici Awa (1)"]
    assert all(message["from"] == "agent" for message in relayed)


def web_sender(stack: ProdStack, message_id: str) -> str:
    connection = psycopg2.connect(stack.tracker_url)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT sender_id FROM events WHERE type_name = 'user' AND sender_id LIKE 'web:%%' "
                           "AND data::json->>'message_id' = %s ORDER BY id DESC LIMIT 1", (message_id,))
            row = cursor.fetchone()
    finally:
        connection.close()
    assert row is not None, "the web chat message was not stored"
    return row[0]


def test_conversation_goes_on_with_its_history_when_its_rasa_process_is_killed(stack: ProdStack) -> None:
    sender = f"killed-{uuid.uuid4().hex[:8]}"
    first = say(stack, sender, LOST_CARD, "turn-1", base=f"http://127.0.0.1:{stack.ports.rasa[0]}")
    assert first.status_code == 200 and first.json()
    killed_at = time.monotonic()
    stack.kill("rasa-1", signal.SIGKILL)
    second, _ = say_until_answered(stack, sender, "merci", "turn-2")
    print(f"\nconversation answered again {time.monotonic() - killed_at:.1f} s after its Rasa process was killed")
    assert second.json()
    stored = user_messages(stack, f"rest:{sender}")
    assert [(kind, message_id) for kind, message_id, _ in stored if kind == "user"] == [
        ("user", "turn-1"), ("user", "turn-2")]
    assert stored[-1][0] == "bot"


def test_action_server_down_gets_an_apology_with_the_phone_line_and_a_person(stack: ProdStack) -> None:
    sender = f"actions-down-{uuid.uuid4().hex[:8]}"
    for name in ("actions-1", "actions-2"):
        stack.hold_down(name)
    try:
        answer = say(stack, sender, LOST_CARD, "a-1")
    finally:
        released_at = time.monotonic()
        for name in ("actions-1", "actions-2"):
            stack.release(name)
    assert answer.status_code == 200
    texts = [message.get("text", "") for message in answer.json()]
    assert ACTION_UNAVAILABLE_TEXT in texts, texts
    apology = next(message for message in answer.json() if message.get("text") == ACTION_UNAVAILABLE_TEXT)
    assert "39 39" in apology["text"] and "sans internet" in apology["text"].lower()
    assert "/request_human" in [button["payload"] for button in apology["buttons"]]
    recovered, _ = say_until_answered(stack, sender, LOST_CARD, "a-2")
    while ACTION_UNAVAILABLE_TEXT in [m.get("text") for m in recovered.json()]:
        time.sleep(1)
        recovered, _ = say_until_answered(stack, sender, LOST_CARD, f"a-{uuid.uuid4().hex[:6]}")
    print(f"\nactions answered again {time.monotonic() - released_at:.1f} s after the action servers restarted")
    assert any("carte" in message.get("text", "").lower() for message in recovered.json())


def test_slow_action_times_out_with_a_kind_answer(stack: ProdStack) -> None:
    sender = f"slow-{uuid.uuid4().hex[:8]}"
    for name in ("actions-1", "actions-2"):
        stack.hold_down(name, signal.SIGSTOP)  # frozen: connections accepted, never answered
    try:
        answer = say(stack, sender, LOST_CARD, "s-1")
    finally:
        for name in ("actions-1", "actions-2"):
            stack.release(name)
    assert answer.status_code == 200
    assert ACTION_UNAVAILABLE_TEXT in [message.get("text") for message in answer.json()]


@pytest.mark.parametrize("service", ["postgres", "redis"])
def test_database_or_redis_restart_gives_a_kind_error_then_recovers_with_nothing_lost(
        stack: ProdStack, service: str) -> None:
    sender = f"{service}-{uuid.uuid4().hex[:8]}"
    assert say(stack, sender, "bonjour", "r-1").status_code == 200
    stack.hold_down(service, signal.SIGTERM if service == "redis" else signal.SIGINT)
    try:
        refused = say(stack, sender, LOST_CARD, "r-2", timeout=60)
    finally:
        restarted_at = time.monotonic()
        stack.release(service)
    assert refused.status_code == 503
    assert refused.json()[0]["text"] == SERVICE_UNAVAILABLE_TEXT
    assert int(refused.headers["Retry-After"]) > 0
    answered, _ = say_until_answered(stack, sender, LOST_CARD, "r-2")
    print(f"\n{service}: answered again {time.monotonic() - restarted_at:.1f} s after its restart")
    assert answered.json()
    assert say(stack, sender, "merci", "r-3").status_code == 200
    # Every Rasa process is back, not only the one that answered first (nginx spreads new conversations).
    others = [say(stack, f"{sender}-{index}", "bonjour", "r-1").status_code for index in range(2 * RASA_PROCESSES)]
    assert others == [200] * len(others)
    users = [message_id for kind, message_id, _ in user_messages(stack, f"rest:{sender}") if kind == "user"]
    assert users == ["r-1", "r-2", "r-3"]


def test_nginx_reload_under_load_loses_no_request(stack: ProdStack) -> None:
    reloads = threading.Event()

    def reload_three_times() -> None:
        for _ in range(3):
            time.sleep(2)
            stack.reload_nginx()
        reloads.set()

    threading.Thread(target=reload_three_times, daemon=True).start()
    result, _ = run_load(stack, 150, 2, kill=None, concurrency=32)
    assert reloads.wait(30)
    print(f"\nnginx reloaded 3 times under load: {json.dumps(result.summary())}")
    assert result.failed_turns == 0
    assert (result.lost, result.duplicated, result.out_of_order, result.without_reply) == (0, 0, 0, 0)


@pytest.mark.timeout(3600)  # 6,000 turns through the whole stack: longer than the default limit
def test_load_of_2000_conversations_with_a_rasa_process_killed_loses_nothing(stack: ProdStack) -> None:
    conversations_count = int(os.environ.get("NUMECRIVAIN_PROD_LOAD_CONVERSATIONS", 2000))  # fewer: a quick try only
    turns = int(os.environ.get("NUMECRIVAIN_PROD_LOAD_TURNS", 3))
    wait_all_rasa_up(stack)  # the process killed earlier is back: this kill leaves one of two
    result, conversations = run_load(stack, conversations_count, turns, kill="rasa-2")
    print(f"\n{conversations_count} conversations through nginx, rasa-2 killed halfway: {json.dumps(result.summary())}")
    assert result.failed_turns == 0
    assert {conversation.channel for conversation in conversations} == {"rest", "webchat", "sms"}
    assert result.turns == turns * len(conversations)
    # Every message stored once, in order, with its reply. SMS: accepted ones (webhook 200) are in the durable
    # inbox, so one held by the killed process in its coalescing window is answered by the other after the lease:
    # none lost, each answered in the project database. A second reply can only come from an SMS taken over after
    # the kill (the gateway took its reply just before the process died): never in another conversation.
    assert (result.lost, result.duplicated, result.out_of_order, result.without_reply) == (0, 0, 0, 0)
    assert (result.sms_lost, result.sms_unanswered, result.sms_inbox_not_answered) == (0, 0, 0)
    assert result.sms_extra_replies_unexplained == 0
