"""Secretariat API over real HTTP: authentication, answers, procedures, reports, usage, bad input."""

from __future__ import annotations

import urllib.parse

import pytest

from bot.event_broker import ProjectEventBroker
from bot.secretariat.openapi import openapi_document
from bot.secretariat.reports import list_reports
from bot.secretariat.store import secretariat_engine
from tests.secretariat.fixtures import Portal, portal  # noqa: F401  (session fixture)
from tests.secretariat.trackers_helper import user

PASSPORT_QUESTION = "pièces pour une première demande de passeport mineur"


def _answers(portal: Portal, question: str, token: str | None = None, extra: str = "") -> tuple[int, dict]:  # noqa: F811
    return portal.get(f"/api/v1/answers?q={urllib.parse.quote(question)}{extra}", token or portal.commune_token)


@pytest.mark.parametrize("path", ["/api/v1/answers?q=passeport", "/api/v1/procedures/passport", "/api/v1/me",
                                  "/api/v1/places?commune=Lille", "/api/v1/usage"])
@pytest.mark.parametrize("token", [None, "sec_not-a-real-token", "' OR '1'='1"])
def test_no_or_wrong_token_gets_401(portal: Portal, path: str, token: str | None) -> None:  # noqa: F811
    status, body = portal.get(path, token)
    assert status == 401
    assert body["error"]["code"] == "unauthorised"


def test_every_documented_operation_refuses_a_request_without_a_valid_token(portal: Portal) -> None:  # noqa: F811
    operations = [(method.upper(), path.replace("{procedure_id}", "passport"))
                  for path, item in openapi_document()["paths"].items() for method in item]
    assert len(operations) >= 8  # answers, procedures, places, reports, needs, me, usage, usage/service
    for method, path in operations:
        for token in (None, "sec_not-a-real-token"):
            status, body = portal.request(method, path, token, {} if method == "POST" else None)
            assert (status, body["error"]["code"]) == (401, "unauthorised"), (method, path, token)


def test_commune_token_on_usage_gets_403(portal: Portal) -> None:  # noqa: F811
    assert portal.get("/api/v1/usage", portal.commune_token)[0] == 403
    assert portal.get("/secretariat/usage", portal.commune_token)[0] == 403


def test_passport_question_returns_the_full_passport_procedure(portal: Portal) -> None:  # noqa: F811
    status, body = _answers(portal, PASSPORT_QUESTION)
    assert status == 200
    first = body["answers"][0]
    procedure = first["procedure"]
    assert procedure["id"] == "passport"
    assert 0 < first["confidence"] <= 1
    for key in ("steps", "documents", "cost", "delay", "links", "offline", "where", "sms", "checked", "sources"):
        assert procedure[key], key
    assert procedure["links"][0]["url"].startswith("https://")
    assert procedure["checked"] == "2026-11-28" or len(procedure["checked"]) == 10


def test_model_ranking_is_blended_when_the_model_answers(portal: Portal) -> None:  # noqa: F811
    question = "mon fils doit faire ses papiers pour voyager"
    portal.nlu.rankings[question] = [("procedure_passport", 0.92), ("procedure_identity_card", 0.05)]
    status, body = _answers(portal, question)
    assert status == 200
    assert body["method"] == "nlu+keywords" and body["nlu_intent"] == "procedure_passport"
    assert body["answers"][0]["procedure"]["id"] == "passport"
    assert body["answers"][0]["nlu_confidence"] == pytest.approx(0.92)


def test_procedure_by_id_and_unknown_id(portal: Portal) -> None:  # noqa: F811
    status, body = portal.get("/api/v1/procedures/identity_card", portal.commune_token)
    assert status == 200 and body["title"] == "Carte d'identité"
    assert portal.get("/api/v1/procedures/nope", portal.commune_token)[0] == 404
    assert portal.get("/api/v1/procedures/Bad-Id", portal.commune_token)[0] == 400


@pytest.mark.parametrize(("query", "code"), [
    ("", "empty_question"), ("   ", "empty_question"), ("a" * 5000, "question_too_long"),
])
def test_empty_or_huge_question_gets_a_clear_400(portal: Portal, query: str, code: str) -> None:  # noqa: F811
    status, body = _answers(portal, query)
    assert status == 400 and body["error"]["code"] == code and body["error"]["message"]


def test_missing_q_and_bad_limit_get_400(portal: Portal) -> None:  # noqa: F811
    assert portal.get("/api/v1/answers", portal.commune_token)[0] == 400
    assert _answers(portal, "passeport", extra="&limit=99")[0] == 400


@pytest.mark.parametrize("query", ["' OR 1=1; DROP TABLE secretariat_reports; --", "<script>alert(1)</script>",
                                   "{{7*7}} ${jndi:ldap://x}", "passeport\x00\x1b[31m"])
def test_injection_attempts_in_search_are_harmless(portal: Portal, query: str) -> None:  # noqa: F811
    status, body = _answers(portal, query)
    assert status == 200
    assert isinstance(body["answers"], list)


