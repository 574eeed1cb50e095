"""The editor's report: each fact beside its sources and dates, due reviews, and secretariat reports (escaped)."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

from bot.knowledge.report import ReportedError, Reports, build_report, read_reports
from bot.secretariat.reports import record_report
from tests.knowledge.samples import CONTACTS, entry, write_yaml
from tests.secretariat.fixtures import signed_in_secretariat

TODAY = date(2026, 12, 2)


def _knowledge(tmp_path: Path, **changes: object) -> Path:
    root = tmp_path / "knowledge"
    write_yaml(root / "procedures" / "papiers.yml", [entry(**changes)])
    write_yaml(root / "contacts.yml", CONTACTS)
    (root / "service_public_fiches.csv").write_text("id,titre,theme,dossier,url\nF14929,Passeport,,,\n",
                                                     encoding="utf-8")
    return root


def _build(tmp_path: Path, knowledge: Path, reports: Reports, today: date = TODAY) -> Path:
    out = tmp_path / "out"
    build_report(out, today, knowledge / "procedures", knowledge / "contacts.yml", knowledge, reports)
    return out


def test_page_shows_each_fact_beside_its_source_and_dates(tmp_path: Path) -> None:
    out = _build(tmp_path, _knowledge(tmp_path), Reports())
    page = (out / "sample.html").read_text(encoding="utf-8")
    assert "86 € pour un adulte." in page
    assert "Passeport d&#39;un majeur : première demande" in page
    assert "lue le 28/11/2026" in page and "version du 31/07/2025" in page
    assert "Allô Test au 39 39" in page  # contacts expanded
    assert "Aucun signalement." in page and "non vérifiée" in page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="sample.html"' in index and "rédigée le 28/11/2026" in index


def test_fact_without_source_and_due_review_are_shown(tmp_path: Path) -> None:
    changed = entry()
    changed["sources"][0]["backs"].remove("cost")
    out = _build(tmp_path, _knowledge(tmp_path, sources=changed["sources"]), Reports(), date(2027, 5, 1))
    page = (out / "sample.html").read_text(encoding="utf-8")
    assert "aucune source" in page and "`cost` has no source" in page
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "À revérifier" in index and 'class="soon"><a href="sample.html">' in index


def test_secretariat_report_is_listed_and_escaped(tmp_path: Path) -> None:
    reports = Reports({"sample": [ReportedError(7, "01/12/2026 10:00", "Roubaix", "Mme X",
                                                "Le prix a changé <script>alert(1)</script>", "open")]})
    out = _build(tmp_path, _knowledge(tmp_path), reports)
    page = (out / "sample.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>alert" not in page
    assert "Roubaix" in page and "ouvert" in page


def test_reports_are_read_through_the_public_function(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'reports.sqlite'}"
    engine, who = signed_in_secretariat(url, "Mairie de Lille", "59350")
    record_report(engine, who, "passport", "Le tarif a changé", now=datetime(2026, 12, 1, 9, 30))
    found = read_reports(url)
    assert [r.message for r in found.by_procedure["passport"]] == ["Le tarif a changé"]
    assert found.by_procedure["passport"][0].reporter == "Mairie de Lille"


def test_absent_database_means_no_report_and_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "absent.sqlite"
    assert read_reports(f"sqlite:///{missing}").by_procedure == {}
    assert not missing.exists()
