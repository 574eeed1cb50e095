"""Secretariat API and pages on the portal: /api/v1/* (Bearer tokens) and /secretariat (HTML + vanilla JS)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Coroutine
from datetime import date
from functools import wraps
from pathlib import Path
from typing import Any, Concatenate, ParamSpec

from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sqlalchemy.future import Engine

from bot.handoff.config import get_handoff_config
from bot.knowledge import KnowledgeError, get_knowledge_base
from bot.knowledge.loader import KnowledgeBase
from bot.replies import PHONE_HELP
from bot.secretariat.answers import answer_document, procedure_document
from bot.secretariat.nlu import RasaNluClient
from bot.secretariat.openapi import openapi_document
from bot.secretariat.places import (
    AmbiguousCommuneError,
    PlacesUnavailableError,
    UnknownCommuneError,
    find_places_for_secretariat,
    places_for_question,
)
from bot.secretariat.ranking import confident_answers, keyword_index, rank_procedures, show_threshold
from bot.secretariat.reports import ErrorReport, record_need, record_report
from bot.secretariat.store import secretariat_engine
from bot.secretariat.tokens import Secretariat, authenticate, commune_names
from bot.secretariat.usage import TrackerUnavailableError, service_view, usage_report
from bot.secretariat.validation import (
    InvalidInputError,
    check_procedure_id,
    clean_need_comment,
    clean_question,
    clean_report,
    parse_limit,
)
from bot.service_auth import bearer_token
from bot.web.templating import render

logger = logging.getLogger(__name__)
P = ParamSpec("P")
Handler = Callable[Concatenate[Request, P], Coroutine[Any, Any, response.HTTPResponse]]
SecretariatHandler = Callable[Concatenate[Request, Secretariat, P], Coroutine[Any, Any, response.HTTPResponse]]

STATIC_DIR = Path(__file__).parent / "static" / "secretariat"
STATIC_FILES = {"secretariat.js": "text/javascript", "usage.js": "text/javascript",
                "common.js": "text/javascript", "secretariat.css": "text/css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                               "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
MAX_BODY_BYTES = 16_384
NO_MATCH_TEXT = "Aucune fiche ne correspond à cette question."
FIRST_DAY, LAST_DAY = date(2020, 1, 1), date(2100, 12, 31)  # service figures: a period the service can have


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> response.HTTPResponse:
    return response.json({"error": {"code": code, "message": message}}, status=status, ensure_ascii=False,
                         headers={**SECURITY_HEADERS, **(headers or {})})


def _json(body: Any, status: int = 200) -> response.HTTPResponse:
    return response.json(body, status=status, headers=SECURITY_HEADERS, ensure_ascii=False)


def _unauthorised() -> response.HTTPResponse:
    return _error(401, "unauthorised", "Code d'accès absent ou invalide. Demandez un code à la MEL.",
                  {"WWW-Authenticate": 'Bearer realm="numecrivain-secretariat"'})


def _admin_only() -> response.HTTPResponse:
    return _error(403, "admin_only", "Ces chiffres sont réservés à l'administration métropolitaine.")


def _caller(request: Request) -> Secretariat | None:
    """The secretariat behind the Authorization: Bearer header, or None (a database read: call it off the loop)."""
    token = bearer_token(request.headers.get("authorization"))
    return None if token is None else authenticate(_engine(request), token)


def _engine(request: Request) -> Engine:
    return secretariat_engine(request.app.ctx.settings.database_url)


def requires_secretariat(handler: SecretariatHandler[P]) -> Handler[P]:
    """Answer 401 unless a valid token came with the request; the handler receives who sent it.

    Input the handler refuses (InvalidInputError) becomes its 4xx answer, so handlers validate by calling.
    """

    @wraps(handler)
    async def authenticated(request: Request, /, *args: P.args, **kwargs: P.kwargs) -> response.HTTPResponse:
        who = await asyncio.to_thread(_caller, request)
        if who is None:
            return _unauthorised()
        try:
            return await handler(request, who, *args, **kwargs)
        except InvalidInputError as exc:
            return _error(exc.status, exc.code, exc.message)

    return authenticated


def requires_admin(handler: SecretariatHandler[P]) -> Handler[P]:
    """As requires_secretariat, and 403 unless the token is the metropolitan administration's."""

    @wraps(handler)
    async def admin(request: Request, who: Secretariat, /, *args: P.args, **kwargs: P.kwargs) -> response.HTTPResponse:
        if not who.is_admin:
            return _admin_only()
        return await handler(request, who, *args, **kwargs)

    return requires_secretariat(admin)


def _knowledge_base() -> KnowledgeBase | None:
    try:
        return get_knowledge_base()
    except KnowledgeError:
        logger.exception("knowledge base invalid: the secretariat API answers 503 until it is fixed")
        return None


def _knowledge_unavailable() -> response.HTTPResponse:
    return _error(503, "knowledge_unavailable", "La base de fiches est en cours de correction. Réessayez.")


