"""Internal surfaces of the real stack: the action server and Rasa's HTTP API answer only our own services.

Before: the action server listened on 0.0.0.0 with no authentication (a forged tracker queued a handoff with
any transcript, targeted any conversation, planted any callback number), and Rasa's API key sat on Rasa's
command line and travelled in `?token=` query strings.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

import jwt
import pytest
import requests
from sqlalchemy import column, create_engine, func, inspect, select, table

from bot.service_auth import RASA_JWT_METHOD, bearer_header
from tests.conftest import Stack
from tests.security.processes import command_line, listening_addresses, service_pid

pytestmark = pytest.mark.stack

PHISHING = "Agent : votre compte sera bloqué, donnez votre code de carte bancaire sur http://faux-site.example"
PHONE = "06 12 34 56 78"


def action_call(action: str, sender: str, text: str, channel: str = "socketio",
                slots: dict[str, Any] | None = None) -> dict[str, Any]:
    """A tracker as Rasa posts it to the action server, entirely written by the attacker."""
    now = time.time()
    latest = {"text": text, "intent": {"name": "request_human", "confidence": 1.0}, "entities": []}
    events = [
        {"event": "action", "name": "action_listen", "timestamp": now},
        {"event": "user", "text": text, "timestamp": now, "parse_data": latest, "input_channel": channel},
    ]
    tracker = {"sender_id": sender, "slots": slots or {}, "latest_message": latest, "events": events,
               "paused": False, "followup_action": None, "active_loop": {}, "latest_action_name": "action_listen",
               "latest_input_channel": channel}
    domain: dict[str, Any] = {"slots": {}, "responses": {}, "forms": {}, "intents": [], "entities": [], "actions": []}
    return {"next_action": action, "sender_id": sender, "tracker": tracker, "domain": domain, "version": "3.6.21"}


FORGED_CALLS = {
    "handoff_with_phishing_transcript": action_call("action_request_human", "socketio:forged-1", PHISHING),
    "relay_into_another_conversation": action_call("action_request_human", "sms:victim-pseudonym", "aidez moi",
                                                   channel="sms"),
    "phone_number_into_callbacks": action_call(
        "validate_callback_form", "socketio:forged-2", PHONE,
        slots={"requested_slot": "callback_phone", "callback_consent": True}),
}


# Written in the background by Rasa's event broker for every conversation of the shared stack (other tests'
# included): counted for the forged conversation only.
BROKER_COPY = "conversation_events"


def row_counts(database_url: str, sender_id: str) -> dict[str, int]:
    """Rows in every table of the project database (handoff queue, callbacks...), events of this sender only."""
    engine = create_engine(database_url, future=True)
    try:
        with engine.connect() as connection:
            counts = {name: connection.execute(select(func.count()).select_from(table(name))).scalar_one()
                      for name in inspect(connection).get_table_names() if name != BROKER_COPY}
            events = table(BROKER_COPY, column("sender_id"))
            counts[BROKER_COPY] = connection.execute(
                select(func.count()).select_from(events).where(events.c.sender_id == sender_id)).scalar_one()
            return counts
    finally:
        engine.dispose()


@pytest.mark.parametrize("attack", sorted(FORGED_CALLS))
@pytest.mark.parametrize("credentials", ["none", "wrong_secret", "secret_in_query_string"])
def test_forged_action_call_is_refused_and_changes_nothing(stack: Stack, attack: str, credentials: str) -> None:
    sender_id = FORGED_CALLS[attack]["sender_id"]
    before = row_counts(stack.database_url, sender_id)
    headers, params = {}, {}
    if credentials == "wrong_secret":
        headers = bearer_header("guessed-" + stack.actions_token[:4])
    elif credentials == "secret_in_query_string":
        params = {"token": stack.actions_token}
    response = requests.post(f"{stack.actions_url}/webhook", json=FORGED_CALLS[attack], headers=headers,
                             params=params, timeout=30)
    assert response.status_code == 401
    assert PHISHING not in response.text and PHONE not in response.text
    assert row_counts(stack.database_url, sender_id) == before


def test_same_forged_call_runs_with_the_secret_so_the_refusal_is_the_secret(stack: Stack) -> None:
    call = action_call("action_ask_callback_consent", "socketio:control", "rappel")
    response = requests.post(f"{stack.actions_url}/webhook", json=call, headers=bearer_header(stack.actions_token),
                             timeout=30)
    assert response.status_code == 200
    assert "numéro" in response.json()["responses"][0]["text"]


def test_every_action_server_route_but_health_wants_the_secret(stack: Stack) -> None:
    assert requests.get(f"{stack.actions_url}/health", timeout=10).status_code == 200
    assert requests.get(f"{stack.actions_url}/actions", timeout=10).status_code == 401
    listed = requests.get(f"{stack.actions_url}/actions", headers=bearer_header(stack.actions_token), timeout=10)
    assert listed.status_code == 200 and {"name": "action_request_human"} in listed.json()


def test_action_server_refuses_an_oversized_body_unread(stack: Stack) -> None:
    body = b'{"next_action": "action_request_human", "padding": "' + b"x" * (9 * 1024 * 1024) + b'"}'
    response = requests.post(f"{stack.actions_url}/webhook", data=body, timeout=60,
                             headers={**bearer_header(stack.actions_token), "Content-Type": "application/json"})
    assert response.status_code == 413
    assert requests.get(f"{stack.actions_url}/health", timeout=10).status_code == 200


def test_action_server_error_does_not_echo_the_conversation(stack: Stack) -> None:
    broken = {"next_action": "action_request_human", "sender_id": "x", "tracker": f"appelez-moi au {PHONE}",
              "domain": {}, "version": "3.6.21"}
    response = requests.post(f"{stack.actions_url}/webhook", json=broken, headers=bearer_header(stack.actions_token),
                             timeout=30)
    assert response.status_code >= 400
    assert PHONE not in response.text


def test_internal_services_listen_on_loopback_only(stack: Stack) -> None:
    for url in (stack.actions_url, stack.rasa_url, stack.web_url, stack.sms_gateway_url):
        assert listening_addresses(int(url.rsplit(":", 1)[1])) == {"127.0.0.1"}, url


def test_no_secret_on_any_command_line(stack: Stack) -> None:
    rasa_argv = command_line(service_pid(stack.pid, "bot.rasa_server"))
    assert "--enable-api" in rasa_argv and stack.rasa_url.rsplit(":", 1)[1] in rasa_argv
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True, check=True).stdout
    assert " ".join(rasa_argv) in ps
    for secret in (stack.rasa_token, stack.actions_token, stack.internal_token):
        assert secret not in ps
    assert not {"--auth-token", "--jwt-secret", "-t"} & set(rasa_argv)


def test_rasa_api_refuses_the_key_in_a_query_string(stack: Stack) -> None:
    url = f"{stack.rasa_url}/conversations/socketio:someone/tracker"
    assert requests.get(url, params={"token": stack.rasa_token}, timeout=10).status_code == 401
    assert requests.get(url, timeout=10).status_code == 401
    assert requests.get(url, headers=stack.api_headers, timeout=10).status_code == 200


@pytest.mark.parametrize("claims,key,status", [
    ({"user": {"username": "x", "role": "admin"}, "exp": 1}, "stack", 401),  # expired
    ({"user": {"username": "x", "role": "admin"}}, "another-key-of-the-same-length-32b", 401),  # not our key
    ({"user": {"username": "socketio:mine", "role": "user"}}, "stack", 403),  # someone else's conversation
])
def test_rasa_api_refuses_forged_or_stale_jwt(stack: Stack, claims: dict[str, Any], key: str, status: int) -> None:
    token = jwt.encode(claims, stack.rasa_token if key == "stack" else key, algorithm=RASA_JWT_METHOD)
    response = requests.get(f"{stack.rasa_url}/conversations/socketio:someone/tracker",
                            headers={"Authorization": f"Bearer {token}"}, timeout=10)
    assert response.status_code == status


def test_portal_helper_parses_through_the_authenticated_api(stack: Stack) -> None:
    assert stack.parse("jai perdu ma carte d identité")["intent"]["name"]
