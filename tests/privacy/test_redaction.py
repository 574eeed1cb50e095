"""What is masked, what is kept, and why no input can make the masking slow."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
import re2

from bot.privacy import (
    CARD_MASK,
    DATE_MASK,
    EMAIL_MASK,
    IBAN_MASK,
    NIR_MASK,
    NUMBER_MASK,
    PHONE_MASK,
    POSITION_MASK,
    TAX_NUMBER_MASK,
    contains_personal_data,
    redact_data,
    redact_personal_data,
)
from bot.privacy.redaction import (
    MIN_DIGITS_IN_RUN,
    PATTERNS,
    iban_is_valid,
    luhn_is_valid,
    nir_key_is_valid,
    public_numbers,
)

VALID_NIR = "1 85 05 78 006 084 91"
VALID_IBAN = "FR76 3000 6000 0112 3456 7890 189"
VALID_CARD = "4970 1012 3456 7893"


def test_checksums_tell_real_numbers_from_typos() -> None:
    assert nir_key_is_valid(VALID_NIR) and not nir_key_is_valid("1 85 05 78 006 084 92")
    assert nir_key_is_valid("2 85 05 2A 006 084 " + f"{97 - int('2850519006084') % 97:02d}")
    assert iban_is_valid(VALID_IBAN) and not iban_is_valid(VALID_IBAN.replace("189", "188"))
    assert luhn_is_valid(VALID_CARD.replace(" ", "")) and not luhn_is_valid("4970101234567894")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mon numéro : 06 12 34 56 78 merci", f"mon numéro : {PHONE_MASK} merci"),
        ("06.12.34.56.78", PHONE_MASK),
        ("+33 6 12 34 56 78", PHONE_MASK),
        ("0033612345678", PHONE_MASK),
        ("écrivez à jean.dupont@example.org", f"écrivez à {EMAIL_MASK}"),
        ("élodie.bérénice@exemple.fr", EMAIL_MASK),
        ("« écrivez-moi à jean.dupont@exemple. »", f"« écrivez-moi à {EMAIL_MASK} »"),  # quoted, cut short
        (f"sécu {VALID_NIR}", f"sécu {NIR_MASK}"),
        ("sécu 185057800608491", f"sécu {NIR_MASK}"),
        ("sécu 1 85 05 78 006 084 36", f"sécu {NUMBER_MASK}"),  # wrong key: still masked
        ("corse 2 85 05 2A 006 084 12", f"corse {NIR_MASK}"),
        (f"iban {VALID_IBAN} merci", f"iban {IBAN_MASK} merci"),
        ("iban FR7630006000011234567890189", f"iban {IBAN_MASK}"),
        ("FR7630006000011234567890189 et voilà", f"{IBAN_MASK} et voilà"),  # the word after is not swallowed
        (f"carte {VALID_CARD}", f"carte {CARD_MASK}"),
        ("fiscal 3012345678901", f"fiscal {TAX_NUMBER_MASK}"),
        ("allocataire 1234567", f"allocataire {NUMBER_MASK}"),
        ("né le 12/03/1985 à Lille", f"né le {DATE_MASK} à Lille"),
        ("née le 1er mars 1985", f"née le {DATE_MASK}"),
        ("le 12 03 1985", f"le {DATE_MASK}"),
        ("le 12-3-1985", f"le {DATE_MASK}"),
        ("1985-03-12", DATE_MASK),
        ("je suis à 50.633, 3.057", f"je suis à {POSITION_MASK}"),
        ('{"latitude": 50.633, "longitude": 3.057}',
         f'{{"latitude": {POSITION_MASK}, "longitude": {POSITION_MASK}}}'),
    ],
)
def test_personal_data_is_masked(text: str, expected: str) -> None:
    assert redact_personal_data(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "j'habite à Lille, 59000",
        "année scolaire 2024-2025",
        "le timbre coûte 86 €, 1 000 € au plus, 17,50 € le timbre",
        "ouvert Mo-Fr 09:00-17:00, rendez-vous le 12 mars",
        "Allô Service Public : 39 39",
        "https://www.openstreetmap.org/?mlat=50.63000&mlon=3.06000#map=17/50.63000/3.06000",  # a place, not a person
        "https://www.service-public.fr/particuliers/vosdroits/F1342",
        "ab12 very long word here",
        "",
    ],
)
def test_ordinary_text_is_kept(text: str) -> None:
    assert redact_personal_data(text) == text


def test_personal_data_or_its_mask_is_recognised() -> None:
    assert contains_personal_data("je suis née le 12/03/1985")
    assert contains_personal_data(f"je suis née le {DATE_MASK}")  # read back from the history
    assert not contains_personal_data("jai perdu ma carte d identité à Lille 59000")


def test_official_numbers_we_give_out_are_kept() -> None:
    """Numbers of data/knowledge/contacts.yml are public: a bot answer keeps them in the history."""
    numbers = sorted(number for number in public_numbers() if len(number) >= MIN_DIGITS_IN_RUN)
    assert numbers, "contacts.yml lists official phone numbers"
    spaced = " ".join(numbers[0][i:i + 2] for i in range(0, len(numbers[0]), 2))
    assert redact_personal_data(f"Appelez le {spaced}.") == f"Appelez le {spaced}."


def test_every_field_of_an_event_is_redacted_and_positions_dropped() -> None:
    event: dict[str, Any] = {
        "event": "user", "timestamp": 1.5, "message_id": "0123456789abcdef0123456789",
        "text": "mon mail a@b.fr", "input_channel": "webchat",
        "parse_data": {"text": "mon mail a@b.fr", "intent": {"name": "inform", "confidence": 0.9},
                       "entities": [{"entity": "latitude", "value": 50.63, "start": 0, "end": 5},
                                    {"entity": "commune", "value": "né le 12/03/1985"}]},
        "metadata": {"location": {"latitude": 50.633, "longitude": 3.057}, "note": ["06 12 34 56 78"]},
    }
    clean = redact_data(event)
    assert clean["text"] == clean["parse_data"]["text"] == f"mon mail {EMAIL_MASK}"
    assert clean["parse_data"]["entities"][0]["value"] is None
    assert clean["parse_data"]["entities"][1]["value"] == f"né le {DATE_MASK}"
    assert clean["metadata"] == {"location": {"latitude": None, "longitude": None}, "note": [PHONE_MASK]}
    assert (clean["message_id"], clean["timestamp"], clean["input_channel"]) == (event["message_id"], 1.5, "webchat")
    assert clean["parse_data"]["intent"] == event["parse_data"]["intent"]
    assert event["text"] == "mon mail a@b.fr", "the original is not modified"
    slot = {"event": "slot", "name": "longitude", "value": 3.057}
    assert redact_data(slot)["value"] is None


# The worst inputs for each pattern: long runs that almost match, many near-matches, nested repetitions.
HOSTILE: dict[str, Callable[[int], str]] = {
    "email_run": lambda n: "x" * n + "@",
    "email_dots": lambda n: "a." * (n // 2) + "@",
    "email_ats": lambda n: "a@" * (n // 2),
    "email_domain": lambda n: "a@" + "b." * (n // 2),
    "iban_groups": lambda n: "FR76 " + "1234 " * (n // 5),
    "iban_letters": lambda n: "AB12" * (n // 4),
    "nir_corsica": lambda n: "1 85 05 2A " * (n // 11),
    "dates": lambda n: "12/03/" * (n // 6),
    "date_words": lambda n: "1er mars " * (n // 9),
    "position_pairs": lambda n: "50.633, " * (n // 8),
    "position_keys": lambda n: "latitude: " * (n // 10),
    "digits_spaced": lambda n: "1 " * (n // 2),
    "digits_separators": lambda n: "1.-" * (n // 3),
    "pluses": lambda n: "+" * n,
    "zeros": lambda n: "00" * (n // 2),
    "accents_at": lambda n: "é@" * (n // 2),
    "brackets": lambda n: "[" * (n * 2 // 3) + "](" * (n // 6),
}


def _longest_digit_run(text: str) -> int:
    longest = current = 0
    for char in text:
        current = current + 1 if char.isdigit() else 0
        longest = max(longest, current)
    return longest


def test_every_pattern_runs_on_re2_an_engine_without_backtracking() -> None:
    assert PATTERNS and all(type(pattern) is type(re2.compile("x")) for pattern in PATTERNS)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_input_of_50000_characters_is_redacted_in_one_pass(
    name: str, capfd: pytest.CaptureFixture[str]
) -> None:
    text = HOSTILE[name](50_000)
    assert len(text) >= 10_000
    masked = redact_personal_data(text)
    assert _longest_digit_run(masked) < 7 and redact_personal_data(masked) == masked
    # RE2 says so on stderr when a pattern is too big for its fast automaton: none of ours is.
    assert "DFA out of memory" not in capfd.readouterr().err


def _best_of(function: Callable[[], object], repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.process_time()  # CPU time of this process: other processes on the machine do not count
        function()
        times.append(time.process_time() - started)
    return min(times)


def _growth(redact: Callable[[str], str], make: Callable[[int], str], n: int, repeats: int = 3) -> float:
    """How much more work 10 times the text costs: about 10 when linear, about 100 when quadratic."""
    small, large = make(n), make(10 * n)
    return _best_of(lambda: redact(large), repeats) / max(_best_of(lambda: redact(small), repeats), 1e-6)


def test_work_grows_linearly_with_the_length_of_hostile_text() -> None:
    everything = "".join(make(2_000) for make in HOSTILE.values())  # 34,000 characters of every kind
    growth = _growth(redact_personal_data, lambda n: everything * (n // 2_000), 2_000)
    assert growth < 30, f"10 times the text cost {growth:.0f} times the work"


def test_the_growth_measure_catches_a_quadratic_pattern() -> None:
    """The former e-mail pattern, on Python's backtracking engine: the measure must see it."""
    former = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
    growth = _growth(lambda text: former.sub("", text), HOSTILE["email_run"], 1_000, repeats=1)
    assert growth > 30, f"a quadratic pattern only grew {growth:.0f} times"
