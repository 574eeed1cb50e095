"""Agent over-reach on the real stack: an agent reads only the conversations waiting or held by them, cannot
enumerate ids, every read is logged; users read the agent's display name, never the login; one address cannot
fill the queue with fresh conversation ids."""

from __future__ import annotations

import uuid

import pytest
import requests
from sqlalchemy import create_engine, text

from tests.conftest import Stack
from tests.e2e.rest import all_text, new_sender, say
from tests.handoff.agent_client import AgentClient

pytestmark = pytest.mark.stack
PASSWORD = "mot de passe des agents"
ASK_FOR_A_PERSON = "je voudrais parler à un conseiller"


def create_agent_named(stack: Stack, login: str, display_name: str | None = None) -> AgentClient:
    import subprocess
    import sys

    from bot.paths import PROJECT_ROOT

    command = [sys.executable, "-m", "bot.handoff.accounts", "create", login]
    if display_name:
        command += ["--display-name", display_name]
    result = subprocess.run(command, input=PASSWORD + "\n", capture_output=True, text=True, cwd=PROJECT_ROOT,
                            env=stack.env, timeout=120, check=False)
    assert result.returncode == 0 or "existe déjà" in result.stderr, result.stderr
    client = AgentClient(stack.web_url, login, PASSWORD)
    client.set_available(True)
    return client


@pytest.fixture(scope="module")
def agents(stack: Stack):
    first = create_agent_named(stack, "claire.dupont.overreach")
    second = create_agent_named(stack, "karim.benali.overreach", display_name="Karim B.")
    yield first, second
    for agent in (first, second):
        agent.set_available(False)


def marker() -> str:
    """Letters only: redaction masks long digit runs, and the marker must survive it."""
    return "".join("abcdefghjkmnpqrstuvwxyz"[b % 23] for b in uuid.uuid4().bytes[:8])


def queued(stack: Stack, agent: AgentClient) -> tuple[str, str, str]:
    """A REST user asks for a person and writes a private detail; returns (sender, detail, public id)."""
    sender, detail = new_sender(), f"mon dossier privé {marker()}"
    first = say(stack.rest_url, sender, ASK_FOR_A_PERSON)
    assert "file d'attente" in all_text(first)
    say(stack.rest_url, sender, detail)
    return sender, detail, agent.find_waiting(detail)


def status_of(agent: AgentClient, path: str) -> int:
    return agent.http.get(f"{agent.web_url}{path}", timeout=30).status_code


def test_agent_cannot_read_a_colleagues_or_an_ended_conversation(stack: Stack, agents):
    claire, karim = agents
    _, karims_detail, karims = queued(stack, karim)
    assert karim.post(f"/agents/api/requests/{karims}/take").status_code == 200
    response = claire.http.get(f"{claire.web_url}/agents/api/requests/{karims}", timeout=30)
    assert response.status_code == 404 and karims_detail not in response.text

    _, _, mine = queued(stack, claire)
    assert claire.post(f"/agents/api/requests/{mine}/take").status_code == 200
    assert status_of(claire, f"/agents/api/requests/{mine}") == 200
    assert claire.post(f"/agents/api/requests/{mine}/close").status_code == 200
    assert status_of(claire, f"/agents/api/requests/{mine}") == 404  # once ended, no longer hers to read
    assert karim.post(f"/agents/api/requests/{karims}/close").status_code == 200


def test_sequential_ids_cannot_be_enumerated(stack: Stack, agents):
    claire, _ = agents
    assert [status_of(claire, f"/agents/api/requests/{n}") for n in range(1, 30)] == [404] * 29


def test_every_read_is_logged_with_who_which_and_when(stack: Stack, agents):
    claire, _ = agents
    _, _, public_id = queued(stack, claire)
    before = read_log(stack, public_id)
    claire.transcript(public_id)
    after = read_log(stack, public_id)
    me = claire.get("/agents/api/me")
    assert len(after) == len(before) + 1
    agent_id, read_at = after[-1]
    assert agent_id == agent_id_of(stack, me["name"]) and read_at is not None
    assert claire.post(f"/agents/api/requests/{public_id}/take").status_code == 200
    assert claire.post(f"/agents/api/requests/{public_id}/close").status_code == 200


def read_log(stack: Stack, public_id: str) -> list[tuple[int, str]]:
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        rows = conn.execute(text(
            "SELECT r.agent_id, r.read_at FROM handoff_reads r JOIN handoff_requests q ON q.id = r.request_id "
            "WHERE q.public_id = :public_id ORDER BY r.id"), {"public_id": public_id}).all()
    engine.dispose()
    return [(int(row[0]), str(row[1])) for row in rows]


def agent_id_of(stack: Stack, login: str) -> int:
    engine = create_engine(stack.database_url)
    with engine.connect() as conn:
        agent_id = conn.execute(text("SELECT id FROM handoff_agents WHERE name = :name"), {"name": login}).scalar()
    engine.dispose()
    assert agent_id is not None, f"no agent {login!r}"
    return int(agent_id)


def test_the_user_reads_the_display_name_never_the_login(stack: Stack, agents):
    _, karim = agents
    sender = new_sender()
    first = say(stack.rest_url, sender, ASK_FOR_A_PERSON)
    messages_url = next(m["custom"]["handoff"]["messages_url"] for m in first if m.get("custom"))
    detail = f"question {marker()}"
    say(stack.rest_url, sender, detail)
    public_id = karim.find_waiting(detail)
    assert karim.post(f"/agents/api/requests/{public_id}/take").status_code == 200
    assert karim.post(f"/agents/api/requests/{public_id}/messages", {"text": "Bonjour !"}).status_code == 201
    assert karim.post(f"/agents/api/requests/{public_id}/close").status_code == 200
    reply = requests.get(messages_url, timeout=10)
    assert reply.status_code == 200, (reply.status_code, reply.text, messages_url)
    outbox = reply.json()["messages"]
    assert "Karim B." in outbox[0]["text"] and "a rejoint la conversation" in outbox[0]["text"]
    assert [message["agent"] for message in outbox if message["text"] == "Bonjour !"] == ["Karim B."]
    assert outbox[-1]["text"].startswith("Karim B. a terminé")
    assert "karim.benali" not in str(outbox)


def test_fresh_ids_from_one_address_cannot_flood_the_queue(stack: Stack, agents):
    claire, _ = agents
    before = len(claire.get("/agents/api/queue")["waiting"])
    # As through the reverse proxy (TEST_ENV trusts one proxy hop): every request comes from one client address.
    through_proxy = {"X-Forwarded-For": "203.0.113.77"}
    answers = [all_text(say(stack.rest_url, new_sender(), ASK_FOR_A_PERSON, headers=through_proxy)) for _ in range(8)]
    queued_now = len(claire.get("/agents/api/queue")["waiting"]) - before
    refused = [answer for answer in answers if "plusieurs fois en peu de temps" in answer]
    try:
        assert queued_now <= 5 and len(refused) >= 3  # TEST_ENV: at most 5 waiting per address
    finally:
        for item in claire.get("/agents/api/queue")["waiting"]:  # leave an empty queue to the other tests
            claire.post(f"/agents/api/requests/{item['id']}/take")
            claire.post(f"/agents/api/requests/{item['id']}/close")