def test_report_is_stored_with_commune_and_name_and_kept_verbatim(portal: Portal) -> None:  # noqa: F811
    message = "Le tarif a changé'); DROP TABLE secretariat_reports; -- <img src=x onerror=alert(1)>"
    status, body = portal.request("POST", "/api/v1/reports", portal.commune_token,
                                  {"procedure_id": "passport", "message": message})
    assert status == 201 and body["status"] == "open"
    stored = [r for r in list_reports(secretariat_engine(portal.database_url)) if r.id == body["id"]]
    assert stored and stored[0].message == message
    assert stored[0].commune == "59350" and stored[0].reporter == "Mairie de Lille"


@pytest.mark.parametrize(("payload", "status"), [
    ({"procedure_id": "passport", "message": ""}, 400),
    ({"procedure_id": "passport", "message": "x" * 5000}, 400),
    ({"procedure_id": "passport"}, 400),
    ({"procedure_id": "../etc", "message": "erreur ici"}, 400),
    ({"procedure_id": "does_not_exist", "message": "erreur ici"}, 404),
    (["not", "an", "object"], 400),
])
def test_bad_reports_get_clear_errors(portal: Portal, payload: object, status: int) -> None:  # noqa: F811
    code, body = portal.request("POST", "/api/v1/reports", portal.commune_token, payload)
    assert code == status and body["error"]["message"]


def test_broken_json_report_gets_400(portal: Portal) -> None:  # noqa: F811
    assert portal.request("POST", "/api/v1/reports", portal.commune_token, raw=b"{not json")[0] == 400


def test_places_near_a_commune_come_from_the_places_search(portal: Portal) -> None:  # noqa: F811
    status, body = portal.get("/api/v1/places?commune=Lille&need=ordinateur", portal.commune_token)
    assert status == 200, body
    assert body["places"] and "distance_km" in body["places"][0]
    assert portal.get("/api/v1/places?commune=Marseille", portal.commune_token)[0] == 404
    assert portal.get("/api/v1/places?commune=", portal.commune_token)[0] == 400


def test_admin_reads_usage_figures_from_the_event_broker_events(portal: Portal) -> None:  # noqa: F811
    event = user("w1", 1_795_000_000.0, "procedure_passport", "passeport 0612345678", "webchat")
    broker = ProjectEventBroker(portal.database_url)
    broker.publish({"sender_id": "w1", "timestamp": event["ts"], **event["data"]})
    assert broker.flush()
    status, body = portal.get("/api/v1/usage", portal.admin_token)
    assert status == 200
    assert body["conversations"] == 1 and body["top_procedures"][0]["id"] == "passport"
    assert "w1" not in str(body)


def test_openapi_description_is_served(portal: Portal) -> None:  # noqa: F811
    status, body = portal.get("/api/v1/openapi.json")
    assert status == 200 and body["openapi"].startswith("3.")
    assert {"/api/v1/answers", "/api/v1/procedures/{procedure_id}", "/api/v1/places"} <= set(body["paths"])


def test_question_without_a_sheet_gets_no_unrelated_sheet(portal: Portal) -> None:  # noqa: F811
    status, body = _answers(portal, "un administré a perdu son livret de famille")
    assert status == 200 and body["method"] == "nlu+keywords"
    assert body["answers"] == [] and body["no_match"] == "Aucune fiche ne correspond à cette question."


def test_commune_in_the_question_brings_its_places(portal: Portal) -> None:  # noqa: F811
    status, body = _answers(portal, "où envoyer quelqu'un pour apprendre l'ordinateur à Tourcoing")
    assert status == 200 and body["no_match"] is None
    assert body["answers"][0]["procedure"]["id"] == "digital_skills"
    assert body["places"]["origin"]["label"] == "Tourcoing" and body["places"]["commune_in_question"]
    assert {place["commune"] for place in body["places"]["places"]} == {"Tourcoing"}


def test_signaled_need_is_stored_masked_and_bad_input_is_refused(portal: Portal) -> None:  # noqa: F811
    question = "un administré joignable au 06 12 34 56 78 a perdu son livret de famille"
    status, body = portal.request("POST", "/api/v1/needs", portal.commune_token,
                                  {"question": question, "comment": "Déjà 3 demandes"})
    assert status == 201 and body["procedure_id"] == "besoin_sans_fiche" and body["status"] == "open"
    [stored] = [r for r in list_reports(secretariat_engine(portal.database_url)) if r.id == body["id"]]
    assert "06 12 34 56 78" not in stored.message and "livret de famille" in stored.message
    assert stored.reporter == "Mairie de Lille"
    assert portal.request("POST", "/api/v1/needs", None, {"question": question})[0] == 401
    status, body = portal.request("POST", "/api/v1/needs", portal.commune_token, {"question": "  "})
    assert status == 400 and body["error"]["code"] == "empty_question"
    status, body = portal.request("POST", "/api/v1/needs", portal.commune_token, {"question": "x", "comment": 3})
    assert status == 400 and body["error"]["code"] == "invalid_comment"
