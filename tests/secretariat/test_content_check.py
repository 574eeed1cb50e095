"""The content check CLI: schema, review dates, GSM-7 SMS, NLU intents and rules, reported errors."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest
import yaml

from bot.knowledge import check
from bot.paths import DATA_DIR, PROCEDURES_DIR
from bot.secretariat.reports import record_report
from bot.secretariat.store import secretariat_engine
from bot.secretariat.tokens import authenticate, create_token

TODAY = date(2026, 11, 28)


@pytest.fixture()
def content(tmp_path: Path) -> Path:
    """A copy of data/ (knowledge, NLU, rules) that a test may break."""
    copy = tmp_path / "data"
    for sub in ("knowledge/procedures", "nlu/procedures", "rules"):
        shutil.copytree(DATA_DIR / sub, copy / sub)
    return copy


def _edit_entry(content: Path, procedure_id: str, **changes: object) -> None:
    for path in (content / "knowledge" / "procedures").glob("*.yml"):
        entries = yaml.safe_load(path.read_text(encoding="utf-8"))
        for entry in entries:
            if entry["id"] == procedure_id:
                entry.update(changes)
                path.write_text(yaml.safe_dump(entries, allow_unicode=True, sort_keys=False), encoding="utf-8")
                return
    raise AssertionError(procedure_id)


def _run(content: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str]:
    code = check.main(["--today", TODAY.isoformat(), "--procedures-dir", str(content / "knowledge" / "procedures"),
                       "--data-dir", str(content), *extra])
    return code, capsys.readouterr().out


def test_project_knowledge_base_passes_the_check(capsys: pytest.CaptureFixture[str]) -> None:
    code = check.main(["--today", "2026-11-28"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"{len(list(check.check_schema(PROCEDURES_DIR)[0]))} procedures checked, 0 problem(s)" in out


def test_entry_not_reviewed_for_over_a_year_is_reported(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit_entry(content, "passport", checked="2025-10-01")
    code, out = _run(content, capsys)
    assert code == 1
    assert "passport: not reviewed for 423 days" in out


def test_sms_outside_gsm7_is_reported(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit_entry(content, "passport", sms="Passeport : prenez rendez-vous à la mairie, ça coûte un timbre « fiscal ».")
    code, out = _run(content, capsys)
    assert code == 1
    assert "passport" in out and "GSM-7" in out


def test_schema_error_names_file_and_entry(content: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _edit_entry(content, "passport", links=[{"title": "Site", "url": "http://insecure.example.org"}])
    code, out = _run(content, capsys)
    assert code == 1
    assert "papiers.yml" in out and "passport" in out and "links/0/url" in out


def test_procedure_without_training_examples_or_rule_is_reported(content: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    rules = content / "rules" / "procedures.yml"
    data = yaml.safe_load(rules.read_text(encoding="utf-8"))
    data["rules"] = [r for r in data["rules"] if r["steps"][0].get("intent") != "procedure_passport"]
    rules.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    for path in (content / "nlu" / "procedures").glob("*.yml"):
        nlu = yaml.safe_load(path.read_text(encoding="utf-8"))
        nlu["nlu"] = [item for item in nlu["nlu"] if item.get("intent") != "procedure_passport"]
        path.write_text(yaml.safe_dump(nlu, allow_unicode=True), encoding="utf-8")
    code, out = _run(content, capsys)
    assert code == 1
    assert "no training examples for intent procedure_passport" in out
    assert "no rule 'procedure_passport -> action_answer_procedure'" in out


def test_links_are_not_checked_without_network(content: Path, capsys: pytest.CaptureFixture[str],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(check, "network_available", lambda *a, **k: False)
    monkeypatch.setattr(check, "check_links", lambda *_: pytest.fail("links checked without network"))
    code, out = _run(content, capsys, "--links")
    assert code == 0 and "Links not checked: no network" in out


def test_reported_error_appears_in_the_content_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'reports.sqlite'}"
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", url)
    engine = secretariat_engine(url)
    who = authenticate(engine, create_token(engine, "Mairie de Lille", "59350"))
    assert who is not None
    report = record_report(engine, who, "passport", "Le tarif du timbre a changé ; <b>à vérifier</b>")
    assert check.main(["--reports"]) == 0
    out = capsys.readouterr().out
    assert f"#{report.id} [open]" in out and "passport" in out and "Mairie de Lille (59350)" in out
    assert "<b>à vérifier</b>" in out
    assert check.main(["--close-report", str(report.id)]) == 0
    capsys.readouterr()
    check.main(["--reports"])
    assert "No open reported error." in capsys.readouterr().out
