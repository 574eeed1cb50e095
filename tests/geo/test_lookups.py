"""The Rasa lookup table of communes is generated from the communes data and committed up to date."""

from __future__ import annotations

import re

import yaml

from bot.geo.communes import get_commune_directory
from bot.geo.lookups import LOOKUP_PATH, POSTCODE_REGEX, lookup_entries, render_lookup_yaml


def test_committed_lookup_file_is_up_to_date() -> None:
    assert LOOKUP_PATH.read_text(encoding="utf-8") == render_lookup_yaml(get_commune_directory())


def test_lookup_has_every_commune_and_usual_variants() -> None:
    entries = set(lookup_entries(get_commune_directory()))
    for name in ("Villeneuve-d'Ascq", "villeneuve dascq", "marcq en baroeul", "Marcq", "lomme", "hellemmes",
                 "st andre lez lille", "Mons-en-Barœul", "la bassee"):
        assert name in entries
    data = yaml.safe_load(LOOKUP_PATH.read_text(encoding="utf-8"))
    assert {item.get("lookup") or item.get("regex") for item in data["nlu"]} == {"commune", "postcode"}


def test_longer_spellings_come_first_so_the_regex_prefers_them() -> None:
    entries = lookup_entries(get_commune_directory())
    assert entries.index("marcq en baroeul") < entries.index("marcq")


def test_postcode_regex_matches_mel_postcodes_only() -> None:
    assert re.search(POSTCODE_REGEX, "ordinateur 59200 svp")
    assert not re.search(POSTCODE_REGEX, "75001")