def _unknown_procedure() -> response.HTTPResponse:
    return _error(404, "unknown_procedure", "Aucune fiche ne porte cet identifiant.")


def _page(name: str) -> response.HTTPResponse:
    return response.html(render(f"secretariat/{name}"), headers=SECURITY_HEADERS)


def _json_object(request: Request, fields: str) -> dict[str, Any]:
    """The request's JSON object, or InvalidInputError (413, 400) saying what was expected."""
    if len(request.body or b"") > MAX_BODY_BYTES:
        raise InvalidInputError("body_too_large", "Message trop long.", status=413)
    try:
        body = request.json
    except Exception:
        body = None
    if not isinstance(body, dict):
        raise InvalidInputError("invalid_json", f"Envoyez un objet JSON {{{fields}}}.")
    return body


def _created(report: ErrorReport) -> response.HTTPResponse:
    """201 with what the page shows of a stored report or need."""
    return _json({"id": report.id, "procedure_id": report.procedure_id, "status": report.status,
                  "created_at": report.created_at.isoformat()}, status=201)


def _period(request: Request) -> tuple[date | None, date | None]:
    """The ?since= and ?until= days (each optional), or InvalidInputError."""
    try:
        since = date.fromisoformat(request.args["since"][0]) if request.args.get("since") else None
        until = date.fromisoformat(request.args["until"][0]) if request.args.get("until") else None
    except ValueError:
        raise InvalidInputError("invalid_date", "Dates au format AAAA-MM-JJ.") from None
    return since, until


async def _places_for_question(question: str, home: str | None) -> dict[str, Any] | None:
    """Nearby places for the question (off the event loop); None when they cannot be found, never an error."""
    try:
        return await asyncio.to_thread(places_for_question, question, home)
    except Exception:  # the places are a help next to the sheets: their failure must not hide the sheets
        logger.exception("places for a secretariat question failed; the sheets are shown alone")
        return None


def _add_answer_routes(bp: Blueprint) -> None:
    """Who am I, the answers to a question, one procedure, the places near a commune."""

    @bp.get("/api/v1/me")
    @requires_secretariat
    async def me(_: Request, who: Secretariat) -> response.HTTPResponse:
        return _json({"commune": who.commune, "commune_name": commune_names().get(who.commune, "MEL"),
                      "name": who.name, "admin": who.is_admin})

    @bp.get("/api/v1/answers")
    @requires_secretariat
    async def answers(request: Request, who: Secretariat) -> response.HTTPResponse:
        question = clean_question(request.args.get("q"))
        limit = parse_limit(request.args.get("limit"))
        knowledge_base = _knowledge_base()
        if knowledge_base is None:
            return _knowledge_unavailable()
        started = time.perf_counter()
        ranking = await rank_procedures(question, knowledge_base, request.app.ctx.secretariat_nlu, limit)
        shown = confident_answers(ranking)
        home = None if who.is_admin else commune_names().get(who.commune)
        places = await _places_for_question(question, home)
        return _json({
            "question": question,
            "method": ranking.method,
            "nlu_intent": ranking.nlu_intent,
            "elapsed_ms": round((time.perf_counter() - started) * 1000, 1),
            "threshold": show_threshold(ranking),
            "no_match": None if shown else NO_MATCH_TEXT,
            "answers": [answer_document(item, question=question) for item in shown],
            "places": places,
        })

    @bp.get("/api/v1/procedures/<procedure_id:str>")
    @requires_secretariat
    async def procedure(_: Request, __: Secretariat, procedure_id: str) -> response.HTTPResponse:
        check_procedure_id(procedure_id)
        knowledge_base = _knowledge_base()
        if knowledge_base is None:
            return _knowledge_unavailable()
        found = knowledge_base.get(procedure_id)
        return _unknown_procedure() if found is None else _json(procedure_document(found))

    @bp.get("/api/v1/places")
    @requires_secretariat
    async def places(request: Request, _: Secretariat) -> response.HTTPResponse:
        commune = " ".join((request.args.get("commune") or "").split())
        need = " ".join((request.args.get("need") or "").split()) or None
        if not commune or len(commune) > 80 or (need and len(need) > 80):
            return _error(400, "invalid_commune", "Indiquez une commune (80 caractères au plus).")
        try:
            found = await asyncio.to_thread(find_places_for_secretariat, commune, need)
        except PlacesUnavailableError as exc:
            return _error(503, "places_unavailable",
                          f"La recherche de lieux n'est pas disponible ({exc}). "
                          f"En attendant : France Services et mairies, ou {PHONE_HELP}.")
        except UnknownCommuneError:
            return _error(404, "unknown_commune", "Commune inconnue dans la Métropole Européenne de Lille.")
        except AmbiguousCommuneError as exc:
            return _error(400, "ambiguous_commune", str(exc)[:300])
        return _json({"commune": commune, "need": need, **found})


