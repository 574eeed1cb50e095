"""OpenAPI 3 description of the secretariat API (served at /api/v1/openapi.json, checked by schemathesis)."""

from __future__ import annotations

from typing import Any

from bot.secretariat.validation import MAX_QUESTION_LENGTH, MAX_REPORT_LENGTH, MIN_REPORT_LENGTH

_ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


_ERRORS = {
    "400": _json(_ERROR, "Paramètre invalide (question vide ou trop longue...)"),
    "401": _json(_ERROR, "Code d'accès absent, inconnu ou révoqué"),
}

_STRING = {"type": "string"}
_PROCEDURE: dict[str, Any] = {
    "type": "object",
    "required": ["id", "title", "summary", "steps", "documents", "cost", "delay", "links", "offline", "where",
                 "sms", "checked", "sources"],
    "properties": {
        "id": _STRING, "title": _STRING, "theme": _STRING, "summary": _STRING,
        "steps": {"type": "array", "items": _STRING},
        "documents": {"type": "array", "items": _STRING},
        "cost": _STRING, "delay": _STRING,
        "links": {"type": "array", "items": {"type": "object", "required": ["title", "url"],
                                             "properties": {"title": _STRING, "url": _STRING}}},
        "offline": {"type": "string", "description": "Comment faire sans Internet"},
        "where": {"type": "array", "items": {"type": "object", "properties": {"code": _STRING, "label": _STRING}}},
        "sms": {"type": "string", "description": "Texte SMS (GSM-7) à copier pour l'usager"},
        "checked": {"type": "string", "format": "date",
                    "description": "Date de vérification, ou de rédaction si la fiche n'est pas vérifiée"},
        "written": {"type": "string", "format": "date", "description": "Date de rédaction"},
        "verified": {"type": "string", "format": "date", "nullable": True,
                     "description": "Date de vérification sur les sources citées (absente si non vérifiée)"},
        "review_by": {"type": "string", "format": "date", "description": "À revérifier avant cette date"},
        "date_note": {"type": "string", "description": "Phrase à afficher sur la date des informations"},
        "review_overdue": {"type": "boolean"},
        "sources": {"type": "object", "properties": {
            "official": {"type": "array", "items": _STRING}, "knowledge_file": _STRING, "licence": _STRING,
            "label": {"type": "string", "description": "La source nommée pour un lecteur"},
            "cited": {"type": "array", "items": {"type": "object", "properties": {
                "title": _STRING, "url": _STRING, "seen": _STRING,
                "backs": {"type": "array", "items": _STRING}}}}}},
    },
}


