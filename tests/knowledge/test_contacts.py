"""Contacts are written once, with sources, and placeholders bring them into every text and channel."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.gsm7 import is_gsm7
from bot.knowledge.contacts import (
    CONTACTS_FILE,
    ContactError,
    describe,
    expand,
    literal_phone_numbers,
    load_contacts,
    tel_uri,
)
from bot.replies import PHONE_HELP
from bot.web.widget import embed_snippet, widget_source
from tests.knowledge.samples import CONTACTS, write_yaml

# The ids CONTENT_FORMAT.md promises to the content writers.
PROMISED_IDS = {
    "allo_service_public", "solidarite_numerique", "france_services", "caf", "cpam", "impots", "france_travail",
    "ants", "mdph_nord", "nord_autonomie", "mel_dechets", "ilevia", "casier_judiciaire", "prefecture_nord",
    "anah_france_renov", "cheque_energie",
}


@pytest.fixture()
def contacts(tmp_path: Path):
    return load_contacts(write_yaml(tmp_path / "contacts.yml", CONTACTS))


def test_project_contacts_file_has_every_promised_id_each_with_a_dated_source() -> None:
    project = load_contacts(CONTACTS_FILE)
    assert set(project) >= PROMISED_IDS
    for contact in project.values():
        assert contact.sources and all(source.seen for source in contact.sources), contact.id
        if contact.phone:
            assert any("phone" in source.backs for source in contact.sources), contact.id
        if contact.hours:
            assert any("hours" in source.backs for source in contact.sources), contact.id


def test_unconfirmed_solidarite_numerique_is_not_the_line_offered_everywhere() -> None:
    project = load_contacts(CONTACTS_FILE)
    assert project["solidarite_numerique"].unconfirmed
    assert "01 70 772 372" not in PHONE_HELP and "39 39" in PHONE_HELP


def test_contact_placeholder_gives_name_number_and_hours(contacts) -> None:
    text = expand("Appelez {contact:helpline}.", contacts)
    assert text == "Appelez Allô Test au 39 39 (du lundi au vendredi de 9h à 17h)."


def test_phone_and_name_placeholders(contacts) -> None:
    assert expand("{name:helpline} : {phone:helpline}", contacts) == "Allô Test : 39 39"


def test_contact_without_confirmed_number_points_to_its_site(contacts) -> None:
    assert describe(contacts["nophone"]) == "Le guichet (guichet.gouv.fr/aide)"


def test_sms_expansion_is_gsm7(contacts) -> None:
    text = expand("Aide: {contact:helpline}", contacts, sms=True)
    assert is_gsm7(text) and text == "Aide: Allo Test au 39 39 (du lundi au vendredi de 9h à 17h)"


def test_unknown_contact_id_is_an_error(contacts) -> None:
    with pytest.raises(ContactError, match="unknown contact id 'nobody'"):
        expand("Appelez {contact:nobody}.", contacts)


def test_bad_contacts_file_names_the_contact_and_field(tmp_path: Path) -> None:
    broken = [{**CONTACTS[0], "phone": "appelez-nous"}]
    with pytest.raises(ContactError, match="helpline: phone"):
        load_contacts(write_yaml(tmp_path / "contacts.yml", broken))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("L'ANTS répond au 34 00.", ["34 00"]),
        ("Solidarité Numérique 01 70 772 372", ["01 70 772 372"]),
        ("numéro vert 0 800 711 771", ["0 800 711 771"]),
        ("appelez le 0320000000", ["0320000000"]),
        ("Allo Service Public 39 39", ["39 39"]),
        ("Le passeport coûte 86 € depuis 2025, fiche F1342.", []),
        ("Entre le 120e et le 60e jour.", []),
        ("Appelez {contact:helpline}.", []),
    ],
)
def test_literal_phone_numbers_are_found(contacts, text: str, found: list[str]) -> None:
    assert literal_phone_numbers(text, contacts) == found


def test_tel_uri_for_short_and_long_numbers() -> None:
    assert tel_uri("39 39") == "tel:3939"
    assert tel_uri("01 70 772 372") == "tel:+33170772372"


def test_widget_and_embed_snippet_take_the_help_line_from_contacts() -> None:
    script = widget_source("numecrivain.js")
    assert '"phone": "39 39"' in script and '"tel": "tel:3939"' in script
    assert "01 70 772 372" not in script
    assert 'href="tel:3939"' in embed_snippet("https://mairie.example.fr", "https://chat.example.fr")
