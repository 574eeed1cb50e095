"""Answer first: the two or three lines that answer what was asked, and the other parts of a procedure on demand.

Channel-neutral (Markdown-free) texts; bot/knowledge/render.py lays them out for the web and SMS, and the
secretariat puts `lead_for_secretariat` on top of the full sheet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from bot.knowledge.cases import select_case
from bot.knowledge.contacts import short_url
from bot.knowledge.model import Case, Procedure
from bot.knowledge.question import Question, read_question

# The parts a resident can open after the first lines, in the order they are offered.
PARTS: dict[str, str] = {
    "steps": "Voir les étapes",
    "documents": "Documents à apporter",
    "offline": "Sans Internet",
    "links": "Site officiel",
}
# Parts that answer one aspect only (asked in the question or by a follow-up such as « et le prix ? »).
DETAIL_PARTS = ("cost", "delay", "where")
ALL_PARTS = (*PARTS, *DETAIL_PARTS)

# The `where` codes of data/knowledge/README.md, as a sentence part.
WHERE_WORDS: dict[str, str] = {
    "mairie": "en mairie",
    "france_services": "dans un espace France Services",
    "prefecture": "en préfecture",
    "en_ligne": "en ligne",
    "caf": "à la Caf",
    "cpam": "à la CPAM (Assurance Maladie)",
    "impots": "au centre des finances publiques",
    "france_travail": "à France Travail",
    "mdph": "à la MDPH",
    "departement": "au Département du Nord",
    "mel": "à la Métropole Européenne de Lille",
    "poste": "à La Poste",
    "telephone": "par téléphone",
    "autre": "auprès d'un autre organisme",
}
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-ZÀ-Ý«])")


@dataclass(frozen=True)
class DirectAnswer:
    """The first lines of an answer: the text, the part it already shows (not offered again), the case used."""

    text: str
    shown: str | None
    case: Case | None
    items: tuple[str, ...] = ()  # the list the text introduces (documents or steps), when it shows one
    numbered: bool = False


def sentences(text: str, count: int) -> str:
    """The first `count` sentences of a text (the whole text when it is shorter)."""
    parts = _SENTENCE_END.split(" ".join(text.split()))
    return " ".join(parts[:count])


def where_text(procedure: Procedure) -> str:
    """Where the procedure is done, in one sentence, then its first step (which says which office)."""
    places = [WHERE_WORDS.get(code, code) for code in procedure.where]
    joined = places[0] if len(places) == 1 else ", ".join(places[:-1]) + " ou " + places[-1]
    first_step = procedure.steps[0] if procedure.steps else ""
    return f"Cette démarche se fait {joined}. {first_step}".strip()


def direct_answer(procedure: Procedure, question: Question, raw_question: str | None = None) -> DirectAnswer:
    """What was asked, first: the case's figure, the asked detail, or the two-sentence summary."""
    case = select_case(procedure, raw_question if raw_question is not None else question.text, question)
    aspect = question.aspect
    if aspect == "documents":
        if not procedure.documents:
            return DirectAnswer("Aucun document n'est demandé pour cette démarche.", "documents", case)
        return DirectAnswer("À apporter :", "documents", case, procedure.documents)
    if aspect == "offline":
        return DirectAnswer(procedure.offline, "offline", case)
    if case is not None:  # a case answers a price, a loss, a child... better than the general text
        return DirectAnswer(case.answer, None, case)
    if aspect == "cost":
        return DirectAnswer(sentences(procedure.cost, 3), "cost", None)
    if aspect == "delay":
        return DirectAnswer(_without_variable(sentences(procedure.delay, 3)), "delay", None)
    if aspect == "where":
        return DirectAnswer(where_text(procedure), "where", None)
    return DirectAnswer(procedure.summary, None, None)  # « comment faire » too: the steps are the first button


def date_note(procedure: Procedure) -> str:
    """'Vérifiées le …' only for a verified entry; otherwise when it was written and where to check it."""
    if procedure.verified is not None:
        return f"Informations vérifiées le {procedure.verified:%d/%m/%Y} sur les sites officiels cités."
    return (f"Informations rédigées le {procedure.written:%d/%m/%Y} à partir du site officiel : "
            f"vérifiez-les sur {short_url(procedure.main_link.url)}.")


def _without_variable(delay: str) -> str:
    """'Variable : le passeport…' reads as a label in a sheet; alone, the answer starts with the sentence."""
    rest = re.sub(r"^Variable\s*:\s*", "", delay)
    return rest[:1].upper() + rest[1:] if rest != delay else delay


def source_line(procedure: Procedure, linked: bool = False) -> str:
    """The official source named in one short line with the check date; the full warning for an unverified entry.

    With `linked`, the site's name is a Markdown link to the main official page (one tap away on the web).
    """
    if procedure.verified is None:
        return date_note(procedure)
    site = short_url(procedure.main_link.url).split("/")[0]
    if linked:
        site = f"[{site}]({procedure.main_link.url})"
    return f"Source : {site}, informations vérifiées le {procedure.verified:%d/%m/%Y}."


def parts_to_offer(procedure: Procedure, shown: str | None) -> list[str]:
    """The parts still worth a button once the first lines are shown."""
    return [part for part in PARTS if part != shown and (part != "documents" or procedure.documents)]


def lead_for_secretariat(procedure: Procedure, question: str | None) -> dict[str, Any]:
    """The answer to the secretary's question, to show above the full sheet (contacts expanded).

    `asked` names the detail found in the question (cost, delay, documents, where, offline, steps) or is None;
    `case` is the sub-case used (minor, lost...), and `text` the lines to show first, list items included.
    """
    from bot.knowledge.render import resolve  # the renderer imports this module

    told = read_question(question)
    procedure = resolve(procedure)
    answer = direct_answer(procedure, told, question)
    items = "\n".join(f"{i}. {item}" if answer.numbered else f"- {item}" for i, item in enumerate(answer.items, 1))
    return {
        "asked": told.aspect,
        "case": {"id": answer.case.id, "title": answer.case.title} if answer.case else None,
        "age": told.age,
        "lost_or_stolen": told.lost_or_stolen,
        "text": f"{answer.text}\n{items}" if items else answer.text,
    }
