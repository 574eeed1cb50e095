"""JSON schemas of a procedure entry and of a contact (data/knowledge/README.md explains each field)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jsonschema

PLACES = [
    "mairie", "france_services", "prefecture", "en_ligne", "caf", "cpam", "impots", "france_travail",
    "mdph", "departement", "mel", "poste", "telephone", "autre",
]

# Fields that state facts a resident acts on: each must be backed by at least one source.
FACT_FIELDS = ("steps", "documents", "cost", "delay", "offline")
# Tags a source may also carry (optional, not required to be backed).
SOURCE_TAGS = (*FACT_FIELDS, "where", "eligibility")
# What a contact's source may back.
CONTACT_FIELDS = ("phone", "hours", "address")

_TEXT = {"type": "string", "minLength": 2}
SMS_MAX_CHARS = 300  # as sent, placeholders expanded (checked by bot.knowledge.check)
# The raw text may hold placeholders ({phone:allo_service_public} is longer than its number): a looser bound here.
_SMS_RAW = {"type": "string", "minLength": 20, "maxLength": SMS_MAX_CHARS + 80}
_DATE = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
_URL = {"type": "string", "pattern": r"^https://[a-z0-9.-]+\.[a-z]{2,}(/\S*)?$"}
_SOURCE_ID = {"type": "string", "pattern": "^[a-zA-Z0-9][a-zA-Z0-9-]*$", "maxLength": 60}


def _source_schema(backs: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "url", "title", "publisher", "seen", "backs"],
        "properties": {
            "id": _SOURCE_ID,
            "url": _URL,
            "title": _TEXT,
            "publisher": _TEXT,
            "seen": _DATE,
            "version": _DATE,
            "backs": {"type": "array", "items": {"enum": list(backs)}, "uniqueItems": True},
            "review_by": _DATE,
            "note": _TEXT,
        },
    }


SOURCE_SCHEMA = _source_schema(SOURCE_TAGS)

CASE_SITUATIONS = ("lost", "stolen", "minor", "adult")

CASE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "title", "when", "answer", "sources"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "title": _TEXT,
        "when": {"type": "array", "items": _TEXT, "minItems": 1},
        "answer": {"type": "string", "minLength": 20, "maxLength": 500},
        "sms": _SMS_RAW,
        "sources": {"type": "array", "items": _SOURCE_ID, "minItems": 1},
        # Ages the case is for, both included ([0, 14]): a question giving an age picks the case covering it.
        "ages": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 130},
                 "minItems": 2, "maxItems": 2},
        # Facts that, once told (now or earlier in the conversation), point to this case.
        "situations": {"type": "array", "items": {"enum": list(CASE_SITUATIONS)}, "minItems": 1, "uniqueItems": True},
    },
}

PROCEDURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id", "title", "theme", "keywords", "summary", "steps", "documents", "cost", "delay",
        "links", "offline", "where", "sms", "written", "review_by", "sources",
    ],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "title": {"type": "string", "minLength": 3, "maxLength": 80},
        "theme": {"type": "string", "pattern": "^[a-z_]+$"},
        "keywords": {"type": "array", "items": _TEXT, "minItems": 3},
        "summary": {"type": "string", "minLength": 20, "maxLength": 400},
        "steps": {"type": "array", "items": _TEXT, "minItems": 2, "maxItems": 8},
        "documents": {"type": "array", "items": _TEXT},
        "cost": _TEXT,
        "delay": _TEXT,
        "links": {
            "type": "array",
            "minItems": 1,
            "maxItems": 3,
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["title", "url"],
                "properties": {"title": _TEXT, "url": _URL},
            },
        },
        "offline": {"type": "string", "minLength": 20},
        "where": {"type": "array", "items": {"enum": PLACES}, "minItems": 1, "uniqueItems": True},
        "sms": _SMS_RAW,
        "written": _DATE,
        "verified": _DATE,
        "review_by": _DATE,
        "sources": {"type": "array", "items": SOURCE_SCHEMA, "minItems": 1},
        "cases": {"type": "array", "items": CASE_SCHEMA},
    },
}

CONTACT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["id", "name", "phone", "hours", "url", "sources", "review_by"],
    "properties": {
        "id": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
        "name": _TEXT,
        "phone": {"anyOf": [{"type": "null"}, {"type": "string", "pattern": r"^[0-9][0-9 ]{2,16}[0-9]$"}]},
        "hours": {"anyOf": [{"type": "null"}, _TEXT]},
        "address": {"anyOf": [{"type": "null"}, _TEXT]},
        "email": {"type": "string", "pattern": r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$"},
        "url": _URL,
        "note": _TEXT,
        "unconfirmed": {"type": "boolean"},
        "verified": _DATE,
        "review_by": _DATE,
        "sources": {"type": "array", "items": _source_schema(CONTACT_FIELDS), "minItems": 1},
    },
}


def schema_problems(validator: jsonschema.Draft7Validator, entry: Any) -> list[str]:
    """Every way an entry breaks a schema, each with where it is ("steps/2: ...")."""
    return [f"{'/'.join(map(str, e.path)) or '(entry)'}: {e.message}" for e in validator.iter_errors(entry)]


def sound_entries(file_name: str, entries: list[Any], problems_of: Callable[[Any], list[str]],
                  errors: list[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    """The entries of a list file that have no problem, each with its label; the others' problems go to errors."""
    for index, entry in enumerate(entries):
        label = f"{file_name}[{index}] {entry.get('id', '?') if isinstance(entry, dict) else ''}"
        problems = problems_of(entry)
        if problems:
            errors.extend(f"{label}: {problem}" for problem in problems)
        else:
            yield label, entry
