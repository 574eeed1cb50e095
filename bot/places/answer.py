"""From what the user said (or the widget sent) to a places answer: the one function actions call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from bot.geo.communes import Commune
from bot.geo.locate import (
    AmbiguousCommune,
    NoLocationInText,
    Origin,
    OutsideMetropolis,
    resolve_coordinates,
    resolve_location,
)
from bot.places.hours import PARIS
from bot.places.model import Need
from bot.places.search import PlaceIndex, SearchCriteria, SearchResult, find_nearest_places, get_place_index

ASK_LOCATION = "ask_location"
OUTSIDE = "outside"
AMBIGUOUS = "ambiguous"
RESULTS = "results"


@dataclass
class PlacesAnswer:
    """What to tell the user: results, a question, or why we cannot search."""

    kind: str
    query: str = ""
    result: SearchResult | None = None
    candidates: list[Commune] = field(default_factory=list)

    @property
    def origin(self) -> Origin | None:
        """Where the search started, when it ran."""
        return self.result.origin if self.result else None


def paris_now() -> datetime:
    """The current time in Europe/Paris (the default clock; tests pass their own)."""
    return datetime.now(PARIS)


def locate(location: str | None, coordinates: tuple[float, float] | None = None,
           remembered: str | None = None, is_answer: bool = False) -> Origin:
    """Coordinates first, then what the user just wrote, then the remembered commune."""
    if coordinates is not None:
        return resolve_coordinates(*coordinates)
    if location:
        try:
            return resolve_location(location, is_answer=is_answer)
        except NoLocationInText:
            if not remembered:
                raise
    if remembered:
        return resolve_location(remembered, is_answer=True)
    raise NoLocationInText(location or "")


def answer_places_request(
    location: str | None,
    criteria: SearchCriteria,
    *,
    coordinates: tuple[float, float] | None = None,
    remembered: str | None = None,
    is_answer: bool = False,
    now: datetime | None = None,
    index: PlaceIndex | None = None,
) -> PlacesAnswer:
    """Find the places for a request, or say what is missing (location) or wrong (outside the MEL)."""
    try:
        origin = locate(location, coordinates, remembered, is_answer)
    except AmbiguousCommune as error:
        return PlacesAnswer(AMBIGUOUS, error.query, candidates=error.candidates)
    except OutsideMetropolis as error:
        return PlacesAnswer(OUTSIDE, error.query)
    except NoLocationInText as error:
        return PlacesAnswer(ASK_LOCATION, error.query)
    index = index if index is not None else get_place_index()
    result = find_nearest_places(index, origin, criteria, now or paris_now())
    return PlacesAnswer(RESULTS, location or remembered or "", result)


def nearest_france_services(commune: str, *, now: datetime | None = None,
                            index: PlaceIndex | None = None) -> SearchResult | None:
    """The nearest France Services to a commune (for 'nobody is available' messages); None outside the MEL."""
    answer = answer_places_request(commune, SearchCriteria(frozenset({Need.FRANCE_SERVICES})),
                                   is_answer=True, now=now, index=index)
    if answer.result is None or not answer.result.matches:
        return None
    answer.result.matches = answer.result.matches[:1]
    return answer.result
