"""The 95 communes of the MEL (plus Lille's associated communes) and every way people spell them."""

from __future__ import annotations

import csv
import functools
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.geo.normalize import compact_key, name_key
from bot.paths import KNOWLEDGE_DIR

COMMUNES_CSV = KNOWLEDGE_DIR / "communes.csv"
ASSOCIATED_CSV = KNOWLEDGE_DIR / "communes_associees.csv"

# Connectors after which the rest of a name is often left out ("Marcq" for Marcq-en-Barœul).
_SHORT_FORM_SPLIT = re.compile(r"[- ](?:en|lez|les|lès|sur|le|d')[- ']?", re.IGNORECASE)
# Short forms too common as plain words to stand for a commune on their own.
_NOT_A_SHORT_FORM = {"bois", "la", "le", "saint", "forest", "don", "hem", "lys"}
# Everyday names that are neither the official name nor a short form.
_EXTRA_ALIASES = {
    "59009": ("VDA", "V d'A", "Villeneuve d'Ascq", "Ascq", "Annappes", "Flers-lez-Lille"),
    "59350": ("Lille centre", "Lille-Centre", "Euralille", "Fives", "Wazemmes", "Moulins", "Vauban"),
    "59298": ("Hellemmes-Lille", "Lille-Hellemmes"),
    "59355": ("Lomme-Lille", "Lille-Lomme", "Lomme Délivrance"),
    "59368": ("Madeleine",),
    "59051": ("Bassée",),
    "59527": ("St-André", "Saint-André"),
    "59202": ("Erquinghem",),
}
FUZZY_MIN_SCORE = 86


@dataclass(frozen=True)
class Commune:
    """A commune with its centre; `associated_to` names the commune an associated commune belongs to."""

    insee: str
    name: str
    postcodes: tuple[str, ...]
    latitude: float
    longitude: float
    population: int = 0
    associated_to: str | None = None

    @property
    def label(self) -> str:
        """How we name it to users ('Lomme (Lille)' for an associated commune)."""
        return f"{self.name} ({self.associated_to})" if self.associated_to else self.name


