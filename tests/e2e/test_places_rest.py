"""The places finder, end to end over the REST channel of the running stack (trained model, real action server)."""

from __future__ import annotations

import re

import pytest

from tests.conftest import Stack
from tests.e2e.rest import all_text, new_sender, offers_a_person, say

pytestmark = pytest.mark.stack
DISTANCE = re.compile(r"\d+(,\d)? km")


def test_seclin_request_returns_its_france_services_with_address_hours_and_distance(stack: Stack) -> None:
    messages = say(stack.rest_url, new_sender(), "je cherche un médiateur numérique à Seclin")
    text = all_text(messages)
    assert "France services Mairie de Seclin" in text
    assert "9 rue Jean Jaurès, 59113 Seclin" in text
    assert DISTANCE.search(text) and ("Aujourd'hui" in text or "Fermé aujourd'hui" in text)
    assert offers_a_person(messages)


def test_postcode_59200_returns_places_in_tourcoing(stack: Stack) -> None:
    sender = new_sender()
    messages = say(stack.rest_url, sender, "59200")
    text = all_text(messages)
    assert text.count("59200 Tourcoing") >= 2 and offers_a_person(messages)


def test_commune_without_place_returns_the_nearest_with_km(stack: Stack) -> None:
    messages = say(stack.rest_url, new_sender(), "je cherche de l'aide à Wambrechies")
    text = all_text(messages)
    assert "Aucun lieu à Wambrechies" in text and DISTANCE.search(text) and offers_a_person(messages)


def test_missing_commune_is_asked_then_remembered(stack: Stack) -> None:
    sender = new_sender()
    asked = say(stack.rest_url, sender, "je cherche de l'aide près de chez moi")
    assert "Dans quelle commune habitez-vous" in all_text(asked) and offers_a_person(asked)
    answered = say(stack.rest_url, sender, "Roubaix")
    assert "59100 Roubaix" in all_text(answered)
    again = say(stack.rest_url, sender, "un ordinateur en libre accès")
    assert "59100 Roubaix" in all_text(again)


def test_asking_for_the_hours_gives_the_week_with_the_trained_model(stack: Stack) -> None:
    messages = say(stack.rest_url, new_sender(), "c quoi les horaires de la france services de Seclin")
    text = all_text(messages)
    assert "France services Mairie de Seclin" in text and "Horaires de la semaine" in text
    assert "Samedi et dimanche : fermé" in text and "Tél. 03 20 84 80 80" in text


def test_places_without_hours_always_give_a_number_to_call(stack: Stack) -> None:
    text = all_text(say(stack.rest_url, new_sender(), "je cherche de l'aide à Armentières"))
    assert "renseignez-vous auprès de France services La Chapelle d'Armentières (à 2,4 km) au 03 20 18 98 98." in text
