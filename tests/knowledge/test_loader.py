"""Bad knowledge files are refused with a message that names the entry and the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.knowledge import KnowledgeError, load_procedures

VALID = {
    "id": "sample", "title": "Exemple", "theme": "papiers", "keywords": ["aa", "bb", "cc"],
    "summary": "Ceci sert à tester. Cela concerne les tests.", "steps": ["Faites ceci.", "Puis cela."],
    "documents": [], "cost": "Gratuit.", "delay": "Immédiat.",
    "links": [{"title": "Service-Public.fr", "url": "https://www.service-public.fr/particuliers/vosdroits/F1342"}],
    "offline": "Allez à la mairie de votre commune.", "where": ["mairie"],
    "sms": "Exemple: allez en mairie. Infos: service-public.fr", "checked": "2026-11-28",
}


def write(tmp_path: Path, entries: object, name: str = "theme.yml") -> Path:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    return path


def test_valid_entry_loads(tmp_path: Path) -> None:
    procedures = load_procedures([write(tmp_path, [VALID])])
    assert procedures["sample"].main_link.url.startswith("https://")
    assert procedures["sample"].intent == "procedure_sample"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sms": "Coût: ça dépend, vérifiez la pièce"}, "GSM-7"),
        ({"sms": "x" * 301}, "sms"),
        ({"links": [{"title": "Site", "url": "http://example.org"}]}, "links/0/url"),
        ({"where": ["lune"]}, "where/0"),
        ({"steps": ["Une seule étape."]}, "steps"),
        ({"unknown_field": "x"}, "unknown_field"),
    ],
)
def test_bad_entry_is_refused_with_its_field(tmp_path: Path, change: dict, expected: str) -> None:
    with pytest.raises(KnowledgeError, match=expected):
        load_procedures([write(tmp_path, [{**VALID, **change}])])


def test_missing_field_and_duplicate_id_are_both_reported(tmp_path: Path) -> None:
    broken = {key: value for key, value in VALID.items() if key != "offline"}
    with pytest.raises(KnowledgeError) as error:
        load_procedures([write(tmp_path, [VALID, VALID, broken])])
    assert "duplicate id" in str(error.value)
    assert "'offline' is a required property" in str(error.value)


def test_file_that_is_not_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(KnowledgeError, match="must be a list"):
        load_procedures([write(tmp_path, {"id": "x"})])


def test_invalid_yaml_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "broken.yml"
    path.write_text("- id: [unclosed", encoding="utf-8")
    with pytest.raises(KnowledgeError, match="not valid YAML"):
        load_procedures([path])
