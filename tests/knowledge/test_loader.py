"""Bad knowledge files are refused with a message that names the entry and the field."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeError, load_procedures
from tests.knowledge.samples import ENTRY, entry, write_yaml


def write(tmp_path: Path, entries: object, name: str = "theme.yml") -> Path:
    return write_yaml(tmp_path / name, entries)


def test_valid_entry_loads_with_its_dates_sources_and_cases(tmp_path: Path) -> None:
    procedure = load_procedures([write(tmp_path, [ENTRY])])["sample"]
    assert procedure.main_link.url.startswith("https://")
    assert procedure.intent == "procedure_sample"
    assert procedure.written == date(2026, 11, 28) and procedure.verified is None
    assert procedure.review_by == date(2027, 5, 28)
    assert [s.id for s in procedure.sources_for("cost")] == ["sp-F14929"]
    assert procedure.sources[0].version == date(2025, 7, 31)
    assert procedure.cases[0].id == "minor" and "17 €" in procedure.cases[0].answer


def test_volatile_source_brings_the_next_review_forward(tmp_path: Path) -> None:
    volatile = entry()
    volatile["sources"][0]["review_by"] = "2027-01-15"
    procedure = load_procedures([write(tmp_path, [volatile])])["sample"]
    assert procedure.next_review == date(2027, 1, 15)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"sms": "Coût: ça dépend, vérifiez la pièce"}, "GSM-7"),
        ({"sms": "x" * 381}, "sms"),
        ({"links": [{"title": "Site", "url": "http://example.org"}]}, "links/0/url"),
        ({"where": ["lune"]}, "where/0"),
        ({"steps": ["Une seule étape."]}, "steps"),
        ({"unknown_field": "x"}, "unknown_field"),
        ({"checked": "2026-11-28"}, "checked"),
        ({"sources": []}, "sources"),
        ({"verified": "le 2 décembre"}, "verified"),
    ],
)
def test_bad_entry_is_refused_with_its_field(tmp_path: Path, change: dict, expected: str) -> None:
    with pytest.raises(KnowledgeError, match=expected):
        load_procedures([write(tmp_path, [entry(**change)])])


@pytest.mark.parametrize("missing", ["written", "review_by", "sources"])
def test_new_required_fields_are_required(tmp_path: Path, missing: str) -> None:
    broken = {key: value for key, value in ENTRY.items() if key != missing}
    with pytest.raises(KnowledgeError, match=f"'{missing}' is a required property"):
        load_procedures([write(tmp_path, [broken])])


def test_source_backing_an_unknown_field_is_refused(tmp_path: Path) -> None:
    bad = entry()
    bad["sources"][0]["backs"] = ["price"]
    with pytest.raises(KnowledgeError, match="sources/0/backs/0"):
        load_procedures([write(tmp_path, [bad])])


def test_case_sms_outside_gsm7_is_refused(tmp_path: Path) -> None:
    bad = entry()
    bad["cases"][0]["sms"] = "Passeport enfant : 17 € « avant » 15 ans"
    with pytest.raises(KnowledgeError, match="cases/0/sms"):
        load_procedures([write(tmp_path, [bad])])


def test_missing_field_and_duplicate_id_are_both_reported(tmp_path: Path) -> None:
    broken = {key: value for key, value in ENTRY.items() if key != "offline"}
    with pytest.raises(KnowledgeError) as error:
        load_procedures([write(tmp_path, [ENTRY, ENTRY, broken])])
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
