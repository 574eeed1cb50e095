"""The places conversation rules, without Rasa: what a message names, which messages fill the commune, the answer."""

from __future__ import annotations

from typing import Any

import pytest

from bot.places import answer as places_answer
from bot.places.answer import AMBIGUOUS, ASK_LOCATION, OUTSIDE, RESULTS, PlacesAnswer
from bot.places.conversation import (
    UNRESOLVED_MARK,
    check_commune,
    commune_candidate,
    commune_to_remember,
    has_location_entity,
    location_text,
    nearest_places_for,
    request_text,
    widget_coordinates,
)
from bot.places.search import PlaceIndex
from tests.places.conftest import TUESDAY_10H


@pytest.fixture(autouse=True)
def shipped_places(monkeypatch: pytest.MonkeyPatch, index: PlaceIndex) -> None:
    monkeypatch.setattr(places_answer, "get_place_index", lambda: index)
    monkeypatch.setattr(places_answer, "paris_now", lambda: TUESDAY_10H)


def message(text: str, intent: str, entities: list[dict[str, Any]] | None = None,
            metadata: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"text": text, "intent": {"name": intent}, "entities": entities or [], "metadata": metadata or {}}


def user(text: str, intent: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": intent}}}


def commune(name: str) -> list[dict[str, Any]]:
    return [{"entity": "commune", "value": name}]


def test_widget_position_comes_from_the_metadata_then_the_payload() -> None:
    located = message("/find_help_nearby", "find_help_nearby",
                      metadata={"location": {"latitude": 50.6292, "longitude": 3.0573}})
    assert widget_coordinates(located) == (50.6292, 3.0573)
    payload = message("/find_help_nearby", "find_help_nearby",
                      [{"entity": "latitude", "value": "50.63"}, {"entity": "longitude", "value": "3.06"}])
    assert widget_coordinates(payload) == (50.63, 3.06)
    broken = message("x", "find_help_nearby", metadata={"latitude": "nord", "longitude": 3})
    assert widget_coordinates(broken) is None


def test_a_place_is_read_from_the_entities_else_from_the_whole_text() -> None:
    assert location_text(message("à roubaix svp", "inform_location", commune("Roubaix"))) == "Roubaix"
    assert location_text(message("hellemmes", "inform_location")) == "hellemmes"
    assert has_location_entity(message("59200", "nlu_fallback", [{"entity": "postcode", "value": "59200"}]))
    assert not has_location_entity(message("ouvert samedi", "nlu_fallback"))


def test_needs_said_since_the_request_are_kept_and_older_messages_are_not() -> None:
    events = [user("passeport", "procedure_passport"), user("un ordinateur en libre accès", "find_help_nearby"),
              user("/affirm", "affirm"), user("Roubaix", "inform_location")]
    assert request_text(events) == "un ordinateur en libre accès Roubaix"
    other_topic = [user("passeport", "procedure_passport"), user("merci", "thank"), user("Roubaix", "inform_location")]
    assert request_text(other_topic) == "merci Roubaix"  # the first message that is not an answer is the last read


def test_only_messages_about_a_place_fill_the_commune() -> None:
    assert commune_candidate(message("je veux parler à quelqu'un", "request_human"), asked=True) is None
    assert commune_candidate(message("hellemmes", "inform_location"), asked=True) == "Hellemmes"
    assert commune_candidate(message("hellemmes", "affirm"), asked=False) is None  # not an answer when not asked
    assert commune_candidate(message("jsuis a roubaix", "nlu_fallback", commune("Roubaix")), asked=False) == "Roubaix"


def test_a_place_that_cannot_be_used_is_kept_marked_then_explained() -> None:
    candidate = commune_candidate(message("Paris", "inform_location"), asked=True)
    assert candidate == f"{UNRESOLVED_MARK}Paris"
    check = check_commune(candidate)
    assert check.slot_value is None and check.refusal is not None and check.refusal.kind == OUTSIDE
    ambiguous = check_commune(f"{UNRESOLVED_MARK}Sainghin")
    assert ambiguous.refusal is not None and ambiguous.refusal.kind == AMBIGUOUS
    assert len(ambiguous.refusal.candidates) >= 2
    assert check_commune("Seclin").slot_value == "Seclin"


def test_nearest_places_uses_the_remembered_commune_when_the_message_names_a_place_outside() -> None:
    answer = nearest_places_for(message("Arras", "inform_location"), [user("Arras", "inform_location")], "Seclin")
    assert answer.kind == RESULTS and commune_to_remember(answer) == "Seclin"
    nothing_remembered = nearest_places_for(message("Arras", "inform_location"), [], None)
    assert nothing_remembered.kind == OUTSIDE and commune_to_remember(nothing_remembered) is None


def test_nearest_places_asks_where_when_nothing_names_a_place() -> None:
    answer = nearest_places_for(message("de l'aide", "find_help_nearby"), [user("de l'aide", "find_help_nearby")], None)
    assert answer.kind == ASK_LOCATION and commune_to_remember(answer) is None
    assert commune_to_remember(PlacesAnswer(ASK_LOCATION)) is None
