"""`make check-content` fails on each broken rule, naming the file, the entry and what to fix."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bot.knowledge import check
from bot.secretariat.reports import record_report
from tests.knowledge.samples import CONTACTS, entry, write_yaml
from tests.secretariat.fixtures import signed_in_secretariat

TODAY = date(2026, 12, 2)


@pytest.fixture()
def data(tmp_path: Path) -> Path:
    """A tiny data/ folder that passes every rule: one entry, its contacts, its NLU examples and rule."""
    root = tmp_path / "data"
    write_yaml(root / "knowledge" / "procedures" / "papiers.yml", [entry()])
    write_yaml(root / "knowledge" / "contacts.yml", CONTACTS)
    (root / "knowledge" / "service_public_fiches.csv").write_text(
        "id,titre,theme,dossier,url\nF14929,Passeport d'un majeur,Papiers,Passeport,"
        "https://www.service-public.fr/particuliers/vosdroits/F14929\n", encoding="utf-8")
    write_yaml(root / "nlu" / "procedures" / "papiers.yml",
               {"nlu": [{"intent": "procedure_sample", "examples": "- un exemple\n"}]})
    write_yaml(root / "rules" / "procedures.yml", {"rules": [
        {"rule": "sample", "steps": [{"intent": "procedure_sample"}, {"action": "action_answer_procedure"}]}]})
    return root


def _set(data: Path, **changes: Any) -> None:
    write_yaml(data / "knowledge" / "procedures" / "papiers.yml", [entry(**changes)])


def _run(data: Path, capsys: pytest.CaptureFixture[str], today: date = TODAY, *extra: str) -> tuple[int, str]:
    code = check.main(["--today", today.isoformat(), "--procedures-dir", str(data / "knowledge" / "procedures"),
                       "--data-dir", str(data), "--contacts", str(data / "knowledge" / "contacts.yml"),
                       "--knowledge-dir", str(data / "knowledge"), *extra])
    return code, capsys.readouterr().out


def test_complete_entry_passes(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(data, capsys)
    assert code == 0, out
    assert "1 procedures checked, 0 problem(s). Everything is in order." in out


def test_entry_past_its_review_date_fails(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(data, capsys, date(2027, 5, 29))
    assert code == 1 and "papiers.yml sample: past its review date (2027-05-28)" in out


# The entry's first source or first case breaks one rule; the report names it.
@pytest.mark.parametrize(("listed", "field_name", "value", "problems"), [
    pytest.param("sources", "review_by", "2026-12-01", ["source sp-F14929", "past its review date (2026-12-01)"],
                 id="volatile_source_past_its_review_date"),
    pytest.param("cases", "sms", "Passeport enfant: 17 EUR avant 15 ans, 42 EUR de 15 a 17 ans.",
                 ["case minor: sms lacks the main official link"], id="case_sms_without_the_main_link"),
    pytest.param("cases", "sources", ["sp-F1342"], ["case minor cites unknown source id sp-F1342"],
                 id="case_citing_an_unknown_source_id"),
])
def test_source_or_case_breaking_one_rule_fails_naming_it(data: Path, capsys: pytest.CaptureFixture[str], listed: str,
                                                          field_name: str, value: Any, problems: list[str]) -> None:
    changed = entry()
    changed[listed][0][field_name] = value
    _set(data, **{listed: changed[listed]})
    code, out = _run(data, capsys)
    assert code == 1, out
    assert [problem for problem in problems if problem not in out] == []


# Each entry breaks one rule; the report names the field and what is wrong.
@pytest.mark.parametrize(("changes", "problem"), [
    pytest.param(dict(review_by="2028-01-01"),
                 "more than 12 months after written", id="review_date_more_than_a_year_ahead"),
    # the sample's only source was read on 2026-11-28
    pytest.param(dict(verified="2026-12-01", written="2026-11-28"),
                 "`verified` 2026-12-01 but source sp-F14929 was read on 2026-11-28",
                 id="verified_entry_with_a_source_read_earlier"),
    pytest.param(dict(verified="2026-12-24", review_by="2027-06-01"),
                 "`verified` is in the future", id="verified_in_the_future"),
    pytest.param(dict(links=[{"title": "Ancien", "url": "https://www.service-public.fr/particuliers/vosdroits/F14929"}]),
                 "links/0: old domain www.service-public.fr", id="url_on_the_old_domain"),
    pytest.param(dict(offline="Allez à la mairie, ou appelez Solidarité Numérique au 01 70 772 372."),
                 "offline: phone number '01 70 772 372' written literally", id="literal_phone_number_in_a_text"),
    pytest.param(dict(steps=["Faites ceci.", "Sinon, Allo Test 39 39."]),
                 "steps/1: phone number '39 39' written literally", id="known_short_number_written_literally"),
    pytest.param(dict(offline="Allez à la mairie, ou appelez {contact:personne}."),
                 "offline: unknown contact id 'personne'", id="unknown_contact_id"),
    pytest.param(dict(offline="Allez à la mairie, ou appelez le {phone:nophone}."),
                 "{phone:nophone} but nophone has no confirmed number",
                 id="phone_placeholder_of_a_contact_without_number"),
])
def test_entry_breaking_one_rule_fails_naming_it(data: Path, capsys: pytest.CaptureFixture[str],
                                                 changes: dict[str, Any], problem: str) -> None:
    _set(data, **changes)
    code, out = _run(data, capsys)
    assert code == 1 and problem in out


@pytest.mark.parametrize("field_name", ["steps", "documents", "cost", "delay", "offline"])
def test_fact_field_without_a_source_fails(data: Path, capsys: pytest.CaptureFixture[str], field_name: str) -> None:
    changed = entry()
    changed["sources"][0]["backs"].remove(field_name)
    _set(data, sources=changed["sources"])
    code, out = _run(data, capsys)
    assert code == 1 and f"`{field_name}` has no source" in out


def test_empty_documents_need_no_source(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    changed = entry(documents=[])
    changed["sources"][0]["backs"].remove("documents")
    _set(data, documents=[], sources=changed["sources"])
    assert _run(data, capsys)[0] == 0


def test_sms_without_the_main_link_fails(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _set(data, sms="Passeport: 86 EUR pour un adulte. Infos: service-public.gouv.fr/particuliers/vosdroits/F1342")
    code, out = _run(data, capsys)
    assert code == 1
    assert "sms lacks the main official link (service-public.gouv.fr/particuliers/vosdroits/F14929)" in out


def test_sms_on_the_old_domain_fails(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _set(data, sms="Passeport: 86 EUR pour un adulte. Infos: service-public.fr/particuliers/vosdroits/F14929")
    code, out = _run(data, capsys)
    assert code == 1 and "sms: names the old domain" in out and "sms lacks the main official link" in out


def test_sms_longer_than_300_characters_once_expanded_fails(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _set(data, sms="Aide: {contact:helpline}. " + "x" * 200 + " service-public.gouv.fr/particuliers/vosdroits/F14929")
    code, out = _run(data, capsys)
    assert code == 1 and "sms has 314 characters once contacts are expanded (max 300)" in out


def test_unknown_service_public_sheet_fails(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _set(data, links=[*entry()["links"], {"title": "Autre", "url": "https://www.service-public.gouv.fr/particuliers/vosdroits/F99999"}])
    code, out = _run(data, capsys)
    assert code == 1 and "links/1: unknown service-public sheet F99999" in out


def test_sheet_added_with_its_title_is_known(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _set(data, links=[*entry()["links"], {"title": "Autre", "url": "https://www.service-public.gouv.fr/particuliers/vosdroits/F99999"}])
    (data / "knowledge" / "service_public_fiches_ajouts.csv").write_text(
        "id,titre,url,lu_le\nF99999,Une fiche,https://www.service-public.gouv.fr/particuliers/vosdroits/F99999,"
        "2026-12-02\n", encoding="utf-8")
    assert _run(data, capsys)[0] == 0


def test_broken_contacts_file_fails(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_yaml(data / "knowledge" / "contacts.yml", [{**CONTACTS[0], "sources": []}])
    code, out = _run(data, capsys)
    assert code == 1 and "contacts.yml[0] helpline: sources" in out


def test_contact_past_its_review_date_fails(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_yaml(data / "knowledge" / "contacts.yml", [{**CONTACTS[0], "review_by": "2026-11-30"}, CONTACTS[1]])
    code, out = _run(data, capsys)
    assert code == 1 and "contacts.yml helpline: past its review date (2026-11-30)" in out


def test_schema_error_names_file_and_entry(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _set(data, links=[{"title": "Site", "url": "http://insecure.example.org"}])
    code, out = _run(data, capsys)
    assert code == 1 and "papiers.yml" in out and "sample" in out and "links/0/url" in out


def test_procedure_without_training_examples_or_rule_is_reported(data: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    write_yaml(data / "rules" / "procedures.yml", {"rules": []})
    write_yaml(data / "nlu" / "procedures" / "papiers.yml", {"nlu": []})
    code, out = _run(data, capsys)
    assert code == 1
    assert "no training examples for intent procedure_sample" in out
    assert "no rule 'procedure_sample -> action_answer_procedure'" in out


def test_links_are_not_checked_without_network(data: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check, "network_available", lambda *a, **k: False)
    monkeypatch.setattr(check, "check_links", lambda *_: pytest.fail("links checked without network"))
    code, out = _run(data, capsys, TODAY, "--links")
    assert code == 0 and "Links not checked: no network" in out


def test_reported_error_appears_in_the_content_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'reports.sqlite'}"
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", url)
    engine, who = signed_in_secretariat(url, "Mairie de Lille", "59350")
    report = record_report(engine, who, "passport", "Le tarif du timbre a changé ; <b>à vérifier</b>")
    assert check.main(["--reports"]) == 0
    out = capsys.readouterr().out
    assert f"#{report.id} [open]" in out and "passport" in out and "Mairie de Lille (59350)" in out
    assert "<b>à vérifier</b>" in out
    assert check.main(["--close-report", str(report.id)]) == 0
    capsys.readouterr()
    check.main(["--reports"])
    assert "No open reported error." in capsys.readouterr().out