@dataclass
class CommuneDirectory:
    """Find a commune by name in any spelling, by postcode or by INSEE code."""

    communes: list[Commune]
    _by_key: dict[str, list[Commune]] = field(default_factory=dict, repr=False)
    _by_postcode: dict[str, list[Commune]] = field(default_factory=dict, repr=False)
    _by_insee: dict[str, Commune] = field(default_factory=dict, repr=False)
    _aliases: dict[str, set[str]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        by_key: dict[str, list[Commune]] = defaultdict(list)
        aliases: dict[str, set[str]] = defaultdict(set)
        for commune in self.communes:
            self._by_insee[commune.insee] = commune
            for alias in self._spellings(commune):
                key = compact_key(alias)
                if key and commune not in by_key[key]:
                    by_key[key].append(commune)
                aliases[commune.insee].add(alias)
        # An official name always wins over another commune's short form.
        for commune in self.communes:
            by_key[compact_key(commune.name)] = [commune]
        self._by_key = dict(by_key)
        self._aliases = dict(aliases)
        by_postcode: dict[str, list[Commune]] = defaultdict(list)
        for commune in self.communes:
            for postcode in commune.postcodes:
                by_postcode[postcode].append(commune)
        for postcode, communes in by_postcode.items():
            # Lille's 59160 is Lomme and its 59260 is Hellemmes: the associated commune goes first.
            associated = [c for c in communes if c.associated_to]
            parents = {c.associated_to for c in associated}
            rest = [c for c in communes if not c.associated_to and c.name not in parents]
            by_postcode[postcode] = associated + sorted(rest, key=lambda c: -c.population)
        self._by_postcode = dict(by_postcode)

    @staticmethod
    def _spellings(commune: Commune) -> list[str]:
        names = [commune.name, *_EXTRA_ALIASES.get(commune.insee, ())]
        short = _SHORT_FORM_SPLIT.split(commune.name, maxsplit=1)[0]
        if short != commune.name and name_key(short) not in _NOT_A_SHORT_FORM:
            names.append(short)
        for article in ("La ", "Le "):
            if commune.name.startswith(article):
                names.append(commune.name[len(article):])
        return names

    def by_insee(self, insee: str) -> Commune | None:
        """The commune with this INSEE code."""
        return self._by_insee.get(insee)

    def by_postcode(self, postcode: str) -> list[Commune]:
        """Communes sharing this postcode, the likeliest first (empty outside the MEL)."""
        return list(self._by_postcode.get(postcode.strip(), []))

    def exact(self, text: str) -> list[Commune]:
        """Communes whose name or usual short form is spelled as `text` (ignoring case, accents, hyphens)."""
        return list(self._by_key.get(compact_key(text), []))

    def fuzzy(self, text: str) -> Commune | None:
        """The commune whose name is close enough to a misspelled `text`, if one is."""
        key = compact_key(text)
        if len(key) < 5:
            return None
        match = process.extractOne(key, list(self._by_key), scorer=fuzz.ratio, score_cutoff=FUZZY_MIN_SCORE)
        if match is None:
            return None
        candidates = self._by_key[match[0]]
        return candidates[0] if len(candidates) == 1 else None

    def find(self, text: str) -> list[Commune]:
        """Exact spellings first, then one fuzzy match; several communes when a short form is ambiguous."""
        found = self.exact(text)
        if found:
            return found
        fuzzy = self.fuzzy(text)
        return [fuzzy] if fuzzy else []

    def mentioned_in(self, text: str, max_words: int = 6) -> list[Commune]:
        """The commune named in a sentence: the longest run of words that spells one (exact, then fuzzy)."""
        words = name_key(text).replace("'", " ").split()
        for fuzzy in (False, True):
            for size in range(min(max_words, len(words)), 0, -1):
                # The last mention wins ("la Croix-Rouge à Lille" is in Lille).
                for start in range(len(words) - size, -1, -1):
                    chunk = " ".join(words[start:start + size])
                    if fuzzy and (size == 1 or len(chunk) < 7):
                        found = []
                    else:
                        found = self.find(chunk) if fuzzy else self.exact(chunk)
                    if found:
                        return found
        return []

    def spellings(self, commune: Commune) -> set[str]:
        """The official name and usual short forms (for the NLU lookup table)."""
        return set(self._aliases.get(commune.insee, {commune.name}))

    @property
    def postcodes(self) -> list[str]:
        """Every postcode of the MEL."""
        return sorted(self._by_postcode)

    def main(self) -> list[Commune]:
        """The 95 member communes, without associated communes."""
        return [c for c in self.communes if not c.associated_to]


def load_communes(path: Path = COMMUNES_CSV, associated_path: Path | None = ASSOCIATED_CSV) -> list[Commune]:
    """Read communes.csv (and the associated communes of Lille) into Commune records."""
    communes: list[Commune] = []
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            communes.append(Commune(
                insee=row["code_insee"], name=row["nom"], postcodes=tuple(row["codes_postaux"].split("|")),
                latitude=float(row["latitude"]), longitude=float(row["longitude"]),
                population=int(row.get("population") or 0),
            ))
    if associated_path is not None and associated_path.exists():
        with associated_path.open(encoding="utf-8", newline="") as handle:
            for row in csv.DictReader(handle):
                communes.append(Commune(
                    insee=row["code_insee"], name=row["nom"], postcodes=tuple(row["codes_postaux"].split("|")),
                    latitude=float(row["latitude"]), longitude=float(row["longitude"]),
                    associated_to=row["commune_de_rattachement"],
                ))
    return communes


@functools.lru_cache(maxsize=1)
def get_commune_directory() -> CommuneDirectory:
    """The directory built from data/knowledge (read once per process)."""
    return CommuneDirectory(load_communes())
