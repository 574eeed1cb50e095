"""Callbacks on the real stack: nobody can have the agents call a stranger.

A typed number is kept only once the code sent to it by SMS comes back (read here from the fake gateway, as the
phone's owner would); an SMS user is called back on the number they write from, without typing one.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest

from bot.handoff.callbacks import InvalidPhoneNumberError, normalise_french_phone
from tests.conftest import Stack
from tests.e2e.rest import all_text, new_sender, say
from tests.handoff.agent_client import AgentClient, create_agent
from tests.security.attacks import sms_replies, sms_send
from tests.stack import wait_until

pytestmark = pytest.mark.stack
PASSWORD = "mot de passe des rappels"


@pytest.fixture(scope="module")
def agent(stack: Stack) -> AgentClient:
    create_agent(stack.env, "agent.rappels", PASSWORD)
    return AgentClient(stack.web_url, "agent.rappels", PASSWORD)


def fresh_mobile() -> tuple[str, str]:
    """A valid French mobile number nobody else in the test run uses: (as typed, as agents read it)."""
    while True:
        digits = f"{uuid.uuid4().int % 10**6:06d}"
        national = f"06 12 {digits[0:2]} {digits[2:4]} {digits[4:6]}"
        try:
            normalise_french_phone(national)
        except InvalidPhoneNumberError:
            continue  # not every range is assigned: the bot would rightly refuse it
        return national, national


def wait_for_code(stack: Stack, phone_e164: str, timeout: float = 30) -> str:
    def sent_code() -> str | None:
        codes = (re.search(r"\b(\d{6})\b", message["text"]) for message in sms_replies(stack, phone_e164))
        return next((found.group(1) for found in codes if found), None)

    return wait_until(sent_code, timeout, what="a code sent by SMS")


def pending_numbers(agent: AgentClient) -> list[str]:
    return [c["phone"] for c in agent.get("/agents/api/callbacks")["callbacks"]]


def e164(national: str) -> str:
    return "+33" + national.replace(" ", "")[1:]


def start_callback_form(stack: Stack, sender: str) -> None:
    assert "numéro" in all_text(say(stack.rest_url, sender, "je veux être rappelé"))
    assert "Quel numéro" in all_text(say(stack.rest_url, sender, "oui"))


def test_a_typed_number_is_called_back_only_after_its_owner_returns_the_code(stack: Stack, agent: AgentClient):
    sender, (typed, national) = new_sender(), fresh_mobile()
    start_callback_form(stack, sender)
    asked = all_text(say(stack.rest_url, sender, typed))
    assert "code à 6 chiffres" in asked and national[-2:] in asked
    assert national not in pending_numbers(agent)  # nothing for the agents yet
    code = wait_for_code(stack, e164(typed))
    done = all_text(say(stack.rest_url, sender, code))
    assert "Une personne vous appellera" in done and f"•• {national[-2:]}" in done
    assert national in pending_numbers(agent)


def test_a_strangers_number_never_reaches_the_agents(stack: Stack, agent: AgentClient):
    sender, (typed, national) = new_sender(), fresh_mobile()
    start_callback_form(stack, sender)
    say(stack.rest_url, sender, typed)
    # The attacker does not have the stranger's phone: three guesses, then the number is forgotten.
    answers = [all_text(say(stack.rest_url, sender, guess)) for guess in ("000000", "123456", "999999")]
    assert all("ne correspond pas" in answer for answer in answers)
    assert "Écrivez à nouveau votre numéro" in answers[-1]
    assert national not in pending_numbers(agent)
    # The stranger received one code, with a sentence telling them to ignore it.
    [received] = sms_replies(stack, e164(typed))
    assert "ignorez ce message" in received["text"]


def test_one_number_cannot_be_flooded_with_codes(stack: Stack):
    typed, _ = fresh_mobile()
    answers = []
    for _ in range(4):
        sender = new_sender()  # a fresh conversation each time
        start_callback_form(stack, sender)
        answers.append(all_text(say(stack.rest_url, sender, typed)))
    assert all("code à 6 chiffres" in answer for answer in answers[:3])
    assert "plusieurs codes" in answers[3] and "n'est pas enregistrée" in answers[3]
    assert len(sms_replies(stack, e164(typed))) == 3


def send_sms(stack: Stack, phone: str, text: str) -> None:
    assert sms_send(stack, phone, text).status_code == 200


def wait_for_sms(stack: Stack, phone: str, count: int, timeout: float = 90) -> list[dict[str, Any]]:
    def enough() -> list[dict[str, Any]] | None:
        messages = sms_replies(stack, phone)
        return messages if len(messages) >= count else None

    return wait_until(enough, timeout, what=f"{count} SMS")


def test_sms_user_is_called_back_on_the_number_they_write_from(stack: Stack, agent: AgentClient):
    national, _ = fresh_mobile()
    phone = e164(national)
    send_sms(stack, phone, "je veux être rappelé")
    question = wait_for_sms(stack, phone, 1)[-1]["text"]
    assert "numéro qui nous écrit" in question
    send_sms(stack, phone, "oui")
    confirmed = wait_for_sms(stack, phone, 2)[-1]["text"]
    assert "vous appellera" in confirmed and national[-2:] in confirmed
    assert national in pending_numbers(agent)
