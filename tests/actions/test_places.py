"""Places actions: read entities, slots and widget coordinates; answer with places and a person."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.places import ActionAskCommune, ActionFindPlaces, ValidatePlacesForm
from bot.places import answer as places_answer
from bot.places.hours import PARIS
from bot.places.importer import DEFAULT_PLACES_CSV, parse_places_file
from bot.places.search import PlaceIndex
from bot.replies import HUMAN_PAYLOAD, PHONE_HELP, SMS_PAGE_BREAK
from tests.trackers import empty_domain, make_tracker, user_event

TUESDAY_10H = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)


@pytest.fixture(autouse=True)
def shipped_places(monkeypatch: pytest.MonkeyPatch) -> None:
    """The shipped places and a fixed clock, without touching the project database."""
    index = PlaceIndex(parse_places_file(DEFAULT_PLACES_CSV)[0])
    monkeypatch.setattr(places_answer, "get_place_index", lambda: index)
    monkeypatch.setattr(places_answer, "paris_now", lambda: TUESDAY_10H)


def entity(name: str, value: str) -> dict[str, Any]:
    return {"entity": name, "value": value, "extractor": "RegexEntityExtractor"}


async def find(tracker: Tracker) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    dispatcher = CollectingDispatcher()
    events = await ActionFindPlaces().run(dispatcher, tracker, empty_domain())
    return dispatcher.messages, events


async def test_seclin_request_shows_its_france_services_and_remembers_the_commune() -> None:
    tracker = make_tracker("je cherche un médiateur numérique à Seclin", "find_help_nearby",
                           entities=[entity("commune", "Seclin")])
    messages, events = await find(tracker)
    assert "France services Mairie de Seclin" in messages[0]["text"]
    assert messages[0]["custom"]["type"] == "places"
    assert messages[-1]["buttons"][-1]["payload"] == HUMAN_PAYLOAD
    assert {"event": "slot", "name": "commune", "value": "Seclin", "timestamp": None} in events


async def test_remembered_commune_is_used_when_the_message_names_none() -> None:
    tracker = make_tracker("un endroit ouvert samedi", "find_help_nearby", slots={"commune": "59200"})
    messages, _ = await find(tracker)
    assert "Tourcoing" in messages[0]["text"] and "ouvert le samedi" in messages[0]["text"]


async def test_needs_said_before_the_commune_are_kept() -> None:
    history = [user_event("un ordinateur en libre accès", "find_help_nearby")]
    tracker = make_tracker("Roubaix", "inform_location", entities=[entity("commune", "Roubaix")], history=history)
    messages, _ = await find(tracker)
    assert "ordinateur et Internet en libre accès" in messages[0]["text"]


async def test_sms_channel_gets_a_short_gsm7_answer() -> None:
    from bot.gsm7 import is_gsm7, segment_count
    tracker = make_tracker("59200", "inform_location", channel="sms", entities=[entity("postcode", "59200")])
    messages, _ = await find(tracker)
    pages = messages[0]["text"].split(SMS_PAGE_BREAK)  # the first place now, the others on PLUS
    assert len(pages) >= 2 and all(is_gsm7(page) and segment_count(page) <= 2 for page in pages)


async def test_widget_coordinates_in_the_payload_search_from_the_position() -> None:
    payload = make_tracker("/find_help_nearby", "find_help_nearby",
                           entities=[entity("latitude", "50.63"), entity("longitude", "3.06")])
    messages, events = await find(payload)
    assert "près de votre position" in messages[0]["text"]
    assert events[0]["value"].startswith("geo:")


async def test_outside_the_mel_gives_the_national_map() -> None:
    messages, events = await find(make_tracker("Arras", "inform_location"))
    assert "cartographie.societenumerique.gouv.fr" in messages[0]["text"] and events == []


async def test_form_extracts_the_answer_and_refuses_a_commune_outside() -> None:
    form = ValidatePlacesForm()
    asked = {"requested_slot": "commune"}
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("hellemmes", "inform_location", slots=asked)
    assert await form.extract_commune(dispatcher, tracker, empty_domain()) == {"commune": "Hellemmes"}
    paris = make_tracker("Paris", "inform_location", slots=asked)
    extracted = await form.extract_commune(dispatcher, paris, empty_domain())
    assert await form.validate_commune(extracted["commune"], dispatcher, paris, empty_domain()) == {"commune": None}
    assert PHONE_HELP in dispatcher.messages[-1]["text"]


async def test_form_ignores_messages_that_are_not_about_a_place() -> None:
    tracker = make_tracker("je veux parler à quelqu'un", "request_human", slots={"requested_slot": "commune"})
    assert await ValidatePlacesForm().extract_commune(CollectingDispatcher(), tracker, empty_domain()) == {}


async def test_question_for_the_commune_offers_a_person() -> None:
    dispatcher = CollectingDispatcher()
    await ActionAskCommune().run(dispatcher, make_tracker("aide", "find_help_nearby"), empty_domain())
    [message] = dispatcher.messages
    assert message["text"].startswith("Dans quelle commune habitez-vous ?")
    assert message["buttons"][-1]["payload"] == HUMAN_PAYLOAD
