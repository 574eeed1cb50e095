"""Every place is reachable: a phone number whenever we say "call", the week's hours when asked, full SMS names."""

from __future__ import annotations

import re

import pytest

from bot.channels.sms.render import MORE_NOTICE, render_messages
from bot.gsm7 import is_gsm7, segment_count
from bot.knowledge.contacts import phone_help
from bot.places.answer import answer_places_request
from bot.places.importer import DEFAULT_PLACES_CSV, parse_places_file
from bot.places.model import Place
from bot.places.needs import criteria_from_text
from bot.places.render import render_answer, render_secretariat, sms_place_name
from bot.places.search import PlaceIndex
from bot.replies import PHONE_HELP, PHONE_HELP_SMS, SMS_PAGE_BREAK
from tests.places.conftest import SUNDAY_11H, TUESDAY_10H

PHONE = re.compile(r"\b0\d( \d\d){4}\b|" + re.escape(phone_help().phone or "-"))  # a place's or the help line
QUESTIONS = ["Armentières", "Houplines", "je cherche de l'aide à Lille", "Roubaix", "Tourcoing", "Santes",
             "apprendre l'ordinateur à Tourcoing", "sourd à Lille", "Seclin"]


def _answer(text: str, index: PlaceIndex, now=TUESDAY_10H):
    return answer_places_request(text, criteria_from_text(text), is_answer=True, now=now, index=index)


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_web_line_that_says_call_gives_a_number(index: PlaceIndex, question: str) -> None:
    [reply] = render_answer(_answer(question, index), "rest")
    calls = [line for line in reply.text.splitlines() if re.search(r"appel|renseignez", line, re.I)]
    assert calls, "the data set has places without hours: some line must say whom to call"
    for line in calls:
        assert PHONE.search(line), line


@pytest.mark.parametrize("question", QUESTIONS)
def test_every_sms_place_that_says_call_gives_a_number(index: PlaceIndex, question: str) -> None:
    [reply] = render_answer(_answer(question, index), "sms")
    for line in reply.text.splitlines():
        if "appeler" in line:
            assert PHONE.search(line.split("appeler", 1)[1]), line
    assert all(is_gsm7(page) and segment_count(page) <= 2 for page in reply.text.split(SMS_PAGE_BREAK))


def test_place_without_phone_points_to_the_nearest_place_with_one(index: PlaceIndex) -> None:
    answer = _answer("Armentières", index)
    assert answer.result is not None
    first = answer.result.matches[0]
    assert not first.place.telephone
    alternative = answer.result.phone_alternatives[first.place.id]
    assert alternative.place.telephone and alternative.place.id != first.place.id
    [reply] = render_answer(answer, "rest")
    assert (f"renseignez-vous auprès de {alternative.place.nom} (à 2,4 km) au 03 20 18 98 98."
            in reply.text)
    card = reply.custom["places"][0] if reply.custom else {}
    assert card["alternative"]["telephone_display"] == "03 20 18 98 98"
    assert "03 20 18 98 98" in card["today"]


def test_without_any_phone_in_the_data_the_national_line_is_given() -> None:
    places, _ = parse_places_file(DEFAULT_PLACES_CSV)
    bare = PlaceIndex([Place(**{**p.as_dict(), "telephone": "", "horaires": "",
                                **{k: tuple(v) for k, v in p.as_dict().items() if isinstance(v, list)}})
                       for p in places])
    [reply] = render_answer(_answer("Seclin", bare), "rest")
    assert f"renseignez-vous auprès d'{PHONE_HELP}." in reply.text
    [sms] = render_answer(_answer("Seclin", bare), "sms")
    assert f"horaires: appeler {PHONE_HELP_SMS}" in sms.text


def test_asking_for_the_hours_gives_the_whole_week(index: PlaceIndex) -> None:
    question = "c quoi les horaires de la france services de Seclin"
    assert criteria_from_text(question).week_hours
    [reply] = render_answer(_answer(question, index, SUNDAY_11H), "rest")
    lines = reply.text.splitlines()
    assert lines[1] == "1. **France services Mairie de Seclin**"
    assert lines[3:10] == ["   Horaires de la semaine :", "   - Lundi : 9h30-13h", "   - Mardi : 9h30-13h, 13h45-15h45",
                           "   - Mercredi : 13h30-18h30", "   - Jeudi : 9h30-13h, 13h45-15h45",
                           "   - Vendredi : 13h30-18h30", "   - Samedi et dimanche : fermé"]
    card = reply.custom["places"][0] if reply.custom else {}
    assert card["today"].startswith("Horaires de la semaine : lundi : 9h30-13h ; mardi : 9h30-13h, 13h45-15h45")
    [sms] = render_answer(_answer(question, index, SUNDAY_11H), "sms")
    assert ("lun 9h30-13h; mar 9h30-13h, 13h45-15h45; mer 13h30-18h30; jeu 9h30-13h, 13h45-15h45; "
            "ven 13h30-18h30; sam-dim fermé") in sms.text


