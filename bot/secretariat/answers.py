"""The secretariat view of a procedure: every field, its review date and its sources, as JSON-ready data."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from bot.knowledge.model import Procedure
from bot.knowledge.render import date_note, resolve
from bot.secretariat.ranking import RankedProcedure

logger = logging.getLogger(__name__)

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


def source_label(procedure: Procedure) -> str:
    """The source as a reader names it: 'Fiche Numécrivain « Passeport », d'après DILA (service-public.gouv.fr)'."""
    publishers = list(dict.fromkeys(source.publisher for source in procedure.sources if source.publisher))
    if len(publishers) > 2:
        after = f"{publishers[0]}, {publishers[1]} et d'autres sources officielles"
    else:
        after = " et ".join(publishers)
    return f"Fiche Numécrivain « {procedure.title} »" + (f", d'après {after}" if after else "")


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
            "label": source_label(procedure),
            "knowledge_file": f"data/knowledge/procedures/{procedure.source_file}",
            "licence": LICENCE,
        },
    }


def question_lead(procedure: Procedure, question: str | None) -> dict[str, Any] | None:
    """The answer to the question itself (price for the age, what to do after a loss...), shown above the sheet."""
    if not question:
        return None
    try:
        from bot.knowledge.answer import lead_for_secretariat

        return lead_for_secretariat(resolve(procedure), question)
    except Exception:  # an optional summary must never cost the secretary the full sheet
        logger.exception("answer-first summary failed for %s; the full sheet is shown alone", procedure.id)
        return None


def answer_document(ranked: RankedProcedure, today: date | None = None, question: str | None = None) -> dict[str, Any]:
    """One ranked answer: the confidence figures, the answer to the question, then the full procedure."""
    return {
        "confidence": ranked.confidence,
        "nlu_confidence": ranked.nlu_confidence,
        "keyword_confidence": ranked.keyword_confidence,
        "lead": question_lead(ranked.procedure, question),
        "procedure": procedure_document(ranked.procedure, today),
    }
