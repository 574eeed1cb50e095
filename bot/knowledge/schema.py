"""JSON schema of a procedure entry (data/knowledge/README.md explains each field)."""

from __future__ import annotations

from typing import Any

PLACES = [
    "mairie", "france_services", "prefecture", "en_ligne", "caf", "cpam", "impots", "france_travail",
    "mdph", "departement", "mel", "poste", "telephone", "autre",
]

_TEXT = {"type": "string", "minLength": 2}

PROCEDURE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": [
        "id", "title", "theme", "keywords", "summary", "steps", "documents", "cost", "delay",
        "links", "offline", "where", "sms", "checked",
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
                "properties": {
                    "title": _TEXT,
                    "url": {"type": "string", "pattern": r"^https://[a-z0-9.-]+\.[a-z]{2,}(/\S*)?$"},
                },
            },
        },
        "offline": {"type": "string", "minLength": 20},
        "where": {"type": "array", "items": {"enum": PLACES}, "minItems": 1, "uniqueItems": True},
        "sms": {"type": "string", "minLength": 20, "maxLength": 300},
        "checked": {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"},
    },
}
