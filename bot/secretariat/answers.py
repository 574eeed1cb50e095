"""The secretariat view of a procedure: every field, its review date and its sources, as JSON-ready data."""

from __future__ import annotations

from datetime import date
from typing import Any

from bot.knowledge.model import Procedure
from bot.knowledge.render import date_note, resolve
from bot.secretariat.ranking import RankedProcedure

LICENCE = "Licence Ouverte / Etalab 2.0"

# The `where` codes of data/knowledge/README.md, in words for the counter.
PLACE_LABELS = {
    "mairie": "Mairie",
    "france_services": "Espace France Services",
    "prefecture": "Préfecture",
    "en_ligne": "En ligne",
    "caf": "CAF",
    "cpam": "CPAM (Assurance Maladie)",
    "impots": "Centre des finances publiques",
    "france_travail": "France Travail",
    "mdph": "MDPH",
    "departement": "Département du Nord",
    "mel": "Métropole Européenne de Lille",
    "poste": "La Poste",
    "telephone": "Par téléphone",
    "autre": "Autre organisme",
}


def procedure_document(procedure: Procedure, today: date | None = None) -> dict[str, Any]:
    """Everything a secretary needs to answer at the counter, with the date it was checked and its sources."""
    today = today or date.today()
    procedure = resolve(procedure)  # contact placeholders -> names, numbers and hours from contacts.yml
    return {
        "id": procedure.id,
        "title": procedure.title,
        "theme": procedure.theme,
        "summary": procedure.summary,
        "steps": list(procedure.steps),
        "documents": list(procedure.documents),
        "cost": procedure.cost,
        "delay": procedure.delay,
        "links": [{"title": link.title, "url": link.url} for link in procedure.links],
        "offline": procedure.offline,
        "where": [{"code": code, "label": PLACE_LABELS.get(code, code)} for code in procedure.where],
        "sms": procedure.sms,
        "checked": (procedure.verified or procedure.written).isoformat(),
        "written": procedure.written.isoformat(),
        "verified": procedure.verified.isoformat() if procedure.verified else None,
        "review_by": procedure.next_review.isoformat(),
        "date_note": date_note(procedure),
        "review_overdue": today > procedure.next_review,
        "sources": {
            "official": [link.url for link in procedure.links],
            "cited": [{"title": s.title, "url": s.url, "seen": s.seen.isoformat(), "backs": list(s.backs)}
                      for s in procedure.sources],
            "knowledge_file": f"data/knowledge/procedures/{procedure.source_file}",
            "licence": LICENCE,
        },
    }


def answer_document(ranked: RankedProcedure, today: date | None = None) -> dict[str, Any]:
    """One ranked answer: the confidence figures, then the full procedure."""
    return {
        "confidence": ranked.confidence,
        "nlu_confidence": ranked.nlu_confidence,
        "keyword_confidence": ranked.keyword_confidence,
        "procedure": procedure_document(ranked.procedure, today),
    }
