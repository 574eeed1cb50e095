"""A question about a sub-case (a child, a loss...) gets that case's answer first."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.knowledge import load_procedures
from bot.knowledge.cases import select_case
from bot.knowledge.contacts import load_contacts
from bot.knowledge.model import Procedure
from bot.knowledge.render import render_sms, render_web
from tests.knowledge.samples import CONTACTS, entry, write_yaml


def _procedure(tmp_path: Path, **changes: object) -> Procedure:
    data = entry(**changes)
    data["cases"].append({
        "id": "loss", "title": "Perte ou vol", "when": ["perdu", "perte", "vol", "volé"],
        "answer": "En cas de perte ou de vol, déclarez-le au moment de la demande : un timbre fiscal est demandé.",
        "sources": ["sp-F14929"],
    })
    return load_procedures([write_yaml(tmp_path / "p.yml", [data])])["sample"]


@pytest.mark.parametrize(
    ("question", "case_id"),
    [
        ("Passeport pour mon FILS de 12 ans", "minor"),
        ("passeport pour un enfant", "minor"),
        ("J'ai perdu mon passeport", "loss"),
        ("passeport volé", "loss"),
        ("on m'a VOLE mon passeport", "loss"),  # accents and case do not matter
        ("mon fils a perdu son passeport, il est mineur", "minor"),  # two words of the minor case beat one
        ("mon passeport expire", None),
        ("des enfantillages", None),  # whole words only
        ("", None),
    ],
)
def test_case_is_selected_by_whole_words(tmp_path: Path, question: str, case_id: str | None) -> None:
    case = select_case(_procedure(tmp_path), question)
    assert (case.id if case else None) == case_id


def test_very_long_question_is_cut_before_matching(tmp_path: Path) -> None:
    assert select_case(_procedure(tmp_path), "x " * 5000 + "enfant") is None


def test_web_answer_starts_with_the_case(tmp_path: Path) -> None:
    contacts = load_contacts(write_yaml(tmp_path / "c.yml", CONTACTS))
    first = render_web(_procedure(tmp_path), "passeport pour ma fille", contacts)[0].text
    assert first.startswith("**Exemple**\nPour un enfant de moins de 15 ans, le passeport coûte 17 €")
    plain = render_web(_procedure(tmp_path), "passeport", contacts)[0].text
    assert "Pour un enfant" not in plain


def test_sms_answer_uses_the_case_sms(tmp_path: Path) -> None:
    contacts = load_contacts(write_yaml(tmp_path / "c.yml", CONTACTS))
    assert render_sms(_procedure(tmp_path), "passeport enfant", contacts)[0].text.startswith("Passeport enfant: 17 EUR")
    assert render_sms(_procedure(tmp_path), "passeport", contacts)[0].text.startswith("Passeport: 86 EUR")
