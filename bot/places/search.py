"""Nearest places from an origin, filtered by need and opening time; numpy keeps 50,000 places under 5 ms."""

from __future__ import annotations

import functools
import math
import time as _time
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import numpy.typing as npt
from sqlalchemy.future import Engine

from bot.geo.distance import haversine_km_many, walking_minutes
from bot.geo.locate import Origin
from bot.geo.normalize import compact_key
from bot.places.hours import Hours, next_weekday
from bot.places.model import Need, Place

RESULT_COUNT = 3
# How far 'in the commune' reaches from a widget position.
NEARBY_KM = 2.0
INDEX_REFRESH_SECONDS = 60.0
FIRST_RADIUS_KM = 4.0
MAX_RADIUS_KM = 25_000.0
KM_PER_DEGREE = 111.19


@dataclass(frozen=True)
class SearchCriteria:
    """What the user asked for: needs that must all be met, and when the place must be open."""

    needs: frozenset[Need] = frozenset()
    open_now: bool = False
    open_on: int | None = None  # weekday, 0 = Monday
    week_hours: bool = False  # "c'est quoi les horaires": the whole week, not only today

    @property
    def has_time(self) -> bool:
        """True when an opening time was asked for."""
        return self.open_now or self.open_on is not None

    def without_time(self) -> SearchCriteria:
        """The same needs, any time."""
        return SearchCriteria(self.needs, week_hours=self.week_hours)


@dataclass(frozen=True)
class Match:
    """A place found, with its distance from the origin."""

    place: Place
    km: float
    hours: Hours

    @property
    def walking_minutes(self) -> int | None:
        """Minutes on foot when under 2 km."""
        return walking_minutes(self.km)


@dataclass
class SearchResult:
    """The nearest places, and what had to be relaxed to find any."""

    origin: Origin
    criteria: SearchCriteria
    matches: list[Match]
    now: datetime
    in_origin_area: bool = True
    dropped_needs: frozenset[Need] = frozenset()
    dropped_time: bool = False
    notes: list[str] = field(default_factory=list)
    # For a place without a phone number: the nearest place that has one (id of the place -> that match).
    phone_alternatives: dict[str, Match] = field(default_factory=dict)


class PlaceIndex:
    """Places with their coordinates in numpy arrays and one boolean mask per need."""

    def __init__(self, places: list[Place]) -> None:
        self.places = places
        self.lats = np.radians(np.array([p.latitude for p in places], dtype=np.float64))
        self.lons = np.radians(np.array([p.longitude for p in places], dtype=np.float64))
        self.lons_deg = np.array([p.longitude for p in places], dtype=np.float64)
        self.lat_order = np.argsort(np.array([p.latitude for p in places], dtype=np.float64), kind="stable")
        self.sorted_lats = np.array([places[i].latitude for i in self.lat_order], dtype=np.float64)
        self.need_masks = {need: np.array([p.meets(need) for p in places], dtype=bool) for need in Need}
        self.phone_mask = np.array([bool(p.telephone) for p in places], dtype=bool)
        self._hours: dict[int, Hours] = {}

    def __len__(self) -> int:
        return len(self.places)

    def hours(self, position: int) -> Hours:
        """Parsed hours of one place (parsed on first use; broken hours count as unknown)."""
        hours = self._hours.get(position)
        if hours is None:
            place = self.places[position]
            hours = Hours.parse_or_unknown(place.horaires if place.horaires_valides else "")
            self._hours[position] = hours
        return hours

    def mask_for(self, needs: frozenset[Need]) -> npt.NDArray[np.bool_]:
        """Places meeting every need."""
        mask = np.ones(len(self.places), dtype=bool)
        for need in needs:
            mask &= self.need_masks[need]
        return mask

    def nearest_with_phone(self, place: Place) -> Match | None:
        """The place with a phone number nearest to this one (same growing window as `nearest`), or None."""
        if not self.phone_mask.any():
            return None
        lat0, lon0 = place.latitude, place.longitude
        cos_lat = max(0.01, math.cos(math.radians(lat0)))
        radius = FIRST_RADIUS_KM
        while True:
            dlat, dlon = radius / KM_PER_DEGREE, radius / (KM_PER_DEGREE * cos_lat)
            low = int(np.searchsorted(self.sorted_lats, lat0 - dlat, side="left"))
            high = int(np.searchsorted(self.sorted_lats, lat0 + dlat, side="right"))
            band = self.lat_order[low:high]
            band = band[(np.abs(self.lons_deg[band] - lon0) <= dlon) & self.phone_mask[band]]
            distances = haversine_km_many(lat0, lon0, self.lats[band], self.lons[band])
            inside = (distances <= radius) & np.array([self.places[i].id != place.id for i in band], dtype=bool)
            if inside.any():
                best = int(np.flatnonzero(inside)[np.argmin(distances[inside])])
                position = int(band[best])
                return Match(self.places[position], float(distances[best]), self.hours(position))
            if (low == 0 and high == len(self.places) and dlon >= 360) or radius >= MAX_RADIUS_KM:
                return None
            radius *= 4

    def nearest(self, origin: Origin, criteria: SearchCriteria, now: datetime,
                limit: int = RESULT_COUNT) -> list[Match]:
        """The `limit` nearest places meeting the criteria (no radius: the nearest anywhere).

        A latitude band (binary search on sorted latitudes) and a longitude window prefilter the places;
        the window grows until `limit` places are found inside its radius or it covers the whole index.
        """
        if not self.places:
            return []
        mask = self.mask_for(criteria.needs) if criteria.needs else None
        day = next_weekday(now, criteria.open_on) if criteria.open_on is not None else None
        lat0, lon0 = origin.latitude, origin.longitude
        cos_lat = max(0.01, math.cos(math.radians(lat0)))
        radius = FIRST_RADIUS_KM
        checked: set[int] = set()
        found: list[Match] = []
        while True:
            dlat, dlon = radius / KM_PER_DEGREE, radius / (KM_PER_DEGREE * cos_lat)
            low = int(np.searchsorted(self.sorted_lats, lat0 - dlat, side="left"))
            high = int(np.searchsorted(self.sorted_lats, lat0 + dlat, side="right"))
            band = self.lat_order[low:high]
            band = band[np.abs(self.lons_deg[band] - lon0) <= dlon]
            if mask is not None:
                band = band[mask[band]]
            distances = haversine_km_many(lat0, lon0, self.lats[band], self.lons[band])
            inside = distances <= radius
            band, distances = band[inside], distances[inside]
            for order in np.argsort(distances, kind="stable"):
                position = int(band[order])
                if position in checked:
                    continue
                checked.add(position)
                hours = self.hours(position)
                if criteria.open_now and not hours.is_open(now):
                    continue
                if day is not None and not hours.is_open_on(day):
                    continue
                found.append(Match(self.places[position], float(distances[order]), hours))
                if len(found) == limit:
                    return found
            covers_all = low == 0 and high == len(self.places) and dlon >= 360
            if covers_all or radius >= MAX_RADIUS_KM:
                return found
            radius *= 4

