"""Great-circle distances (haversine), one at a time or vectorised with numpy."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0088
WALKING_SPEED_KMH = 4.5
WALKING_LIMIT_KM = 2.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Distance in km between two WGS84 points."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def haversine_km_many(
    lat: float, lon: float, lats_rad: npt.NDArray[np.float64], lons_rad: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Distances in km from one point to many points given in radians (precomputed once per index)."""
    phi1, lambda1 = math.radians(lat), math.radians(lon)
    a = np.sin((lats_rad - phi1) / 2) ** 2 + math.cos(phi1) * np.cos(lats_rad) * np.sin((lons_rad - lambda1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def walking_minutes(km: float) -> int | None:
    """Minutes on foot at 4.5 km/h when the place is within walking distance (under 2 km), else None."""
    if km >= WALKING_LIMIT_KM:
        return None
    return max(1, round(km / WALKING_SPEED_KMH * 60))
