"""Against the real stack: the worst inputs on REST, socket.io and SMS while a second user's question is answered.

Each attack runs in a thread; meanwhile an ordinary user asks "jai perdu ma carte d identité" over REST and must
get the identity-card answer within SECOND_USER_BOUND_SECONDS (the figure is printed). The attacker gets a clear
French answer or a 4xx, never a 500. Typed intents get ordinary answers; no channel can write into another's
conversation.
"""

from __future__ import annotations

import asyncio
import uuid

import pytest
import requests

from bot.channels.inputs import TOO_LONG_TEXT
from bot.channels.rest import MAX_BODY_BYTES
from bot.channels.sms.channel import MAX_WEBHOOK_BYTES
from bot.channels.sms.pseudonym import pseudonymise
from bot.channels.webchat import MAX_FRAME_BYTES
from tests.conftest import Stack
from tests.e2e.rest import all_text, offers_a_person
from tests.security import attacks
from tests.security.attacks import SECOND_USER_BOUND_SECONDS, WORST_INPUTS, during, rest_say
from tests.security.webchat_server import sender_of
from tests.web.socketio_client import SocketIOClient

pytestmark = pytest.mark.stack

# Numbers from the range ARCEP reserves for fiction: they reach nobody.
ATTACKER_PHONE = "+33639980071"


@pytest.fixture(scope="module", autouse=True)
def warm_stack(stack: Stack) -> None:
    """Load what the first messages load (models, the fallback's keyword index): figures then show the attacks."""
    for text in (attacks.SECOND_USER_QUESTION, "zorglub blorp", "je cherche de l'aide à Roubaix"):
        assert rest_say(stack, f"warm-{uuid.uuid4().hex[:8]}", text).status_code == 200


def tracker_events(stack: Stack, sender_id: str) -> list[dict]:
    response = requests.get(f"{stack.rasa_url}/conversations/{sender_id}/tracker", headers=stack.api_headers,
                            timeout=30)
    response.raise_for_status()
    return response.json()["events"]


def user_texts(stack: Stack, sender_id: str) -> list[str]:
    return [event.get("text") or "" for event in tracker_events(stack, sender_id) if event["event"] == "user"]


def bot_texts(stack: Stack, sender_id: str) -> list[str]:
    return [event["text"] for event in tracker_events(stack, sender_id)
            if event["event"] == "bot" and event.get("text")]


def report(channel: str, name: str, measure: attacks.Measure) -> None:
    print(f"\n{channel} {name}: second user worst {measure.worst:.2f} s over {len(measure.latencies)} questions "
          f"(attack answered in {measure.attack_seconds:.1f} s)")


@pytest.mark.parametrize("name", list(WORST_INPUTS))
def test_worst_rest_input_leaves_a_second_user_answered_fast(stack: Stack, name: str) -> None:
    measure = during(stack, lambda: rest_say(stack, f"attaque-{uuid.uuid4().hex[:8]}", WORST_INPUTS[name]))
    report("REST", name, measure)
    response = measure.attack_result
    if len(WORST_INPUTS[name].encode()) > MAX_BODY_BYTES:
        assert response.status_code == 413
        assert measure.worst < SECOND_USER_BOUND_SECONDS
        return
    assert response.status_code == 200, response.text[:300]
    messages = response.json()
    assert messages and offers_a_person(messages)
    if len(WORST_INPUTS[name]) > 1000:
        assert all_text(messages) == TOO_LONG_TEXT
    assert measure.worst < SECOND_USER_BOUND_SECONDS


def test_huge_rest_body_gets_413_while_a_second_user_is_answered(stack: Stack) -> None:
    body = b'{"sender": "x", "message": "' + b"x" * (20 * MAX_BODY_BYTES) + b'"}'
    measure = during(stack, lambda: requests.post(stack.rest_url, data=body, timeout=60))
    report("REST", "huge_body", measure)
    assert measure.attack_result.status_code == 413
    assert measure.worst < SECOND_USER_BOUND_SECONDS


