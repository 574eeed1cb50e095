"""The same result rendered for the web (Markdown + cards), SMS (GSM-7, 2 segments) and the secretariat."""

from __future__ import annotations

import pytest

from bot.gsm7 import is_gsm7, segment_count
from bot.places.answer import answer_places_request, paris_now
from bot.places.needs import criteria_from_text
from bot.places.render import (
    NATIONAL_MAP,
    escape_markdown,
    format_phone,
    france_services_sentence,
    render_answer,
    render_secretariat,
)
from bot.places.search import PlaceIndex
from bot.replies import HUMAN_PAYLOAD, PHONE_HELP, SMS_PAGE_BREAK
from tests.places.conftest import SUNDAY_11H, TUESDAY_10H, TUESDAY_20H


def _answer(text: str, index: PlaceIndex, now=TUESDAY_10H):
    return answer_places_request(text, criteria_from_text(text), is_answer=True, now=now, index=index)


def test_web_list_has_name_address_distance_hours_phone_and_map(index: PlaceIndex) -> None:
    [reply] = render_answer(_answer("je cherche un médiateur numérique à Seclin", index), "rest")
    assert "**France services Mairie de Seclin**" in reply.text
    assert "9 rue Jean Jaurès, 59113 Seclin – 0,6 km (8 min à pied)" in reply.text
    assert "Aujourd'hui (mardi) : 9h30-13h, 13h45-15h45" in reply.text
    assert "Tél. 03 20 84 80 80" in reply.text
    assert "https://www.openstreetmap.org/?mlat=50.54986&mlon=3.03135#map=17/50.54986/3.03135" in reply.text
    assert reply.buttons[-1].payload == HUMAN_PAYLOAD


def test_web_reply_carries_cards_for_the_widget(index: PlaceIndex) -> None:
    [reply] = render_answer(_answer("Seclin", index), "rest")
    assert reply.custom is not None and reply.custom["type"] == "places"
    card = reply.custom["places"][0]
    assert card["telephone_display"] == "03 20 84 80 80" and card["open_now"] is True
    assert card["map_url"].startswith("https://www.openstreetmap.org/")


def test_nothing_open_now_in_commune_says_so_and_gives_the_nearest_open(index: PlaceIndex) -> None:
    [reply] = render_answer(_answer("ouvert maintenant à Wambrechies", index), "rest")
    assert reply.text.startswith("Aucun lieu ouvert maintenant à Wambrechies. Le plus proche ouvert est ")
    assert " km." in reply.text.splitlines()[0]


@pytest.mark.parametrize("clock", [TUESDAY_10H, TUESDAY_20H, SUNDAY_11H])
@pytest.mark.parametrize("text", ["Seclin", "59200", "ouvert samedi à Lille", "sourd à Lille", "Paris",
                                  "Sainghin", "ordinateur en libre accès à Wambrechies"])
def test_sms_reply_is_gsm7_and_fits_two_segments(index: PlaceIndex, text: str, clock) -> None:
    for reply in render_answer(_answer(text, index, clock), "sms"):
        for page in reply.text.split(SMS_PAGE_BREAK):  # the first page now, the others on PLUS
            assert is_gsm7(page) and segment_count(page) <= 2
        assert reply.buttons[-1].payload == HUMAN_PAYLOAD


def test_sms_reply_has_name_address_phone_and_hours(index: PlaceIndex) -> None:
    [reply] = render_answer(_answer("Seclin", index), "sms")
    assert "France services Mairie de Seclin, 9 rue Jean Jaurès, 59113 Seclin" in reply.text
    assert "03 20 84 80 80" in reply.text and "auj. 9h30-13h" in reply.text


def test_outside_the_mel_gives_the_national_map_and_solidarite_numerique(index: PlaceIndex) -> None:
    [reply] = render_answer(_answer("Arras", index), "rest")
    assert NATIONAL_MAP in reply.text and PHONE_HELP in reply.text
    assert "Métropole Européenne de Lille" in reply.text


def test_secretariat_view_has_full_details(index: PlaceIndex) -> None:
    answer = _answer("59200", index)
    assert answer.result is not None
    view = render_secretariat(answer.result)
    assert view["origin"]["label"] == "Tourcoing" and len(view["places"]) == 3
    assert {"services", "horaires", "distance_km", "date_maj", "map_url"} <= set(view["places"][0])


def test_data_text_cannot_inject_markdown() -> None:
    assert escape_markdown("[clic](http://x) *a*") == "\\[clic\\](http://x) \\*a\\*"


def test_phone_is_formatted_the_french_way() -> None:
    assert format_phone("+33320848080") == "03 20 84 80 80"


def test_handoff_gets_the_nearest_france_services_with_hours(index: PlaceIndex) -> None:
    sentence = france_services_sentence("Wambrechies", now=TUESDAY_10H, index=index)
    assert sentence is not None and sentence.startswith("L'espace France Services le plus proche : France services")
    assert "Aujourd'hui (mardi)" in sentence
    assert france_services_sentence("Paris", now=TUESDAY_10H, index=index) is None


def test_default_clock_is_paris_time() -> None:
    assert str(paris_now().tzinfo) == "Europe/Paris"
