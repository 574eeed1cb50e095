"""The re-verified theme files pass every content rule and carry the corrections found against official texts."""

from __future__ import annotations

from datetime import date

import pytest

from bot.knowledge import check, load_procedures
from bot.knowledge.contacts import get_contacts
from bot.knowledge.render import render_sms, render_web
from bot.paths import PROCEDURES_DIR

# Every theme file was re-read against official sources with the new format.
REVERIFIED_FILES = tuple(sorted(path.name for path in PROCEDURES_DIR.glob("*.yml")))
FACT_FIELDS = ("steps", "documents", "cost", "delay", "offline")
KB = load_procedures([PROCEDURES_DIR / name for name in REVERIFIED_FILES])
TODAY = date(2026, 12, 2)


@pytest.mark.parametrize("file_name", REVERIFIED_FILES)
def test_reverified_file_passes_every_content_rule(file_name: str) -> None:
    entries = [p for p in KB.values() if p.source_file == file_name]
    assert entries
    problems = check.entry_problems(entries, get_contacts(), TODAY)
    assert not problems, "\n".join(map(str, problems))


def test_identity_card_links_adults_first_and_minors_second() -> None:
    card = KB.get("identity_card")
    assert card is not None
    assert card.links[0].url.endswith("/F1341") and card.links[1].url.endswith("/F1342")
    assert "25 €" in card.cost and "Gratuite" in card.cost


def test_passport_gives_the_three_official_prices() -> None:
    passport = KB.get("passport")
    assert passport is not None
    assert all(price in passport.cost for price in ("86 €", "42 €", "17 €"))
    child = render_web(passport, "un passeport pour mon fils de 10 ans")[0].text
    assert "moins de 15 ans, le passeport coûte 17 €" in child


def test_criminal_record_says_the_id_copy_is_mandatory_when_born_abroad() -> None:
    record = KB.get("criminal_record")
    assert record is not None
    assert any("né à l'étranger" in step and "obligatoirement" in step for step in record.steps)


def test_residence_permit_gives_the_window_and_no_closed_counter() -> None:
    permit = KB.get("residence_permit")
    assert permit is not None
    assert any("120e" in step and "60e" in step for step in permit.steps)
    assert "point d'accueil numérique" not in permit.offline


def test_household_waste_covers_glass_biowaste_and_the_mel_line() -> None:
    waste = KB.get("household_waste")
    assert waste is not None
    text = " ".join(waste.steps)
    assert "verre" in text and "biodéchets" in text and "{contact:mel_dechets}" in text
    sms = render_sms(waste)[0].text
    assert "0 800 711 771" in sms  # the number comes from contacts.yml


def test_a_verified_entry_rests_on_sources_read_that_day_and_says_so() -> None:
    verified = [p for p in KB.values() if p.verified is not None]
    assert verified
    for procedure in verified:
        assert procedure.verified is not None
        for field_name in FACT_FIELDS:
            sources = procedure.sources_for(field_name)
            assert sources, (procedure.id, field_name)
            assert all(s.seen >= procedure.verified for s in sources), (
                procedure.id, field_name)
        assert f"vérifiées le {procedure.verified:%d/%m/%Y}" in render_web(procedure)[-1].text, procedure.id


def test_an_unverified_entry_says_when_it_was_written_not_verified() -> None:
    unverified = [p for p in KB.values() if p.verified is None]
    assert unverified
    for procedure in unverified:
        footer = render_web(procedure)[-1].text
        assert "vérifiées le" not in footer, procedure.id
        assert f"rédigées le {procedure.written:%d/%m/%Y}" in footer, procedure.id
