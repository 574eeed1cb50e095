"""A person asked for: the ticket agents see, the pause, the REST outbox address, honest answers when nobody can."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError

from bot.handoff import person_request
from bot.handoff.availability import NOBODY, OPEN, Availability
from bot.handoff.person_request import answer_request_for_a_person, client_key, outbox_url, ticket_for
from bot.handoff.targets import HandoffTarget, HandoffTicket, QueuedHandoff
from bot.replies import CALLBACK_PAYLOAD, HUMAN_PAYLOAD, PHONE_HELP
from bot.security.ratelimit import CLIENT_METADATA_KEY, client_metadata_value


class FakeTarget:
    """A queue that always has room (or nobody), remembering what it was given."""

    name = "fake"

    def __init__(self, state: str = OPEN, outbox_key: str | None = "clé/à lire") -> None:
        self.state, self.outbox_key = state, outbox_key
        self.tickets: list[HandoffTicket] = []

    def availability(self, now: datetime | None = None) -> Availability:
        return Availability(self.state)

    def enqueue(self, ticket: HandoffTicket) -> QueuedHandoff:
        self.tickets.append(ticket)
        return QueuedHandoff("1", 1, self.outbox_key)

    def notify(self, sender_id: str, event: str, text: str | None = None) -> None:
        return None


@pytest.fixture(autouse=True)
def database(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The request limits count in a private project database; the portal has a known address."""
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", f"sqlite:///{tmp_path / 'person.db'}")
    monkeypatch.setenv("WEB_URL", "http://portal.test")


def ticket(channel: str = "rest", sender_id: str = "rest:moi", commune: str | None = None) -> HandoffTicket:
    return ticket_for(sender_id, channel, [{"event": "user", "text": "un humain svp"}], commune=commune)


def buttons(answer: person_request.PersonAnswer) -> list[str]:
    return [button.payload for button in answer.reply.buttons]


def test_queued_rest_client_gets_its_outbox_address_and_the_bot_pauses() -> None:
    target = FakeTarget()
    answer = answer_request_for_a_person(ticket(), target=target)
    assert answer.pauses and "file d'attente" in answer.reply.text
    assert HUMAN_PAYLOAD not in buttons(answer)  # a person is on the way: the choice would ask again
    assert answer.waiting_status == {"handoff": {
        "status": "waiting", "poll_seconds": 2,
        "messages_url": "http://portal.test/api/handoff/rest%3Amoi/messages?key=cl%C3%A9%2F%C3%A0%20lire"}}
    assert [t.sender_id for t in target.tickets] == ["rest:moi"]


@pytest.mark.parametrize(("channel", "outbox_key"), [("webchat", "k"), ("sms", "k"), ("rest", None)])
def test_channels_that_are_pushed_to_get_no_outbox_address(channel: str, outbox_key: str | None) -> None:
    answer = answer_request_for_a_person(ticket(channel), target=FakeTarget(outbox_key=outbox_key))
    assert answer.pauses and answer.waiting_status is None


def test_nobody_available_does_not_pause_and_offers_a_callback_and_a_person() -> None:
    answer = answer_request_for_a_person(ticket("webchat"), target=FakeTarget(NOBODY))
    assert not answer.pauses and answer.waiting_status is None
    assert "occupées ou absentes" in answer.reply.text and PHONE_HELP in answer.reply.text
    assert buttons(answer)[0] == CALLBACK_PAYLOAD and buttons(answer)[-1] == HUMAN_PAYLOAD


def test_a_broken_queue_never_pauses_and_gives_the_phone_line() -> None:
    def broken() -> HandoffTarget:
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))

    answer = answer_request_for_a_person(ticket(), target=broken)
    assert not answer.pauses and PHONE_HELP in answer.reply.text and buttons(answer)[-1] == HUMAN_PAYLOAD


def test_the_intro_comes_first() -> None:
    answer = answer_request_for_a_person(ticket("webchat"), "Je ne comprends toujours pas.", target=FakeTarget())
    assert answer.reply.text.startswith("Je ne comprends toujours pas.\n\nD'accord, je préviens")


def test_the_nearest_france_services_is_given_when_the_commune_is_known(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def nearest(commune: str) -> str:
        asked.append(commune)
        return "Ici."

    monkeypatch.setattr(person_request, "nearest_place_sentence", nearest)
    answer = answer_request_for_a_person(ticket("webchat", commune="Roubaix"), target=FakeTarget(NOBODY))
    assert asked == ["Roubaix"] and answer.reply.text.endswith("\n\nIci.")


def test_the_places_finder_failing_never_blocks_the_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(commune: str) -> str:
        raise RuntimeError("index unavailable")

    monkeypatch.setattr("bot.places.render.france_services_sentence", broken)
    assert person_request.nearest_place_sentence("Roubaix") is None
    assert person_request.nearest_place_sentence(None) is None


def test_ticket_carries_transcript_topic_and_only_a_key_the_channel_made() -> None:
    events: list[dict[str, Any]] = [
        {"event": "user", "text": "passeport", "parse_data": {"intent": {"name": "procedure_passport"}}},
        {"event": "bot", "text": "Fiche"}]
    made = ticket_for("web-1", "webchat", events, commune="Lille",
                      metadata={CLIENT_METADATA_KEY: client_metadata_value("203.0.113.5")})
    assert (made.channel, made.commune, made.topic) == ("webchat", "Lille", "procedure_passport")
    assert [m["text"] for m in made.transcript] == ["passeport", "Fiche"]
    assert made.client_key is not None and made.client_key.startswith("c-")
    assert ticket_for("x", None, []).channel == "rest"
    assert client_key({CLIENT_METADATA_KEY: "203.0.113.5"}) is None  # an address, not a key the channel makes
    assert client_key("not a mapping") is None


def test_outbox_url_quotes_the_conversation_and_the_key() -> None:
    assert outbox_url("http://p", "a/b", "k&x=1") == "http://p/api/handoff/a%2Fb/messages?key=k%26x%3D1"
