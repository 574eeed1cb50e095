"""Secretariat answers: the confidence threshold, "signaler un besoin", places for the commune asked, source names."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from bot.knowledge import check, get_knowledge_base
from bot.places.importer import DEFAULT_PLACES_CSV, parse_places_file
from bot.places.search import PlaceIndex
from bot.secretariat.answers import procedure_document, source_label
from bot.secretariat.places import places_for_question
from bot.secretariat.ranking import SHOW_THRESHOLD, confident_answers, rank_procedures
from bot.secretariat.reports import NEED_PROCEDURE_ID, list_reports, record_need
from tests.secretariat.fixtures import REAL_MODEL_RANKINGS, signed_in_secretariat

LIVRET = "un administré a perdu son livret de famille"
PASSPORT = "pièces pour une première demande de passeport mineur"


@pytest.fixture(scope="module")
def index() -> PlaceIndex:
    """The shipped MEL places, without a database."""
    return PlaceIndex(parse_places_file(DEFAULT_PLACES_CSV)[0])


class RecordedModel:
    """The trained model's answers, as recorded (tests/secretariat/fixtures.py)."""

    async def intent_ranking(self, text: str) -> dict[str, float]:
        return dict(REAL_MODEL_RANKINGS[text])


async def test_question_without_a_sheet_shows_no_unrelated_sheet() -> None:
    ranking = await rank_procedures(LIVRET, get_knowledge_base(), RecordedModel())
    assert ranking.answers, "the ranking still lists weak candidates (driving licence, lost papers)"
    assert all(answer.confidence < SHOW_THRESHOLD for answer in ranking.answers)
    assert confident_answers(ranking) == []


async def test_clear_question_shows_its_sheet_and_no_weak_second() -> None:
    ranking = await rank_procedures(PASSPORT, get_knowledge_base(), RecordedModel())
    assert [answer.procedure.id for answer in confident_answers(ranking)] == ["passport"]


async def test_without_the_model_one_shared_word_is_not_enough() -> None:
    knowledge_base = get_knowledge_base()
    assert confident_answers(await rank_procedures(LIVRET, knowledge_base, None)) == []
    found = confident_answers(await rank_procedures("duplicata du permis de conduire après un vol", knowledge_base,
                                                    None))
    assert [answer.procedure.id for answer in found] == ["driving_licence"]


def test_signaled_need_is_masked_and_listed_for_the_content_editors(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'needs.sqlite'}"
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", url)
    engine, who = signed_in_secretariat(url, "Mairie de Seclin", "59560")
    need = record_need(engine, who, "M. Martin, 06 12 34 56 78, a perdu son livret de famille", "2e demande ce mois")
    [stored] = [r for r in list_reports(engine) if r.id == need.id]
    assert stored.procedure_id == NEED_PROCEDURE_ID and stored.commune == "59560"
    assert "06 12 34 56 78" not in stored.message and "livret de famille" in stored.message
    assert stored.message.endswith("Précision : 2e demande ce mois")
    assert check.main(["--reports"]) == 0
    out = capsys.readouterr().out
    assert f"#{need.id} [open]" in out and NEED_PROCEDURE_ID in out and "Question sans fiche" in out


def test_commune_named_in_the_question_lists_its_places(index: PlaceIndex) -> None:
    found = places_for_question("où envoyer quelqu'un pour apprendre l'ordinateur à Tourcoing", "Lille", index)
    assert found is not None and found["commune_in_question"]
    assert found["origin"]["label"] == "Tourcoing" and found["criteria"]["needs"] == ["apprendre"]
    assert {place["commune"] for place in found["places"]} == {"Tourcoing"}
    assert all(place["telephone"] or place["alternative"] for place in found["places"])


def test_place_question_without_commune_uses_the_secretariat_commune(index: PlaceIndex) -> None:
    found = places_for_question("cours d'informatique pour débutants", "Seclin", index)
    assert found is not None and not found["commune_in_question"] and found["origin"]["label"] == "Seclin"
    assert places_for_question("cours d'informatique pour débutants", None, index) is None


def test_procedure_question_lists_no_places(index: PlaceIndex) -> None:
    assert places_for_question(PASSPORT, "Lille", index) is None
    assert places_for_question(LIVRET, "Lille", index) is None


def test_source_is_named_for_a_reader_not_as_a_file_path() -> None:
    passport = get_knowledge_base().get("passport")
    assert passport is not None
    label = procedure_document(passport)["sources"]["label"]
    assert label == source_label(passport) == "Fiche Numécrivain « Passeport », d'après DILA (service-public.gouv.fr)"
    assert "data/" not in label and ".yml" not in label


def test_signaled_needs_are_listed_escaped_in_the_content_report(tmp_path: Path) -> None:
    from bot.knowledge.report import ReportedError, Reports, build_report

    need = ReportedError(9, "02/12/2026 10:00", "59350", "Mairie de Lille",
                         "Question sans fiche : livret de famille <script>alert(1)</script>", "open")
    done = ReportedError(3, "01/12/2026 09:00", "59350", "Mairie de Lille", "Question sans fiche : déjà traitée",
                         "done")
    from tests.knowledge.samples import CONTACTS, entry, write_yaml

    knowledge = tmp_path / "knowledge"  # one sample sheet: the report of the whole base takes seconds
    write_yaml(knowledge / "procedures" / "papiers.yml", [entry()])
    write_yaml(knowledge / "contacts.yml", CONTACTS)
    (knowledge / "service_public_fiches.csv").write_text("id,titre,theme,dossier,url\nF14929,Passeport,,,\n",
                                                          encoding="utf-8")
    out = tmp_path / "report"
    build_report(out, date(2026, 12, 2), knowledge / "procedures", knowledge / "contacts.yml", knowledge,
                 Reports({NEED_PROCEDURE_ID: [need, done]}))
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "Besoins signalés par les secrétariats" in index
    assert "livret de famille &lt;script&gt;" in index and "<script>alert" not in index
    assert "déjà traitée" not in index
