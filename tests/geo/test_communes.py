"""Communes in any spelling, postcodes, addresses and widget positions inside (or outside) the MEL."""

from __future__ import annotations

import pytest

from bot.geo import resolve_coordinates, resolve_location
from bot.geo.addresses import AddressIndex
from bot.geo.communes import get_commune_directory
from bot.geo.distance import haversine_km, walking_minutes
from bot.geo.locate import AmbiguousCommune, NoLocationInText, OutsideMetropolis


@pytest.mark.parametrize(("spelling", "official"), [
    ("villeneuve dascq", "Villeneuve-d'Ascq"),
    ("Villeneuve d'Ascq", "Villeneuve-d'Ascq"),
    ("VDA", "Villeneuve-d'Ascq"),
    ("Marcq", "Marcq-en-Barœul"),
    ("marcq en baroeul", "Marcq-en-Barœul"),
    ("marcq en bareuil", "Marcq-en-Barœul"),
    ("st andre", "Saint-André-lez-Lille"),
    ("St-André-lès-Lille", "Saint-André-lez-Lille"),
    ("ARMENTIERES", "Armentières"),
    ("madeleine", "La Madeleine"),
    ("wattrelo", "Wattrelos"),
])
def test_commune_is_found_in_any_spelling(spelling: str, official: str) -> None:
    origin = resolve_location(spelling, is_answer=True)
    assert origin.commune is not None and origin.commune.name == official
    assert origin.from_commune_centre


@pytest.mark.parametrize("name", ["lomme", "Hellemmes", "hellemmes-lille"])
def test_associated_communes_of_lille_are_found_with_their_own_centre(name: str) -> None:
    origin = resolve_location(name, is_answer=True)
    assert origin.commune is not None and origin.commune.associated_to == "Lille"
    lille = get_commune_directory().exact("Lille")[0]
    assert haversine_km(origin.latitude, origin.longitude, lille.latitude, lille.longitude) > 2


def test_commune_is_found_inside_a_sentence() -> None:
    assert resolve_location("je cherche un médiateur numérique à Seclin").label == "Seclin"
    assert resolve_location("la croix rouge à lille").label == "Lille"


def test_postcode_gives_its_commune() -> None:
    origin = resolve_location("59200")
    assert origin.label == "Tourcoing" and origin.slot_value == "59200"


def test_shared_postcode_names_every_commune_and_starts_from_one() -> None:
    origin = resolve_location("59260")
    assert origin.commune is not None and origin.commune.name == "Hellemmes"
    assert "Lezennes" in origin.note


@pytest.mark.parametrize("place", ["Paris", "Arras", "75001", "62000"])
def test_place_outside_the_metropolis_is_refused(place: str) -> None:
    with pytest.raises(OutsideMetropolis):
        resolve_location(place, is_answer=True)


def test_sentence_without_a_place_asks_for_one() -> None:
    with pytest.raises(NoLocationInText):
        resolve_location("je cherche de l'aide près de chez moi")


def test_short_form_shared_by_two_communes_is_ambiguous() -> None:
    with pytest.raises(AmbiguousCommune) as error:
        resolve_location("Sainghin", is_answer=True)
    assert {c.name for c in error.value.candidates} == {"Sainghin-en-Mélantois", "Sainghin-en-Weppes"}


def test_street_address_is_placed_at_its_commune_centre_and_says_so() -> None:
    origin = resolve_location("12 rue de la Gare 59200 Tourcoing", addresses=AddressIndex())
    assert origin.label == "Tourcoing" and origin.from_commune_centre
    assert "centre de Tourcoing" in origin.note


def test_street_address_uses_a_ban_extract_when_one_is_dropped_in(tmp_path) -> None:
    extract = tmp_path / "adresses-ban.csv"
    extract.write_text("numero;rep;nom_voie;code_postal;code_insee;nom_commune;lon;lat\n"
                       "12;;Rue de la Gare;59200;59599;Tourcoing;3.1700;50.7210\n", encoding="utf-8")
    origin = resolve_location("12 rue de la Gare 59200 Tourcoing", addresses=AddressIndex.from_csv(extract))
    assert origin.precision == "adresse" and origin.latitude == pytest.approx(50.7210)


def test_widget_position_inside_the_mel_is_accepted_and_outside_refused() -> None:
    origin = resolve_coordinates(50.6292, 3.0573)
    assert origin.precision == "position" and origin.slot_value.startswith("geo:")
    with pytest.raises(OutsideMetropolis):
        resolve_coordinates(48.8566, 2.3522)


def test_distance_lille_to_roubaix_is_about_eleven_km() -> None:
    assert haversine_km(50.6292, 3.0573, 50.6942, 3.1746) == pytest.approx(10.95, abs=0.3)


def test_walking_minutes_only_under_two_km() -> None:
    assert walking_minutes(0.75) == 10
    assert walking_minutes(2.5) is None
