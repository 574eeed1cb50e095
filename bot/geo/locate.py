"""Turn what a user wrote (commune, postcode, address) or what the widget sent (coordinates) into an origin."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.geo.addresses import AddressIndex, get_address_index
from bot.geo.communes import Commune, CommuneDirectory, get_commune_directory
from bot.geo.distance import haversine_km

# Widget coordinates further than this from every commune centre are outside the metropolis.
MAX_KM_FROM_A_COMMUNE = 6.0
_POSTCODE = re.compile(r"(?<!\d)(\d{2}) ?(\d{3})(?!\d)")
# Patterns that see user text are linear: never two repeats of the same characters side by side
# (tests/security/test_input_patterns.py runs each on 10,000-character adversarial inputs).
_COORDINATES = re.compile(r"^(?:geo:)?\s*(-?\d{1,2}\.\d+)(?:\s*[,;]\s*|\s+)(-?\d{1,3}\.\d+)\s*$")
_STREET = re.compile(
    r"\b\d{1,4}(?:\s*(?:bis|ter)\b)?[\s,]*(?:rue|avenue|av|boulevard|bd|place|pl|chemin|allée|allee|impasse|quai|"
    r"route|square|cours|résidence|residence|parvis|sentier|voie|cité|cite)\b",
    re.IGNORECASE,
)

PRECISION_COMMUNE = "commune"
PRECISION_ADDRESS = "adresse"
PRECISION_POSITION = "position"


class LocationError(ValueError):
    """What the user wrote does not lead to a place inside the MEL."""

    def __init__(self, query: str) -> None:
        super().__init__(query)
        self.query = query


class NoLocationInText(LocationError):  # noqa: N818
    """The sentence names no commune, postcode or address: the bot must ask for one."""


class OutsideMetropolis(LocationError):  # noqa: N818
    """A commune, postcode or position that is not in the 95 communes of the MEL (or unknown to us)."""


class AmbiguousCommune(LocationError):  # noqa: N818
    """A short form shared by several communes ('Sainghin'): the user must choose."""

    def __init__(self, query: str, candidates: list[Commune]) -> None:
        super().__init__(query)
        self.candidates = candidates


@dataclass(frozen=True)
class Origin:
    """Where distances are measured from, and how precisely we know it."""

    label: str
    latitude: float
    longitude: float
    precision: str
    commune: Commune | None
    slot_value: str
    note: str = ""

    @property
    def from_commune_centre(self) -> bool:
        """True when distances start at the commune centre (commune, postcode or an address we cannot place)."""
        return self.precision == PRECISION_COMMUNE


def commune_origin(commune: Commune, note: str = "") -> Origin:
    """Distances from a commune centre."""
    return Origin(commune.label, commune.latitude, commune.longitude, PRECISION_COMMUNE, commune, commune.name, note)


def resolve_coordinates(
    latitude: float, longitude: float, directory: CommuneDirectory | None = None
) -> Origin:
    """The widget's position, if it is inside the metropolis (nearest commune named for the reply)."""
    directory = directory or get_commune_directory()
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise OutsideMetropolis(f"{latitude},{longitude}")
    nearest = min(directory.communes, key=lambda c: haversine_km(latitude, longitude, c.latitude, c.longitude))
    if haversine_km(latitude, longitude, nearest.latitude, nearest.longitude) > MAX_KM_FROM_A_COMMUNE:
        raise OutsideMetropolis(f"{latitude},{longitude}")
    return Origin(
        "votre position", latitude, longitude, PRECISION_POSITION, nearest,
        f"geo:{latitude:.5f},{longitude:.5f}",
    )


def _postcode_origin(postcode: str, directory: CommuneDirectory) -> Origin:
    communes = directory.by_postcode(postcode)
    if not communes:
        raise OutsideMetropolis(postcode)
    note = ""
    if len(communes) > 1:
        names = ", ".join(c.label for c in communes)
        note = (f"Le code postal {postcode} couvre plusieurs communes ({names}) : "
                f"je pars du centre de {communes[0].label}.")
    origin = commune_origin(communes[0], note)
    return Origin(origin.label, origin.latitude, origin.longitude, origin.precision, origin.commune, postcode, note)


def resolve_location(
    text: str,
    *,
    directory: CommuneDirectory | None = None,
    addresses: AddressIndex | None = None,
    is_answer: bool = False,
) -> Origin:
    """The origin named in `text`; `is_answer` means the whole text answers 'which commune?'."""
    directory = directory or get_commune_directory()
    addresses = addresses if addresses is not None else get_address_index()
    query = (text or "").strip()
    coordinates = _COORDINATES.match(query)
    if coordinates:
        return resolve_coordinates(float(coordinates.group(1)), float(coordinates.group(2)), directory)

    postcodes = ["".join(match.groups()) for match in _POSTCODE.finditer(query)]
    communes = directory.find(query) if is_answer else []
    if not communes:
        communes = directory.mentioned_in(query)
    if len(communes) > 1:
        if postcodes:
            sharing = [c for c in communes if postcodes[0] in c.postcodes]
            if len(sharing) == 1:
                communes = sharing
        if len(communes) > 1:
            raise AmbiguousCommune(query, communes)

    if _STREET.search(query):
        by_postcode = directory.by_postcode(postcodes[0]) if postcodes else []
        commune = communes[0] if communes else (by_postcode[0] if by_postcode else None)
        if commune is not None:
            exact = addresses.locate(query, commune)
            if exact is not None:
                return Origin(query, exact[0], exact[1], PRECISION_ADDRESS, commune, commune.name)
            return commune_origin(
                commune, f"Je ne connais pas l'adresse exacte : les distances partent du centre de {commune.label}."
            )

    if communes:
        return commune_origin(communes[0])
    if postcodes:
        return _postcode_origin(postcodes[0], directory)
    if is_answer and query:
        raise OutsideMetropolis(query)
    raise NoLocationInText(query)
