"""Requests for a person are limited per conversation and per address, and one address cannot fill the queue;
every refusal is a kind French answer, never a silent drop and never an error."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionRequestHuman
from bot.db import get_engine
from bot.handoff.store import HandoffQueue
from bot.security.ratelimit import CLIENT_METADATA_KEY, client_metadata_value
from tests.handoff.helpers import actions_database, put_an_agent_on_duty
from tests.trackers import empty_domain, make_tracker

REFUSED = "plusieurs fois en peu de temps"


@pytest.fixture
def queue(tmp_path, monkeypatch) -> HandoffQueue:
    url = actions_database(tmp_path, monkeypatch, "limits.db")
    monkeypatch.setenv("NUMECRIVAIN_RATELIMIT_PEPPER", "test-pepper")
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_PER_CONVERSATION_PER_HOUR", "4")
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_PER_ADDRESS_PER_HOUR", "10")
    monkeypatch.setenv("NUMECRIVAIN_HANDOFF_MAX_WAITING_PER_ADDRESS", "3")
    put_an_agent_on_duty(url)
    return HandoffQueue(get_engine(url))


def tracker(sender: str, address: str | None = "203.0.113.5"):
    ask = make_tracker("je veux parler à quelqu'un", "request_human", channel="webchat", sender_id=sender)
    if address is not None:
        ask.latest_message["metadata"] = {CLIENT_METADATA_KEY: client_metadata_value(address)}
    return ask


async def ask(sender: str, address: str | None = "203.0.113.5") -> tuple[str, list]:
    dispatcher = CollectingDispatcher()
    events = await ActionRequestHuman().run(dispatcher, tracker(sender, address), empty_domain())
    return "\n".join(m.get("text") or "" for m in dispatcher.messages), events


async def test_fresh_conversation_ids_from_one_address_cannot_fill_the_queue(queue):
    answers = [await ask(f"web-flood-{n}") for n in range(6)]
    queued = [text for text, events in answers if events]
    refused = [text for text, events in answers if not events]
    assert len(queued) == 3 and len(queue.waiting()) == 3
    assert len(refused) == 3 and all(REFUSED in text for text in refused)
    # Someone else, from another address, still gets a person.
    text, events = await ask("web-neighbour", "198.51.100.7")
    assert [e["event"] for e in events] == ["pause"] and "file d'attente" in text


async def test_the_address_gets_room_again_once_its_requests_are_handled(queue):
    for n in range(3):
        await ask(f"web-{n}")
    first = queue.waiting()[0]
    queue.take(first.id, "alice")
    _, events = await ask("web-3")
    assert events  # one left the queue: one more may wait


async def test_requests_per_address_per_hour_are_limited_even_when_served(queue):
    outcomes = []
    for n in range(12):
        _, events = await ask(f"web-{n}")
        outcomes.append(bool(events))
        for request in queue.waiting():  # an agent takes each at once: the waiting cap never bites
            queue.take(request.id, "alice")
    assert outcomes == [True] * 10 + [False] * 2


async def test_one_conversation_cannot_ask_again_and_again(queue):
    outcomes = []
    for _ in range(6):
        _, events = await ask("web-insistent", address=None)
        outcomes.append(bool(events))
        request = queue.open_request_for("web-insistent")
        if request is not None:
            queue.close(request.id, "wait_timeout")
    assert outcomes == [True] * 4 + [False] * 2


async def test_a_forged_client_key_is_ignored(queue):
    for n in range(6):
        forged = tracker(f"web-forged-{n}")
        forged.latest_message["metadata"] = {CLIENT_METADATA_KEY: "203.0.113.5"}  # not a key the channel makes
        await ActionRequestHuman().run(CollectingDispatcher(), forged, empty_domain())
    assert all(request.client_key is None for request in queue.waiting())
