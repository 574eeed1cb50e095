"""Offline geography of the Métropole Européenne de Lille: communes, postcodes, distances, lookups."""

from bot.geo.communes import Commune, CommuneDirectory, get_commune_directory
from bot.geo.distance import haversine_km, walking_minutes
from bot.geo.locate import (
    AmbiguousCommune,
    LocationError,
    Origin,
    OutsideMetropolis,
    resolve_coordinates,
    resolve_location,
)

__all__ = [
    "AmbiguousCommune",
    "Commune",
    "CommuneDirectory",
    "LocationError",
    "Origin",
    "OutsideMetropolis",
    "get_commune_directory",
    "haversine_km",
    "resolve_coordinates",
    "resolve_location",
    "walking_minutes",
]