def _in_origin_area(match: Match, origin: Origin) -> bool:
    commune = origin.commune
    if commune is None or not origin.from_commune_centre:
        return match.km <= NEARBY_KM
    place = match.place
    if commune.associated_to:
        return place.code_postal in commune.postcodes
    return place.code_insee == commune.insee or compact_key(place.commune) == compact_key(commune.name)


def find_nearest_places(index: PlaceIndex, origin: Origin, criteria: SearchCriteria, now: datetime,
                        limit: int = RESULT_COUNT) -> SearchResult:
    """The nearest places for these criteria, widening (time, then needs) when nothing matches at all."""
    result = SearchResult(origin, criteria, index.nearest(origin, criteria, now, limit), now)
    if not result.matches and criteria.has_time:
        result.matches = index.nearest(origin, criteria.without_time(), now, limit)
        result.dropped_time = True
    if not result.matches and criteria.needs:
        result.matches = index.nearest(origin, SearchCriteria(), now, limit)
        result.dropped_needs = criteria.needs
        result.dropped_time = criteria.has_time
    result.in_origin_area = any(_in_origin_area(match, origin) for match in result.matches)
    for match in result.matches:
        if not match.place.telephone:
            alternative = index.nearest_with_phone(match.place)
            if alternative is not None:
                result.phone_alternatives[match.place.id] = alternative
    return result


def ensure_places(engine: Engine) -> None:
    """Import the default MEL data set when the table is empty (first use)."""
    from bot.places import store
    from bot.places.importer import DEFAULT_PLACES_CSV, import_places

    if store.count_places(engine) == 0:
        import_places(DEFAULT_PLACES_CSV, engine)


@functools.lru_cache(maxsize=4)
def _cached_index(engine: Engine, import_id: int | None) -> PlaceIndex:
    from bot.places import store

    return PlaceIndex(store.load_places(engine))


_checked_at: dict[str, tuple[float, int | None]] = {}


def get_place_index(engine: Engine | None = None) -> PlaceIndex:
    """The index of stored places, rebuilt when a new import happened (checked once a minute)."""
    from bot.db import get_engine
    from bot.places import store

    engine = engine or get_engine()
    url = f"{id(engine)}:{engine.url}"
    checked = _checked_at.get(url)
    if checked is None or _time.monotonic() - checked[0] > INDEX_REFRESH_SECONDS:
        ensure_places(engine)
        latest = store.last_import(engine)
        checked = (_time.monotonic(), latest["id"] if latest else None)
        _checked_at[url] = checked
    return _cached_index(engine, checked[1])
