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

# Numbers from the range ARCEP reserves for fiction: they reach nobody.
PHONE = "+33639980042"
OTHER_PHONE = "+33639980043"


def send_sms(stack: Stack, phone: str, text: str, key: str | None = None) -> int:
    body = android_webhook_body(phone, text)
    headers = android_webhook_headers(key or stack.env["SMS_WEBHOOK_SIGNING_KEY"], body)
    return requests.post(f"{stack.rasa_url}/webhooks/sms/android", data=body, headers=headers, timeout=30).status_code


def sent_to(stack: Stack, phone: str, after: int = 0) -> list[dict[str, Any]]:
    response = requests.get(f"{stack.sms_gateway_url}/messages", params={"phoneNumber": phone, "after": after},
                            timeout=10)
    return response.json()


def wait_for_reply(stack: Stack, phone: str, after: int = 0, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        messages = sent_to(stack, phone, after)
        if messages:
            time.sleep(1.0)  # let a second SMS of the same turn arrive, if any (there must be none)
            return sent_to(stack, phone, after)[0]
        time.sleep(0.3)
    raise AssertionError(f"no SMS sent within {timeout} s")


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
    assert len(sent_to(stack, PHONE)) == 1  # one reply, not one SMS per button

    assert send_sms(stack, PHONE, "0") == 200
    handoff = wait_for_reply(stack, PHONE, after=answer["id"])
    handoff["text"].encode("gsm03.38")
    assert segment_count(handoff["text"]) <= 2
    events = tracker(stack, pseudonymise(PHONE, stack.env["NUMECRIVAIN_SMS_PEPPER"]))["events"]
    user_intents = [e["parse_data"]["intent"]["name"] for e in events if e["event"] == "user"]
    assert user_intents[-1] == "request_human"
    assert "action_request_human" in [e.get("name") for e in events if e["event"] == "action"]


def test_bad_signature_is_refused_and_not_answered(stack: Stack) -> None:
    assert send_sms(stack, OTHER_PHONE, "bonjour", key="not-the-key") == 401
    time.sleep(3)
    assert sent_to(stack, OTHER_PHONE) == []


def test_agent_message_is_relayed_by_sms(stack: Stack) -> None:
    assert send_sms(stack, OTHER_PHONE, "AIDE") == 200
    menu = wait_for_reply(stack, OTHER_PHONE)
    sender_id = pseudonymise(OTHER_PHONE, stack.env["NUMECRIVAIN_SMS_PEPPER"])
    url = f"{stack.rasa_url}/webhooks/sms/agent_message"
    body = {"sender_id": sender_id, "text": "Bonjour, je suis là. Que puis-je faire pour vous ?", "agent": "Camille"}
    assert requests.post(url, json=body, timeout=30).status_code == 401
    response = requests.post(url, json=body, headers={"Authorization": f"Bearer {stack.internal_token}"}, timeout=30)
    assert (response.status_code, response.json()) == (200, {"delivered": True})
    relayed = wait_for_reply(stack, OTHER_PHONE, after=menu["id"])
    assert relayed["text"].startswith("Camille (conseiller) : Bonjour, je suis là.")
    unknown = {**body, "sender_id": "sms-" + "0" * 32}
    response = requests.post(url, json=unknown, headers={"Authorization": f"Bearer {stack.internal_token}"},
                             timeout=30)
    assert response.status_code == 404


def test_clear_number_is_in_neither_tracker_store_nor_logs(stack: Stack) -> None:
    if not sent_to(stack, PHONE):
        assert send_sms(stack, PHONE, "bonjour") == 200
        wait_for_reply(stack, PHONE)
    forms = [PHONE, PHONE.removeprefix("+"), "0639980042", "639980042"]
    stored = b"".join(path.read_bytes() for path in stack.tracker_db.parent.glob("tracker.db*"))
    assert stored, "the tracker store file must exist"
    assert pseudonymise(PHONE, stack.env["NUMECRIVAIN_SMS_PEPPER"]).encode() in stored
    log = (stack.tracker_db.parent / "stack.log").read_bytes()
    for form in forms:
        assert form.encode() not in stored
        assert form.encode() not in log