def _add_report_routes(bp: Blueprint) -> None:
    """What secretaries send back: a need without a sheet, an error in a sheet."""

    @bp.post("/api/v1/needs")
    @requires_secretariat
    async def needs(request: Request, who: Secretariat) -> response.HTTPResponse:
        body = _json_object(request, "question, comment")
        question = clean_question(body.get("question"))
        comment = clean_need_comment(body.get("comment"))
        need = await asyncio.to_thread(record_need, _engine(request), who, question, comment)
        logger.info("need without a sheet %s from commune %s", need.id, who.commune)
        return _created(need)

    @bp.post("/api/v1/reports")
    @requires_secretariat
    async def reports(request: Request, who: Secretariat) -> response.HTTPResponse:
        body = _json_object(request, "procedure_id, message")
        procedure_id = check_procedure_id(body.get("procedure_id"))
        message = clean_report(body.get("message"))
        knowledge_base = _knowledge_base()
        if knowledge_base is not None and knowledge_base.get(procedure_id) is None:
            return _unknown_procedure()
        report = await asyncio.to_thread(record_report, _engine(request), who, procedure_id, message)
        logger.info("error report %s on %s from commune %s", report.id, procedure_id, who.commune)
        return _created(report)


def _add_usage_routes(bp: Blueprint) -> None:
    """The figures for the metropolitan administration (admin tokens only)."""

    @bp.get("/api/v1/usage")
    @requires_admin
    async def usage(request: Request, _: Secretariat) -> response.HTTPResponse:
        since, until = _period(request)
        try:
            report = await asyncio.to_thread(usage_report, request.app.ctx.secretariat_tracker_url, since, until)
        except TrackerUnavailableError as exc:
            return _error(503, "tracker_unavailable", f"Historique des conversations illisible : {exc}")
        return _json(report.as_dict())

    @bp.get("/api/v1/usage/service")
    @requires_admin
    async def usage_service(request: Request, _: Secretariat) -> response.HTTPResponse:
        """The handoff service figures (charts drawn by the server, their tables, the CSV): administration only."""
        since, until = _period(request)
        if any(day is not None and not FIRST_DAY <= day <= LAST_DAY for day in (since, until)):
            return _error(400, "invalid_date", "Dates entre 2020 et 2100, au format AAAA-MM-JJ.")
        view = await asyncio.to_thread(service_view, _engine(request), since, until,
                                       get_handoff_config().timezone)
        return _json(view)


def _add_page_routes(bp: Blueprint) -> None:
    """The API's description, the two pages and their scripts and style."""

    @bp.get("/api/v1/openapi.json")
    async def openapi(_: Request) -> response.HTTPResponse:
        return _json(openapi_document())

    @bp.get("/secretariat")
    async def page(_: Request) -> response.HTTPResponse:
        return _page("index.html")

    @bp.get("/secretariat/usage")
    async def usage_page(request: Request) -> response.HTTPResponse:
        if request.headers.get("authorization"):
            who = await asyncio.to_thread(_caller, request)
            if who is None:
                return _unauthorised()
            if not who.is_admin:
                return _admin_only()
        return _page("usage.html")  # an empty shell: its figures come from /api/v1/usage (admin token)

    @bp.get("/secretariat/static/<name:str>")
    async def static(_: Request, name: str) -> response.HTTPResponse:
        if name not in STATIC_FILES:
            return _error(404, "not_found", "Fichier inconnu.")
        return response.text((STATIC_DIR / name).read_text(encoding="utf-8"), content_type=STATIC_FILES[name],
                             headers=SECURITY_HEADERS)


def build_blueprint() -> Blueprint:
    """The secretariat routes (a new blueprint per app, so tests can build several apps)."""
    bp = Blueprint(f"secretariat_{id(object())}")
    for add_routes in (_add_page_routes, _add_answer_routes, _add_report_routes, _add_usage_routes):
        add_routes(bp)
    return bp


def warm_up() -> None:
    """Load the sheets, their keyword index, the places and the communes before the first secretary asks."""
    try:
        knowledge_base = get_knowledge_base()
        keyword_index(knowledge_base)
        places_for_question("lieu pour apprendre l'informatique à Lille", "Lille")
    except Exception:  # only a speed-up: the first question will load what failed here, or say why
        logger.exception("secretariat warm-up failed; the first question will be slower")


def register(app: Sanic) -> None:
    """Attach the secretariat API and pages to the portal."""
    settings = app.ctx.settings

    async def start_warm_up(running: Sanic, _: Any) -> None:
        # A plain task (kept on ctx): Sanic's add_task refuses servers started with create_server.
        running.ctx.secretariat_warm_up = asyncio.get_running_loop().create_task(asyncio.to_thread(warm_up))

    app.register_listener(start_warm_up, "after_server_start")
    if not hasattr(app.ctx, "secretariat_nlu"):
        app.ctx.secretariat_nlu = RasaNluClient(settings.rasa_url, settings.rasa_api_token)
    if not hasattr(app.ctx, "secretariat_tracker_url"):
        app.ctx.secretariat_tracker_url = None  # None: the event broker's events in the project database
    app.blueprint(build_blueprint())
