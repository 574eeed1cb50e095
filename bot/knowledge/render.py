"""Render a procedure for a channel: full Markdown for the web, compact GSM-7 for SMS.

Contact placeholders ({contact:ID}...) are expanded here, and the date line says "vérifiées" only for an
entry whose facts were checked against its sources.
"""

from __future__ import annotations

import dataclasses

from bot.gsm7 import to_gsm7
from bot.knowledge.cases import select_case
from bot.knowledge.contacts import expand, get_contacts, short_url
from bot.knowledge.model import Contact, Procedure
from bot.replies import HUMAN_BUTTON, PLACES_BUTTON, Button, Reply, is_sms

PLACES_QUESTION = "Voulez-vous l'adresse d'un lieu pour vous aider ?"
PLACES_YES_BUTTON = Button("Oui, un lieu près de chez moi", "/find_help_nearby")


def resolve(procedure: Procedure, contacts: dict[str, Contact] | None = None) -> Procedure:
    """The same procedure with every contact placeholder replaced by the contact's name, number and hours."""
    contacts = get_contacts() if contacts is None else contacts

    def web(text: str) -> str:
        return expand(text, contacts)

    return dataclasses.replace(
        procedure,
        summary=web(procedure.summary), steps=tuple(map(web, procedure.steps)),
        documents=tuple(map(web, procedure.documents)), cost=web(procedure.cost), delay=web(procedure.delay),
        offline=web(procedure.offline), sms=expand(procedure.sms, contacts, sms=True),
        cases=tuple(dataclasses.replace(case, answer=web(case.answer), sms=expand(case.sms, contacts, sms=True))
                    for case in procedure.cases),
    )


def date_note(procedure: Procedure) -> str:
    """'Vérifiées le …' only for a verified entry; otherwise when it was written and where to check it."""
    if procedure.verified is not None:
        return f"Informations vérifiées le {procedure.verified:%d/%m/%Y} sur les sites officiels cités."
    return (f"Informations rédigées le {procedure.written:%d/%m/%Y} à partir du site officiel : "
            f"vérifiez-les sur {short_url(procedure.main_link.url)}.")


def _bullets(items: tuple[str, ...], numbered: bool = False) -> str:
    return "\n".join(f"{i}. {item}" if numbered else f"- {item}" for i, item in enumerate(items, 1))


def render_web(procedure: Procedure, question: str | None = None,
               contacts: dict[str, Contact] | None = None) -> list[Reply]:
    """The sub-case asked about first, then the full sheet, ending with the offer of a place and of a person."""
    procedure = resolve(procedure, contacts)
    case = select_case(procedure, question)
    first = f"**{procedure.title}**\n"
    if case is not None:
        first += f"**{case.title}** : {case.answer}\n\n"
    first += f"{procedure.summary}\n\n**Les étapes**\n{_bullets(procedure.steps, True)}"
    if procedure.documents:
        first += f"\n\n**À préparer**\n{_bullets(procedure.documents)}"
    links = "\n".join(f"- [{link.title}]({link.url})" for link in procedure.links)
    second = (
        f"**Coût** : {procedure.cost}\n**Délai** : {procedure.delay}\n\n**Site officiel**\n{links}\n\n"
        f"**Sans Internet** : {procedure.offline}\n\n"
        f"_{date_note(procedure)}_\n\n{PLACES_QUESTION}"
    )
    return [Reply(first), Reply(second, [PLACES_YES_BUTTON, HUMAN_BUTTON])]


def sms_text(procedure: Procedure, question: str | None = None, contacts: dict[str, Contact] | None = None) -> str:
    """The GSM-7 text: the matching case's own SMS when it has one, else the entry's SMS."""
    procedure = resolve(procedure, contacts)
    case = select_case(procedure, question)
    if case is not None and case.sms:
        return case.sms
    return to_gsm7(procedure.sms)


def render_sms(procedure: Procedure, question: str | None = None,
               contacts: dict[str, Contact] | None = None) -> list[Reply]:
    """The short GSM-7 text written for SMS; the channel turns buttons into a numbered menu."""
    return [Reply(sms_text(procedure, question, contacts), [PLACES_BUTTON, HUMAN_BUTTON])]


def render_for_channel(procedure: Procedure, channel: str | None, question: str | None = None) -> list[Reply]:
    """The procedure as the given input channel should show it, the sub-case the question names first."""
    if is_sms(channel):
        return render_sms(procedure, question)
    return render_web(procedure, question)