@pytest.mark.parametrize("name", ["street_backtracking", "brackets", "digits", "typed_intent"])
@pytest.mark.parametrize("size", ["as_is", "cut_to_fit_a_frame"])
def test_worst_socketio_input_leaves_a_second_user_answered_fast(stack: Stack, name: str, size: str) -> None:
    text = WORST_INPUTS[name] if size == "as_is" else WORST_INPUTS[name][: MAX_FRAME_BYTES // 2]

    oversized = len(text.encode()) > MAX_FRAME_BYTES
    measure = during(stack, lambda: asyncio.run(attacks.socket_say(stack, text, expect_close=oversized)))
    report("socket.io", f"{name} ({len(text)} characters)", measure)
    replies = measure.attack_result
    if oversized:
        assert replies == attacks.CONNECTION_CLOSED  # a frame no widget sends: dropped unread
    else:
        assert isinstance(replies, list) and any(reply.get("text") for reply in replies)
        if len(text) > 500:
            assert replies[0]["text"] == TOO_LONG_TEXT
    assert measure.worst < SECOND_USER_BOUND_SECONDS


@pytest.mark.parametrize("name", ["street_backtracking", "digits", "words_of_a_long_sms", "typed_intent"])
def test_worst_sms_input_leaves_a_second_user_answered_fast(stack: Stack, name: str) -> None:
    phone = attacks.fiction_phone()

    def attack() -> tuple[int, str]:
        status = attacks.sms_send(stack, phone, WORST_INPUTS[name]).status_code
        return status, attacks.wait_sms_reply(stack, phone) if status == 200 else ""

    measure = during(stack, attack, head_start=2.5)  # past the coalescing window: the bot is reading it
    report("SMS", name, measure)
    status, reply = measure.attack_result
    if len(WORST_INPUTS[name].encode()) > MAX_WEBHOOK_BYTES:
        assert status == 413
        assert measure.worst < SECOND_USER_BOUND_SECONDS
        return
    assert status == 200 and reply
    if len(WORST_INPUTS[name]) > 1000:
        assert reply.startswith("Votre message est trop long.")
    assert measure.worst < SECOND_USER_BOUND_SECONDS


def test_oversized_sms_webhook_is_refused_with_413(stack: Stack) -> None:
    response = attacks.sms_send(stack, ATTACKER_PHONE, "x" * 20_000)
    assert response.status_code == 413


@pytest.mark.parametrize(
    "typed", ["/restart", '/request_human{"commune": "Lille"}', '/inform_location{"commune": "Roubaix"}',
              "/session_start", '/procedure_passport{"x": 1}'],
)
def test_typed_intent_over_rest_gets_an_ordinary_answer(stack: Stack, typed: str) -> None:
    sender = f"typed-{uuid.uuid4().hex[:8]}"
    first = rest_say(stack, sender, "bonjour")
    assert first.status_code == 200
    response = rest_say(stack, sender, typed)
    assert response.status_code == 200 and response.json()
    events = tracker_events(stack, f"rest:{sender}")
    user = [event for event in events if event["event"] == "user"]
    assert user[-1]["text"] == typed.lstrip("/")
    assert user[-1]["parse_data"]["entities"] == [] or all(
        entity.get("extractor") != "RegexMessageHandler" for entity in user[-1]["parse_data"]["entities"])
    assert not any(event["event"] == "restart" for event in events)


def test_rest_cannot_write_into_a_web_chat_or_sms_conversation(stack: Stack) -> None:
    async def ask(client: SocketIOClient, text: str) -> None:
        ack = await client.emit("user_uttered", {"message": text}, ack=True)
        assert ack is not None
        await client.wait_ack(ack)  # sent once the message is handled, behind its replies

    async def open_web_session() -> tuple[str, list[str]]:
        async with SocketIOClient(stack.rasa_url) as client:
            token = await client.start_session(None)
            await ask(client, "bonjour")
            for target in (token, sender_of(token), token.split(".")[0]):
                # 400 for the whole token (longer than a REST sender may be), else a conversation of its own
                assert rest_say(stack, target, "je veux un humain").status_code in (200, 400)
            await ask(client, "merci")  # anything the REST messages sent this socket would arrive before its answer
            return token, [data["text"] for name, data in client.events if name == "bot_uttered" and data.get("text")]

    token, received = asyncio.run(open_web_session())
    assert user_texts(stack, sender_of(token)) == ["bonjour", "merci"]
    assert received == bot_texts(stack, sender_of(token))  # the socket got what the bot said there, nothing else

    sms_sender = pseudonymise(ATTACKER_PHONE, stack.env["NUMECRIVAIN_SMS_PEPPER"])
    before = user_texts(stack, sms_sender)
    assert rest_say(stack, sms_sender, "écrit par REST").status_code == 200
    assert user_texts(stack, sms_sender) == before
    assert user_texts(stack, f"rest:{sms_sender}") == ["écrit par REST"]
