"""Nearest places, needs, opening hours with fixed clocks, widening when nothing matches."""

from __future__ import annotations

from bot.geo import resolve_location
from bot.places.answer import ASK_LOCATION, OUTSIDE, RESULTS, answer_places_request
from bot.places.hours import Hours
from bot.places.model import Need
from bot.places.needs import criteria_from_text
from bot.places.search import PlaceIndex, SearchCriteria, find_nearest_places, get_place_index
from tests.places.conftest import SUNDAY_11H, TUESDAY_10H, TUESDAY_20H


def test_seclin_gives_its_france_services_first(index: PlaceIndex) -> None:
    result = find_nearest_places(index, resolve_location("Seclin"), SearchCriteria(), TUESDAY_10H)
    assert result.matches[0].place.nom == "France services Mairie de Seclin"
    assert result.matches[0].km < 1 and len(result.matches) == 3
    assert [m.km for m in result.matches] == sorted(m.km for m in result.matches)


def test_postcode_59200_gives_places_in_tourcoing(index: PlaceIndex) -> None:
    result = find_nearest_places(index, resolve_location("59200"), SearchCriteria(), TUESDAY_10H)
    assert {m.place.commune for m in result.matches} == {"Tourcoing"}


def test_commune_without_place_gives_nearest_elsewhere(index: PlaceIndex) -> None:
    result = find_nearest_places(index, resolve_location("Wambrechies"), SearchCriteria(), TUESDAY_10H)
    assert not result.in_origin_area
    assert result.matches and all(m.place.commune != "Wambrechies" for m in result.matches)


def test_open_now_keeps_only_places_open_at_the_clock(index: PlaceIndex) -> None:
    result = find_nearest_places(index, resolve_location("Lille"), SearchCriteria(open_now=True), TUESDAY_10H)
    assert result.matches and all(m.hours.is_open(TUESDAY_10H) for m in result.matches)
    assert not result.dropped_time


def test_open_now_at_night_widens_to_any_time(index: PlaceIndex) -> None:
    result = find_nearest_places(index, resolve_location("Lille"), SearchCriteria(open_now=True), TUESDAY_20H)
    assert result.dropped_time and result.matches


def test_open_on_saturday_keeps_places_open_that_day(index: PlaceIndex) -> None:
    result = find_nearest_places(index, resolve_location("Lille"), SearchCriteria(open_on=5), TUESDAY_10H)
    names = {m.place.nom for m in result.matches}
    assert "France services Interfaces Lille Faubourg de Béthune" in names
    assert all("Sa " in m.place.horaires for m in result.matches)


def test_need_for_computer_access_filters_on_services(index: PlaceIndex) -> None:
    criteria = SearchCriteria(frozenset({Need.COMPUTER_ACCESS}))
    result = find_nearest_places(index, resolve_location("Roubaix"), criteria, TUESDAY_10H)
    assert all("Accès internet et matériel informatique" in m.place.services for m in result.matches)


def test_need_nobody_declares_widens_to_all_places(index: PlaceIndex) -> None:
    criteria = SearchCriteria(frozenset({Need.DEAFNESS}))
    result = find_nearest_places(index, resolve_location("Lille"), criteria, TUESDAY_10H)
    assert result.dropped_needs == {Need.DEAFNESS} and len(result.matches) == 3


def test_opening_hours_with_fixed_clock() -> None:
    hours = Hours.parse("Mo-Fr 09:00-12:00,14:00-17:00; Sa 09:00-12:00")
    assert hours.is_open(TUESDAY_10H) and not hours.is_open(TUESDAY_20H) and not hours.is_open(SUNDAY_11H)
    assert hours.today_text(TUESDAY_10H) == "Aujourd'hui (mardi) : 9h-12h, 14h-17h (ouvert en ce moment)."
    assert hours.today_text(SUNDAY_11H) == "Fermé aujourd'hui (dimanche)."


def test_broken_opening_hours_never_break_a_search(index: PlaceIndex) -> None:
    from dataclasses import replace
    broken = [replace(p, horaires="n'importe quoi 9h") for p in index.places]
    result = find_nearest_places(PlaceIndex(broken), resolve_location("Lille"), SearchCriteria(open_now=True),
                                 TUESDAY_10H)
    assert result.dropped_time and result.matches[0].hours.today_text(TUESDAY_10H).startswith("Horaires non")


def test_needs_are_understood_from_the_sentence() -> None:
    assert criteria_from_text("ordinateur en libre accès 59200").needs == {Need.COMPUTER_ACCESS}
    assert criteria_from_text("un endroit ouvert samedi à Lille").open_on == 5
    assert criteria_from_text("c'est ouvert maintenant ?").open_now
    assert criteria_from_text("je suis sourd").needs == {Need.DEAFNESS}
    assert criteria_from_text("langue des signes").needs == {Need.DEAFNESS}
    assert criteria_from_text("je ne parle pas bien français").needs == {Need.FOREIGN_LANGUAGES}
    assert criteria_from_text("un espace france services à Roubaix").needs == {Need.FRANCE_SERVICES}
    assert criteria_from_text("je cherche un médiateur numérique à Seclin") == SearchCriteria()


def test_answer_asks_for_a_place_or_refuses_outside(index: PlaceIndex) -> None:
    assert answer_places_request("je cherche de l'aide", SearchCriteria(), index=index).kind == ASK_LOCATION
    assert answer_places_request("Paris", SearchCriteria(), is_answer=True, index=index).kind == OUTSIDE
    remembered = answer_places_request("et ouvert samedi ?", SearchCriteria(open_on=5), remembered="Roubaix",
                                       now=TUESDAY_10H, index=index)
    assert remembered.kind == RESULTS and remembered.origin is not None and remembered.origin.label == "Roubaix"


def test_default_places_are_imported_on_first_use(engine) -> None:
    assert len(get_place_index(engine)) == 38


def test_prefiltered_search_finds_the_same_places_as_brute_force(index: PlaceIndex) -> None:
    import random
    from dataclasses import replace

    from bot.geo.communes import get_commune_directory
    from bot.geo.distance import haversine_km
    from bot.geo.locate import commune_origin

    random.seed(1)
    places = [replace(random.choice(index.places), id=str(n), latitude=random.uniform(42, 51),
                      longitude=random.uniform(-4, 8)) for n in range(3000)]
    big = PlaceIndex(places)
    for commune in get_commune_directory().communes[:10]:
        origin = commune_origin(commune)
        found = [m.place.id for m in big.nearest(origin, SearchCriteria(), TUESDAY_10H, 5)]
        brute = sorted(places, key=lambda p: haversine_km(origin.latitude, origin.longitude, p.latitude, p.longitude))
        assert found == [p.id for p in brute[:5]]
