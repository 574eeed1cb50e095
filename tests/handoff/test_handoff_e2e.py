"""End to end over real HTTP: a user asks for a person, an agent answers on the user's channel, the bot resumes."""

from __future__ import annotations

import uuid

import pytest
import requests

from bot.replies import PHONE_HELP
from tests.e2e.rest import all_text, new_sender, say
from tests.handoff.agent_client import AgentClient, create_agent
from tests.web.socketio_client import SocketIOClient

# Typed text is never an intent over REST: people ask in words.
ASK_FOR_A_PERSON = "je voudrais parler à un conseiller"

PASSWORD = "mot de passe de test e2e"
pytestmark = pytest.mark.stack


@pytest.fixture(scope="module")
def agent(stack):
    create_agent(stack.env, "agent.e2e", PASSWORD)
    client = AgentClient(stack.web_url, "agent.e2e", PASSWORD)
    client.set_available(True)
    yield client
    client.set_available(False)  # other tests of the session must not find a person waiting for them


def test_rest_user_reaches_a_person_and_gets_the_bot_back(stack, agent):
    sender = new_sender()
    marker = f"carte vitale {uuid.uuid4().hex[:6]}"
    first = say(stack.rest_url, sender, ASK_FOR_A_PERSON)
    assert "file d'attente" in all_text(first)
    messages_url = next(m["custom"]["handoff"]["messages_url"] for m in first if m.get("custom"))
    assert say(stack.rest_url, sender, f"c'est pour ma {marker}") == []  # paused: no bot reply, but kept

    request_id = agent.find_waiting(marker)
    assert agent.post(f"/agents/api/requests/{request_id}/take").status_code == 200
    waited = [m for m in agent.transcript(request_id) if marker in m["text"]]
    assert waited and waited[0]["while_waiting"] is True

    sent = agent.post(f"/agents/api/requests/{request_id}/messages", {"text": "Bonjour, ici un conseiller."})
    assert sent.status_code == 201 and sent.json()["delivery"] == "outbox"
    outbox = requests.get(messages_url, timeout=10).json()
    assert outbox["status"] == "taken"
    joined, reply = outbox["messages"][0], outbox["messages"][1]
    assert "a rejoint la conversation" in joined["text"]  # the person is told who now answers
    assert reply["text"] == "Bonjour, ici un conseiller."

    closed = agent.post(f"/agents/api/requests/{request_id}/close")
    assert closed.status_code == 200 and closed.json()["resumed"] is True
    assert agent.post(f"/agents/api/requests/{request_id}/messages", {"text": "trop tard"}).status_code == 409
    goodbye = requests.get(messages_url, timeout=10).json()["messages"][-1]
    assert "a terminé la conversation" in goodbye["text"]

    again = say(stack.rest_url, sender, "bonjour")
    assert again and "Numécrivain" in all_text(again)  # the bot answers again


async def test_web_chat_user_gets_the_agent_reply_live_over_socketio(stack, agent):
    session_id = uuid.uuid4().hex
    marker = f"dossier caf {uuid.uuid4().hex[:6]}"
    async with SocketIOClient(stack.rasa_url) as chat:
        await chat.start_session(session_id)
        # The "Parler à une personne" button, as the widget sends a click on it.
        await chat.emit("user_uttered", {"message": "/request_human", "metadata": {"button": True}})
        queued = await chat.wait_for("bot_uttered", 1)
        assert "file d'attente" in queued[0]["text"]
        await chat.emit("user_uttered", {"message": f"mon {marker}", "session_id": session_id})

        request_id = agent.find_waiting(marker)
        assert agent.post(f"/agents/api/requests/{request_id}/take").status_code == 200
        joined = await chat.wait_for("bot_uttered", 2)
        assert "a rejoint la conversation" in joined[1]["text"]  # who answers now, before the first reply
        sent = agent.post(f"/agents/api/requests/{request_id}/messages", {"text": "Je regarde votre dossier."})
        assert sent.json()["delivery"] == "pushed"
        live = await chat.wait_for("bot_uttered", 3)
        assert live[2]["text"] == "Je regarde votre dossier." and live[2]["from"] == "agent"

        assert agent.post(f"/agents/api/requests/{request_id}/close").status_code == 200
        goodbye = await chat.wait_for("bot_uttered", 5)
        assert "a terminé la conversation" in goodbye[3]["text"]
        survey = goodbye[4]  # then the optional satisfaction question, with its three buttons
        assert survey["text"] == "Avez-vous obtenu l'aide dont vous aviez besoin ?"
        assert [b["title"] for b in survey["quick_replies"]] == ["Oui", "En partie", "Non"]
        await chat.emit("user_uttered", {"message": survey["quick_replies"][0]["payload"],
                                         "metadata": {"button": True}, "session_id": session_id})
        thanked = await chat.wait_for("bot_uttered", 6)
        assert thanked[5]["text"].startswith("Merci pour votre réponse")
        await chat.emit("user_uttered", {"message": "bonjour", "session_id": session_id})
        greeted = await chat.wait_for("bot_uttered", 7)
        assert "Numécrivain" in greeted[6]["text"]


def test_double_take_gets_409_for_the_second_agent(stack, agent):
    create_agent(stack.env, "agent.e2e.bis", PASSWORD)
    other = AgentClient(stack.web_url, "agent.e2e.bis", PASSWORD)
    sender, marker = new_sender(), f"impôts {uuid.uuid4().hex[:6]}"
    say(stack.rest_url, sender, ASK_FOR_A_PERSON)
    say(stack.rest_url, sender, marker)
    request_id = agent.find_waiting(marker)
    assert agent.post(f"/agents/api/requests/{request_id}/take").status_code == 200
    second = other.post(f"/agents/api/requests/{request_id}/take")
    assert second.status_code == 409 and "déjà été prise" in second.json()["error"]
    assert agent.post(f"/agents/api/requests/{request_id}/close").status_code == 200


def test_nobody_available_gets_an_honest_answer_and_the_bot_keeps_talking(stack, agent):
    agent.set_available(False)
    try:
        sender = new_sender()
        text = all_text(say(stack.rest_url, sender, ASK_FOR_A_PERSON))
        assert PHONE_HELP in text and "occupées ou absentes" in text
        assert say(stack.rest_url, sender, "bonjour")  # not paused
    finally:
        agent.set_available(True)
