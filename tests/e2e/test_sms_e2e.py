"""SMS end to end: signed webhooks to the real Rasa server, replies read back from the fake gateway."""

from __future__ import annotations

import time
from typing import Any

import gsm0338  # noqa: F401  (GSM 03.38 codec)
import pytest
import requests

from bot.channels.sms.pseudonym import pseudonymise
from bot.gsm7 import segment_count
from devtools.fake_sms_gateway import android_webhook_body, android_webhook_headers
from tests.conftest import Stack

pytestmark = pytest.mark.stack

# Numbers from the range ARCEP reserves for fiction: they reach nobody. One per test, so that no test reads
# another's messages from the shared gateway, whatever the order they run in.
PHONE = "+33639980042"
AGENT_PHONE = "+33639980043"
FORGED_PHONE = "+33639980044"
STORED_PHONE = "+33639980045"


def send_sms(stack: Stack, phone: str, text: str, key: str | None = None) -> int:
    body = android_webhook_body(phone, text)
    headers = android_webhook_headers(key or stack.env["SMS_WEBHOOK_SIGNING_KEY"], body)
    return requests.post(f"{stack.rasa_url}/webhooks/sms/android", data=body, headers=headers, timeout=30).status_code


def sent_to(stack: Stack, phone: str, after: int = 0) -> list[dict[str, Any]]:
    query: dict[str, str | int] = {"phoneNumber": phone, "after": after}
    response = requests.get(f"{stack.sms_gateway_url}/messages", params=query, timeout=10)
    return response.json()


def wait_for_reply(stack: Stack, phone: str, after: int = 0, timeout: float = 90) -> dict[str, Any]:
    """The first SMS sent to that number after the message `after`, waiting for it."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sent_to(stack, phone, after)
        if messages:
            return messages[0]
        time.sleep(0.3)
    raise AssertionError(f"no SMS sent within {timeout} s")


def user_texts(stack: Stack, phone: str) -> list[str]:
    """What the bot read from that number, in order."""
    events = tracker(stack, pseudonymise(phone, stack.env["NUMECRIVAIN_SMS_PEPPER"]))["events"]
    return [e.get("text") or "" for e in events if e["event"] == "user"]


def tracker(stack: Stack, sender_id: str) -> dict[str, Any]:
    response = requests.get(f"{stack.rasa_url}/conversations/{sender_id}/tracker",
                            headers=stack.api_headers, timeout=30)
    response.raise_for_status()
    return response.json()


def test_lost_id_card_by_sms_gets_gsm7_answer_with_menu_and_zero_starts_handoff(stack: Stack) -> None:
    assert send_sms(stack, PHONE, "jai perdu ma cni") == 200
    answer = wait_for_reply(stack, PHONE)
    text = answer["text"]
    text.encode("gsm03.38")  # raises if the reply would switch to UCS-2
    assert segment_count(text) <= 2
    assert "0 Parler à une personne" in text
    assert "\n1 " in text  # a numbered menu

    assert send_sms(stack, PHONE, "0") == 200
    handoff = wait_for_reply(stack, PHONE, after=answer["id"])
    # Turns of one number are handled in order: a second SMS of the first turn would come before this reply.
    assert [m["id"] for m in sent_to(stack, PHONE)][:2] == [answer["id"], handoff["id"]]
    handoff["text"].encode("gsm03.38")
    assert segment_count(handoff["text"]) <= 2
    events = tracker(stack, pseudonymise(PHONE, stack.env["NUMECRIVAIN_SMS_PEPPER"]))["events"]
    user_intents = [e["parse_data"]["intent"]["name"] for e in events if e["event"] == "user"]
    assert user_intents[-1] == "request_human"
    assert "action_request_human" in [e.get("name") for e in events if e["event"] == "action"]


def test_bad_signature_is_refused_and_not_answered(stack: Stack) -> None:
    assert send_sms(stack, FORGED_PHONE, "message falsifié", key="not-the-key") == 401
    # The next, genuine SMS of that number is answered: the forged one, had it been taken, would have been
    # read before it (or joined to it).
    assert send_sms(stack, FORGED_PHONE, "bonjour") == 200
    reply = wait_for_reply(stack, FORGED_PHONE)
    assert sent_to(stack, FORGED_PHONE) == [reply]
    assert user_texts(stack, FORGED_PHONE) == ["bonjour"]


def test_agent_message_is_relayed_by_sms(stack: Stack) -> None:
    assert send_sms(stack, AGENT_PHONE, "AIDE") == 200
    menu = wait_for_reply(stack, AGENT_PHONE)
    sender_id = pseudonymise(AGENT_PHONE, stack.env["NUMECRIVAIN_SMS_PEPPER"])
    url = f"{stack.rasa_url}/webhooks/sms/agent_message"
    body = {"sender_id": sender_id, "text": "Bonjour, je suis là. Que puis-je faire pour vous ?", "agent": "Camille"}
    assert requests.post(url, json=body, timeout=30).status_code == 401
    response = requests.post(url, json=body, headers={"Authorization": f"Bearer {stack.internal_token}"}, timeout=30)
    assert (response.status_code, response.json()) == (200, {"delivered": True})
    relayed = wait_for_reply(stack, AGENT_PHONE, after=menu["id"])
    assert relayed["text"].startswith("Camille (conseiller) : Bonjour, je suis là.")
    unknown = {**body, "sender_id": "sms-" + "0" * 32}
    response = requests.post(url, json=unknown, headers={"Authorization": f"Bearer {stack.internal_token}"},
                             timeout=30)
    assert response.status_code == 404


def test_clear_number_is_in_neither_tracker_store_nor_logs(stack: Stack) -> None:
    assert send_sms(stack, STORED_PHONE, "bonjour") == 200
    wait_for_reply(stack, STORED_PHONE)
    forms = [STORED_PHONE, STORED_PHONE.removeprefix("+"), "0639980045", "639980045"]
    stored = b"".join(path.read_bytes() for path in stack.tracker_db.parent.glob("tracker.db*"))
    assert stored, "the tracker store file must exist"
    assert pseudonymise(STORED_PHONE, stack.env["NUMECRIVAIN_SMS_PEPPER"]).encode() in stored
    log = (stack.tracker_db.parent / "stack.log").read_bytes()
    for form in forms:
        assert form.encode() not in stored
        assert form.encode() not in log
