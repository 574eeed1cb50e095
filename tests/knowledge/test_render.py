"""Replies say "vérifiées le" only for a verified entry, and show contacts from contacts.yml."""

from __future__ import annotations

from pathlib import Path

from bot.gsm7 import is_gsm7
from bot.knowledge import get_knowledge_base, load_procedures
from bot.knowledge.contacts import load_contacts
from bot.knowledge.model import Procedure
from bot.knowledge.render import render_part_web, render_sms, render_web
from bot.replies import SMS_PAGE_BREAK
from tests.knowledge.samples import CONTACTS, entry, write_yaml


def _load(tmp_path: Path, **changes: object) -> Procedure:
    return load_procedures([write_yaml(tmp_path / "p.yml", [entry(**changes)])])["sample"]


def _contacts(tmp_path: Path):
    return load_contacts(write_yaml(tmp_path / "c.yml", CONTACTS))


def test_verified_entry_says_verified_with_the_date(tmp_path: Path) -> None:
    procedure = _load(tmp_path, verified="2026-12-02")
    first = render_web(procedure, None, _contacts(tmp_path))[0].text
    assert ("Source : [service-public.gouv.fr](https://www.service-public.gouv.fr/particuliers/vosdroits/F14929), "
            "informations vérifiées le 02/12/2026.") in first
    text = render_part_web(procedure, "links", _contacts(tmp_path))[0].text
    assert "Informations vérifiées le 02/12/2026" in text
    assert "rédigées" not in first + text


def test_unverified_entry_says_written_and_where_to_check(tmp_path: Path) -> None:
    first = render_web(_load(tmp_path), None, _contacts(tmp_path))[0].text  # the warning is not a button away
    text = render_part_web(_load(tmp_path), "links", _contacts(tmp_path))[0].text
    for shown in (first, text):
        assert "vérifiées le" not in shown
        assert ("Informations rédigées le 28/11/2026 à partir du site officiel : vérifiez-les sur "
                "service-public.gouv.fr/particuliers/vosdroits/F14929.") in shown


def test_web_reply_expands_contacts(tmp_path: Path) -> None:
    text = render_part_web(_load(tmp_path), "offline", _contacts(tmp_path))[0].text
    assert "appelez Allô Test au 39 39 (du lundi au vendredi de 9h à 17h)" in text
    assert "{contact:" not in text


def test_sms_reply_expands_contacts_in_gsm7(tmp_path: Path) -> None:
    sms = _load(tmp_path, sms="Aide: {contact:helpline}. service-public.gouv.fr/particuliers/vosdroits/F14929")
    text = render_sms(sms, None, _contacts(tmp_path))[0].text
    first, *more = text.split(SMS_PAGE_BREAK)
    assert first == "Aide: Allo Test au 39 39 (du lundi au vendredi de 9h à 17h)."
    assert more and all(is_gsm7(part) for part in (first, *more))


def test_no_project_reply_shows_a_raw_placeholder() -> None:
    for procedure in get_knowledge_base():  # loaded here, not at import: one file mid-edit fails one test
        parts = [reply for part in ("steps", "documents", "offline", "links", "cost", "delay", "where")
                 for reply in render_part_web(procedure, part)]
        for reply in render_web(procedure) + render_sms(procedure) + parts:
            assert "{contact:" not in reply.text and "{phone:" not in reply.text and "{name:" not in reply.text