def openapi_document(server_url: str = "/") -> dict[str, Any]:
    """The API description, built from the same limits the handlers enforce."""
    bearer: list[dict[str, list[str]]] = [{"bearerAuth": []}]
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Numécrivain – API des secrétariats de mairie",
            "version": "1.0.0",
            "description": "Réponses complètes, sourcées et datées sur les démarches, pour les secrétariats des "
                           "95 communes de la MEL. Authentification : Authorization: Bearer <code d'accès>.",
        },
        "servers": [{"url": server_url}],
        "security": bearer,
        "paths": {
            "/api/v1/answers": {"get": {
                "operationId": "searchAnswers",
                "summary": "Les fiches qui répondent le mieux à une question, classées, avec leur confiance",
                "parameters": [
                    {"name": "q", "in": "query", "required": True,
                     "schema": {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION_LENGTH}},
                    {"name": "limit", "in": "query", "required": False,
                     "schema": {"type": "integer", "minimum": 1, "maximum": 10, "default": 3}},
                ],
                "responses": {"200": _json({"$ref": "#/components/schemas/Answers"}, "Fiches classées"), **_ERRORS},
            }},
            "/api/v1/procedures/{procedure_id}": {"get": {
                "operationId": "getProcedure",
                "summary": "Une fiche complète",
                "parameters": [{"name": "procedure_id", "in": "path", "required": True,
                                "schema": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"}}],
                "responses": {"200": _json({"$ref": "#/components/schemas/Procedure"}, "La fiche"), **_ERRORS,
                              "404": _json(_ERROR, "Fiche inconnue")},
            }},
            "/api/v1/places": {"get": {
                "operationId": "findPlaces",
                "summary": "Lieux d'aide (médiation numérique, France Services) près d'une commune",
                "parameters": [
                    {"name": "commune", "in": "query", "required": True,
                     "schema": {"type": "string", "minLength": 1, "maxLength": 80}},
                    {"name": "need", "in": "query", "required": False,
                     "schema": {"type": "string", "maxLength": 80}},
                ],
                "responses": {"200": _json({"type": "object", "properties": {
                    "places": {"type": "array", "items": {"type": "object"}}}}, "Lieux les plus proches"), **_ERRORS,
                    "404": _json(_ERROR, "Commune inconnue"),
                    "503": _json(_ERROR, "Recherche de lieux pas encore disponible")},
            }},
            "/api/v1/reports": {"post": {
                "operationId": "reportError",
                "summary": "Signaler une erreur dans une fiche",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["procedure_id", "message"],
                    "properties": {
                        "procedure_id": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,63}$"},
                        "message": {"type": "string", "minLength": MIN_REPORT_LENGTH, "maxLength": MAX_REPORT_LENGTH},
                    }}}}},
                "responses": {"201": _json({"$ref": "#/components/schemas/Report"}, "Signalement enregistré"),
                              **_ERRORS, "404": _json(_ERROR, "Fiche inconnue")},
            }},
            "/api/v1/needs": {"post": {
                "operationId": "reportNeed",
                "summary": "Signaler un besoin : une question à laquelle aucune fiche ne répond (liste de l'équipe de "
                           "contenu, données personnelles masquées)",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["question"],
                    "properties": {
                        "question": {"type": "string", "minLength": 1, "maxLength": MAX_QUESTION_LENGTH},
                        "comment": {"type": "string", "maxLength": MAX_REPORT_LENGTH},
                    }}}}},
                "responses": {"201": _json({"$ref": "#/components/schemas/Report"}, "Besoin enregistré"), **_ERRORS},
            }},
            "/api/v1/me": {"get": {
                "operationId": "whoAmI",
                "summary": "La mairie à qui appartient le code d'accès",
                "responses": {"200": _json({"type": "object", "required": ["commune", "name", "admin"], "properties": {
                    "commune": _STRING, "commune_name": _STRING, "name": _STRING, "admin": {"type": "boolean"}}},
                    "Identité du code"), "401": _ERRORS["401"]},
            }},
            "/api/v1/usage": {"get": {
                "operationId": "usageFigures",
                "summary": "Chiffres d'usage pour le conseil métropolitain du numérique (code administrateur)",
                "parameters": [
                    {"name": "since", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
                    {"name": "until", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
                ],
                "responses": {"200": _json({"type": "object"}, "Chiffres agrégés, sans donnée personnelle"), **_ERRORS,
                              "403": _json(_ERROR, "Réservé aux codes administrateur"),
                              "503": _json(_ERROR, "Historique des conversations illisible")},
            }},
            "/api/v1/usage/service": {"get": {
                "operationId": "serviceFigures",
                "summary": "Chiffres du service d'aide par une personne : graphiques SVG, leurs tableaux et le CSV "
                           "(code administrateur ; 30 derniers jours par défaut, un an au plus)",
                "parameters": [
                    {"name": "since", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
                    {"name": "until", "in": "query", "required": False, "schema": {"type": "string", "format": "date"}},
                ],
                "responses": {"200": _json({"type": "object", "required": ["period", "blocks", "csv"]},
                                           "Graphiques et tableaux, sans donnée personnelle ni nom d'agent"),
                              **_ERRORS, "403": _json(_ERROR, "Réservé aux codes administrateur")},
            }},
        },
        "components": {
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
            "schemas": {
                "Error": {"type": "object", "required": ["error"], "properties": {"error": {
                    "type": "object", "required": ["code", "message"],
                    "properties": {"code": _STRING, "message": _STRING}}}},
                "Procedure": _PROCEDURE,
                "Answers": {"type": "object", "required": ["question", "method", "answers"], "properties": {
                    "question": _STRING,
                    "method": {"type": "string", "enum": ["nlu+keywords", "keywords"]},
                    "nlu_intent": {"type": "string", "nullable": True},
                    "threshold": {"type": "number", "description": "Confiance minimale d'une fiche montrée"},
                    "no_match": {"type": "string", "nullable": True,
                                 "description": "« Aucune fiche ne correspond à cette question. » si aucune fiche"},
                    "places": {"type": "object", "nullable": True,
                               "description": "Lieux d'aide près de la commune nommée dans la question (ou de la "
                                              "mairie, pour une question sur un lieu d'aide)"},
                    "answers": {"type": "array", "items": {"type": "object",
                                                           "required": ["confidence", "procedure"], "properties": {
                        "confidence": {"type": "number", "minimum": 0, "maximum": 1},
                        "nlu_confidence": {"type": "number", "nullable": True},
                        "keyword_confidence": {"type": "number"},
                        "lead": {"type": "object", "nullable": True,
                                 "description": "La réponse à la question elle-même, à montrer au-dessus de la fiche"},
                        "procedure": {"$ref": "#/components/schemas/Procedure"}}}},
                }},
                "Report": {"type": "object", "required": ["id", "procedure_id", "status"], "properties": {
                    "id": {"type": "integer"}, "procedure_id": _STRING, "status": _STRING, "created_at": _STRING}},
            },
        },
    }
