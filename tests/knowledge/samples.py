"""A complete, valid procedure entry and a small contacts file, for tests that break one thing at a time; the shipped
procedures by id, for tests that name one."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from bot.knowledge import get_knowledge_base
from bot.knowledge.loader import Procedure

SP_URL = "https://www.service-public.gouv.fr/particuliers/vosdroits/F14929"

ENTRY: dict[str, Any] = {
    "id": "sample", "title": "Exemple", "theme": "papiers", "keywords": ["aa", "bb", "cc"],
    "summary": "Ceci sert à tester. Cela concerne les tests.", "steps": ["Faites ceci.", "Puis cela."],
    "documents": ["Une pièce d'identité."], "cost": "86 € pour un adulte.", "delay": "Quelques semaines.",
    "links": [{"title": "Service-Public – Passeport", "url": SP_URL}],
    "offline": "Allez à la mairie, ou appelez {contact:helpline}.", "where": ["mairie"],
    "sms": "Passeport: 86 EUR pour un adulte. Infos: service-public.gouv.fr/particuliers/vosdroits/F14929",
    "written": "2026-11-28", "review_by": "2027-05-28",
    "sources": [{
        "id": "sp-F14929", "url": SP_URL, "title": "Passeport d'un majeur : première demande",
        "publisher": "DILA (service-public.gouv.fr)", "seen": "2026-11-28", "version": "2025-07-31",
        "backs": ["steps", "documents", "cost", "delay", "offline"],
    }],
    "cases": [{
        "id": "minor", "title": "Pour un enfant", "when": ["mineur", "enfant", "fils", "fille"],
        "answer": "Pour un enfant de moins de 15 ans, le passeport coûte 17 €. De 15 à 17 ans, il coûte 42 €.",
        "sms": "Passeport enfant: 17 EUR avant 15 ans, 42 EUR de 15 a 17 ans. "
               "service-public.gouv.fr/particuliers/vosdroits/F14929",
        "sources": ["sp-F14929"],
    }],
}

CONTACTS: list[dict[str, Any]] = [
    {"id": "helpline", "name": "Allô Test", "phone": "39 39", "hours": "du lundi au vendredi de 9h à 17h",
     "url": "https://www.service-public.gouv.fr", "review_by": "2027-06-01",
     "sources": [{"id": "sp", "url": "https://www.service-public.gouv.fr", "title": "Allô Test",
                  "publisher": "DILA", "seen": "2026-11-28", "backs": ["phone", "hours"]}]},
    {"id": "nophone", "name": "Le guichet", "phone": None, "hours": None, "url": "https://www.guichet.gouv.fr/aide/",
     "review_by": "2027-06-01",
     "sources": [{"id": "g", "url": "https://www.guichet.gouv.fr", "title": "Guichet", "publisher": "Etat",
                  "seen": "2026-11-28", "backs": []}]},
]


def entry(**changes: Any) -> dict[str, Any]:
    """A deep copy of ENTRY with some fields replaced."""
    return {**copy.deepcopy(ENTRY), **changes}


def write_yaml(path: Path, data: object) -> Path:
    """Write YAML the way an editor would (unicode kept)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def shipped_procedure(procedure_id: str) -> Procedure:
    """The shipped procedure with this id: a test that names one fails plainly if it is gone."""
    procedure = get_knowledge_base().get(procedure_id)
    assert procedure is not None, f"no procedure {procedure_id!r} in data/knowledge"
    return procedure
