"""Hostile inputs, and how long a second, ordinary user waits for an answer while they are processed."""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests

from devtools.fake_sms_gateway import android_webhook_body, android_webhook_headers
from tests.conftest import Stack
from tests.knowledge.samples import shipped_procedure
from tests.stack import wait_until
from tests.web.socketio_client import SocketIOClient

SECOND_USER_QUESTION = "jai perdu ma carte d identité"
# A second user should wait under 1 s; a shared 2-core CI machine gets some slack (the figure is printed).
SECOND_USER_BOUND_SECONDS = 2.5

# The worst inputs found: catastrophic backtracking in the street pattern, a token per character for DIET,
# a huge message, an e-mail-looking run, an intent typed by hand.
WORST_INPUTS: dict[str, str] = {
    "street_backtracking": '/inform_location{"commune": "1' + " " * 440 + 'x"}',
    "street_backtracking_typed": "1" + " " * 5000 + "x rue",
    "brackets": "[" * 20_000 + "](" * 5_000,
    "digits": "1 " * 20_000,
    "words": "je voudrais une carte grise " * 2_000,
    "email_run": "x" * 50_000 + "@",
    "typed_intent": '/request_human{"commune": "Lille"}',
    "words_of_a_long_sms": "je voudrais une carte grise " * 50,
}


@dataclass
class Measure:
    """Latencies of the second user, and what the attacker got back."""

    latencies: list[float] = field(default_factory=list)
    attack_result: Any = None
    attack_seconds: float = 0.0

    @property
    def worst(self) -> float:
        return max(self.latencies) if self.latencies else float("inf")


def identity_card_title() -> str:
    """The words that prove the second user got the right answer."""
    return shipped_procedure("identity_card").title


def rest_say(stack: Stack, sender: str, text: str, timeout: float = 120) -> requests.Response:
    """One REST message, whatever the status."""
    return requests.post(stack.rest_url, json={"sender": sender, "message": text}, timeout=timeout)


def second_user_asks(stack: Stack) -> float:
    """The time an ordinary REST user waits for the identity-card answer (asserted correct)."""
    started = time.monotonic()
    response = rest_say(stack, f"second-{uuid.uuid4().hex[:8]}", SECOND_USER_QUESTION)
    elapsed = time.monotonic() - started
    assert response.status_code == 200, response.text[:300]
    text = "\n".join(m.get("text") or "" for m in response.json())
    assert identity_card_title() in text, text[:300]
    return elapsed


def during(stack: Stack, attack: Callable[[], Any], repeats: int = 3, head_start: float = 0.3) -> Measure:
    """Run `attack` in a thread; meanwhile the second user asks `repeats` times, one after the other.

    The head start only lets the attack reach the server first; nothing is concluded from it. An attack that
    raised, or did not end within 300 s, fails the test.
    """
    measure = Measure()

    def run() -> None:
        started = time.monotonic()
        measure.attack_result = attack()
        measure.attack_seconds = time.monotonic() - started

    with ThreadPoolExecutor(max_workers=1) as pool:
        attacking = pool.submit(run)
        time.sleep(head_start)
        for _ in range(repeats):
            measure.latencies.append(second_user_asks(stack))
        attacking.result(timeout=300)
    return measure


_fiction_numbers = itertools.count(5000)


def fiction_phone() -> str:
    """A mobile number of ARCEP's range for fiction that no other test of this run writes from."""
    return f"+3363998{next(_fiction_numbers):04d}"


def sms_send(stack: Stack, phone: str, text: str) -> requests.Response:
    """A signed SMS Gateway for Android webhook."""
    body = android_webhook_body(phone, text)
    headers = android_webhook_headers(stack.env["SMS_WEBHOOK_SIGNING_KEY"], body)
    return requests.post(f"{stack.rasa_url}/webhooks/sms/android", data=body, headers=headers, timeout=60)


def sms_replies(stack: Stack, phone: str) -> list[dict[str, Any]]:
    """What the fake gateway sent to that number."""
    response = requests.get(f"{stack.sms_gateway_url}/messages", params={"phoneNumber": phone}, timeout=10)
    return response.json()


def wait_sms_reply(stack: Stack, phone: str, timeout: float = 60) -> str:
    """The first SMS the bot sent to that number."""
    messages = wait_until(lambda: sms_replies(stack, phone), timeout, what="an SMS reply")
    return str(messages[0]["text"])


CONNECTION_CLOSED = "connection closed"


async def socket_say(stack: Stack, text: str, metadata: dict[str, Any] | None = None,
                     timeout: float = 120, expect_close: bool = False) -> list[dict[str, Any]] | str:
    """Open a web chat session, send one message, and return the bot messages received after it is handled.

    With `expect_close`, wait instead for the server to close the connection and return CONNECTION_CLOSED.
    """
    async with SocketIOClient(stack.rasa_url) as client:
        session = await client.start_session(None)
        data: dict[str, Any] = {"message": text, "metadata": metadata or {"message_id": uuid.uuid4().hex},
                                "session_id": session}  # ignored now: the socket's own session counts
        ack = await client.emit("user_uttered", data, ack=True)
        if expect_close:
            await client.wait_closed()
            return CONNECTION_CLOSED
        assert ack is not None
        # The acknowledgement is sent once the message is handled, behind its replies on the same socket.
        await client.wait_ack(ack, timeout=timeout)
        return [payload for name, payload in client.events if name == "bot_uttered"]
