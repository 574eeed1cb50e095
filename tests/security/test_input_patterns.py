"""Every pattern that sees user text (outside bot.privacy, tested there) stays linear on 10,000-character attacks.

A pattern with two repeats of the same characters side by side backtracks polynomially: the street pattern took
18 s on 441 characters. The bound below is generous for a loaded CI machine; a quadratic pattern needs seconds
on these inputs, a cubic one hours.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from bot.channels.inputs import as_typed_text
from bot.channels.sessions import SessionSigner
from bot.channels.sms.commands import is_stop, menu_number, parse_command
from bot.geo import locate as geo_locate
from bot.geo.addresses import _NUMBER_AND_STREET, AddressIndex
from bot.geo.communes import get_commune_directory
from bot.geo.normalize import compact_key, name_key
from bot.places.needs import criteria_from_text

SIZE = 10_000
BOUND_SECONDS = 0.5

ADVERSARIAL: dict[str, str] = {
    "spaces_after_a_number": "1" + " " * SIZE + "x",
    "commas_and_spaces": "12" + " , " * (SIZE // 3) + "x",
    "numbers_and_spaces": "1 " * (SIZE // 2),
    "bis_repeated": "1 bis " * (SIZE // 6),
    "coordinates_then_spaces": "50.6" + " " * SIZE + "x",
    "coordinates_run": "1.1 " * (SIZE // 4),
    "digits": "1" * SIZE,
    "digit_pairs": "59 " * (SIZE // 3),
    "word_prefixes": "deficien" * (SIZE // 8),
    "slashes": "/ " * (SIZE // 2) + "x",
    "newlines": "1 \n" * (SIZE // 3),
    "brackets": "[" * (SIZE // 2) + "](" * (SIZE // 4),
    "accents": "é" * SIZE,
}


def slowest(function: Callable[[str], Any]) -> tuple[float, str]:
    """The longest time `function` takes on one adversarial input, and which."""
    worst = (0.0, "")
    for name, text in ADVERSARIAL.items():
        started = time.perf_counter()
        function(text)
        worst = max(worst, (time.perf_counter() - started, name))
    return worst


PATTERNS: dict[str, Callable[[str], Any]] = {
    "street": geo_locate._STREET.search,
    "coordinates": lambda text: geo_locate._COORDINATES.match(text.strip()),
    "postcode": lambda text: list(geo_locate._POSTCODE.finditer(text)),
    "number_and_street": _NUMBER_AND_STREET.search,
    "needs": criteria_from_text,
    "name_key": name_key,
    "compact_key": compact_key,
    "sms_command": parse_command,
    "sms_stop": is_stop,
    "sms_menu_number": menu_number,
    "typed_text": as_typed_text,
    "session_token": SessionSigner(b"k").verify,
}


@pytest.mark.parametrize("name", list(PATTERNS))
def test_pattern_is_linear_on_adversarial_input(name: str) -> None:
    seconds, worst_input = slowest(PATTERNS[name])
    print(f"{name}: {seconds * 1000:.1f} ms at worst ({worst_input})")
    assert seconds < BOUND_SECONDS, f"{name} took {seconds:.2f} s on {worst_input}"


def test_address_lookup_is_linear_with_a_street_index() -> None:
    commune = get_commune_directory().communes[0]
    index = AddressIndex(streets={(commune.insee, "rue nationale"): (50.6, 3.0)})
    seconds, worst_input = slowest(lambda text: index.locate(text, commune))
    assert seconds < BOUND_SECONDS, f"took {seconds:.2f} s on {worst_input}"


def test_locating_a_whole_message_at_the_length_limit_stays_fast() -> None:
    """resolve_location runs every run of words through fuzzy matching: bounded by the 1,000-character limit."""
    started = time.perf_counter()
    for text in ADVERSARIAL.values():
        with contextlib.suppress(geo_locate.LocationError):
            geo_locate.resolve_location(text[:1000])
    seconds = time.perf_counter() - started
    print(f"resolve_location on {len(ADVERSARIAL)} messages of 1,000 characters: {seconds:.2f} s")
    assert seconds < 5 * BOUND_SECONDS * len(ADVERSARIAL)


def test_street_and_coordinates_still_recognise_what_people_write() -> None:
    for text in ("12 rue Nationale", "12bis, avenue de la Liberté", "3 ter bd Victor Hugo", "7, place du Général"):
        assert geo_locate._STREET.search(text), text
    for text in ("je suis au 12", "rue sans numéro"):
        assert not geo_locate._STREET.search(text), text
    for text in ("50.63, 3.06", "geo:50.63;3.06", "50.63 3.06", "50.63 ,  3.06"):
        match = geo_locate._COORDINATES.match(text)
        assert match and (match.group(1), match.group(2)) == ("50.63", "3.06"), text
    assert not geo_locate._COORDINATES.match("50.63 x 3.06")
    match = _NUMBER_AND_STREET.search("au 12 bis, rue Nationale")
    assert match and match.group(1) == "12" and match.group(2) == "bis"
