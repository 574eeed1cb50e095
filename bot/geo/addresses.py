"""Street addresses from an optional offline BAN extract (Base Adresse Nationale CSV), never online.

Drop the MEL extract of https://adresse.data.gouv.fr/data/ban/adresses/latest/csv/ (file
`adresses-59.csv`, filtered on the 95 INSEE codes) at data/knowledge/adresses-ban.csv: columns
`numero, rep, nom_voie, code_postal, code_insee, nom_commune, lon, lat` (BAN's own names, `;`-separated).
Without the file, an address is placed at its commune centre and the reply says so.
"""

from __future__ import annotations

import csv
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.geo.normalize import name_key
from bot.paths import KNOWLEDGE_DIR

if TYPE_CHECKING:
    from bot.geo.communes import Commune

BAN_EXTRACT = KNOWLEDGE_DIR / "adresses-ban.csv"
# Linear: the street name is whatever follows the match (no backtracking over "(.+)$").
_NUMBER_AND_STREET = re.compile(r"\b(\d{1,4})(?:\s*(bis|ter)\b)?[\s,]+(?=\S)", re.IGNORECASE)


@dataclass
class AddressIndex:
    """(INSEE code, street key, number) -> (lat, lon), plus each street's first point for unknown numbers."""

    points: dict[tuple[str, str, str], tuple[float, float]] = field(default_factory=dict)
    streets: dict[tuple[str, str], tuple[float, float]] = field(default_factory=dict)

    @classmethod
    def from_csv(cls, path: Path) -> AddressIndex:
        """Load a BAN extract; a missing file gives an empty index."""
        index = cls()
        if not path.exists():
            return index
        with path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle, delimiter=";"):
                street = name_key(row["nom_voie"])
                point = (float(row["lat"]), float(row["lon"]))
                index.points[(row["code_insee"], street, row["numero"])] = point
                index.streets.setdefault((row["code_insee"], street), point)
        return index

    def locate(self, text: str, commune: Commune) -> tuple[float, float] | None:
        """The coordinates of '12 rue X ...' in this commune, if the extract knows the street."""
        if not self.streets:
            return None
        match = _NUMBER_AND_STREET.search(text)
        if match is None:
            return None
        number, rest = match.group(1), name_key(text[match.end():])
        for (insee, street), point in self.streets.items():
            if insee == commune.insee and rest.startswith(street):
                return self.points.get((insee, street, number), point)
        return None


@functools.lru_cache(maxsize=1)
def get_address_index() -> AddressIndex:
    """The shipped BAN extract, if any (read once per process)."""
    return AddressIndex.from_csv(BAN_EXTRACT)