def test_without_asking_for_hours_only_today_is_shown(index: PlaceIndex) -> None:
    [reply] = render_answer(_answer("France services à Seclin", index), "rest")
    assert "Horaires de la semaine" not in reply.text and "Aujourd'hui (mardi)" in reply.text


def test_learning_the_computer_is_a_lesson_not_a_computer_access(index: PlaceIndex) -> None:
    answer = _answer("où envoyer quelqu'un pour apprendre l'ordinateur à Tourcoing", index)
    assert answer.result is not None and not answer.result.dropped_needs
    assert {m.place.commune for m in answer.result.matches} == {"Tourcoing"}


@pytest.mark.parametrize(("raw", "shown"), [
    ("ASSOCIATION DE PREFIGURATION DE LA COOPERATIVE DES ASSEMBLEURS",
     "Asso. de Prefiguration de la Cooperative des Assembleurs"),
    ("CTRE COMMUNAL ACTION SOCIALE D'HOUPLINES", "CCAS d'Houplines"),
    ("CCAS DE ST ANDRE", "CCAS de St Andre"),
    ("LE FIL DE L'EPEULE", "Le Fil de l'Epeule"),
    ("France services Mairie de Seclin", "France services Mairie de Seclin"),
    ("Centre social ECHO", "Centre social ECHO"),
])
def test_sms_names_are_whole_and_readable(raw: str, shown: str) -> None:
    assert sms_place_name(raw) == shown


def test_sms_names_too_long_end_on_a_whole_word() -> None:
    name = sms_place_name("MAISON DE QUARTIER ET ESPACE PUBLIC NUMERIQUE DU VIEUX LILLE ET DES ENVIRONS PROCHES")
    assert name.endswith("...") and len(name) <= 60
    assert name[:-3].split(" ")[-1] in {"Lille", "et", "des", "Environs", "du", "Vieux"}


def test_sms_place_names_are_no_longer_cut_in_capitals(index: PlaceIndex) -> None:
    [sms] = render_answer(_answer("je cherche de l'aide à Lille", index), "sms")
    assert "1) Asso. de Prefiguration de la Cooperative des Assembleurs, 8 Rue Nicolas Leblanc" in sms.text
    assert "COOPERATIVE D," not in sms.text


def test_secretariat_places_carry_the_alternative_and_the_week(index: PlaceIndex) -> None:
    answer = _answer("Armentières", index)
    assert answer.result is not None
    view = render_secretariat(answer.result)
    assert view["places"][0]["alternative"]["telephone"]
    seclin = _answer("Seclin", index)
    assert seclin.result is not None
    assert render_secretariat(seclin.result)["places"][0]["week"].startswith("lundi : 9h30-13h ; mardi")


def test_phone_alternative_is_the_nearest_place_with_a_phone(index: PlaceIndex) -> None:
    from bot.geo.distance import haversine_km

    for place in index.places:
        if place.telephone:
            continue
        found = index.nearest_with_phone(place)
        assert found is not None
        brute = min((p for p in index.places if p.telephone and p.id != place.id),
                    key=lambda p: haversine_km(place.latitude, place.longitude, p.latitude, p.longitude))
        assert found.place.id == brute.id


def test_sms_gives_the_first_place_now_and_the_others_whole_on_plus(index: PlaceIndex) -> None:
    replies = render_answer(_answer("je cherche de l'aide à Lille", index), "sms")
    pages = render_messages([reply.as_dispatch_kwargs() for reply in replies]).pages
    assert len(pages) == 3 and all(segment_count(page) <= 2 for page in pages)
    for number, page in enumerate(pages, 1):
        [entry] = [line for line in page.splitlines() if re.match(r"\d\) ", line)]  # one whole place per page
        assert entry.startswith(f"{number}) ") and re.search(r"\d,\d km", entry)
        assert (MORE_NOTICE in page) == (number < 3)
