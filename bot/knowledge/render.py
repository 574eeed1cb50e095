"""Render a procedure for a channel: the asked detail first, then one part per button (web) or per PLUS (SMS).

Contact placeholders ({contact:ID}...) are expanded here, and the date line says "vérifiées" only for an
entry whose facts were checked against its sources.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

from bot.gsm7 import MULTI_SEGMENT_SEPTETS, septets, to_gsm7
from bot.knowledge.answer import ALL_PARTS, PARTS, date_note, direct_answer, parts_to_offer, source_line, where_text
from bot.knowledge.contacts import expand, get_contacts, short_url
from bot.knowledge.model import Contact, Procedure
from bot.knowledge.question import Question, read_question
from bot.replies import HUMAN_BUTTON, PLACES_BUTTON, SMS_PAGE_BREAK, Button, Reply, is_sms

__all__ = ["date_note", "render_for_channel", "render_part_web", "render_sms", "render_web", "resolve"]

# Room for the answer in the first SMS of two segments, after "Répondez PLUS pour la suite" and the menu.
FIRST_SMS_SEPTETS = 2 * MULTI_SEGMENT_SEPTETS - 90
PART_ENTITY = "procedure_part"  # the entity a part button carries: /procedure_passport{"procedure_part":"steps"}
MAX_PAYLOAD_CHARS = 200

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


def _bullets(items: tuple[str, ...], numbered: bool = False) -> str:
    return "\n".join(f"{i}. {item}" if numbered else f"- {item}" for i, item in enumerate(items, 1))


def part_payload(procedure: Procedure, part: str) -> str:
    """The button payload that opens one part: the procedure's own intent, the part as an entity."""
    return f"/{procedure.intent}" + json.dumps({PART_ENTITY: part}, separators=(",", ":"))


def part_buttons(procedure: Procedure, shown: str | None) -> list[Button]:
    """One button per part not shown yet ("Voir les étapes", "Documents à apporter"...)."""
    return [Button(PARTS[part], part_payload(procedure, part)) for part in parts_to_offer(procedure, shown)]


def render_web(procedure: Procedure, question: str | None = None, contacts: dict[str, Contact] | None = None,
               told: Question | None = None) -> list[Reply]:
    """One short bubble answering what was asked, the official source named, the other parts as buttons."""
    procedure = resolve(procedure, contacts)
    told = told if told is not None else read_question(question)
    answer = direct_answer(procedure, told, question)
    text = f"**{procedure.title}**\n{answer.text}"
    if answer.items:
        text += "\n" + _bullets(answer.items, answer.numbered)
    text += f"\n_{source_line(procedure, linked=True)}_"
    return [Reply(text, part_buttons(procedure, answer.shown))]


def part_markdown(procedure: Procedure, part: str) -> str:
    """One part of a resolved procedure, short, as the web shows it."""
    if part == "steps":
        return f"**{procedure.title} : les étapes**\n{_bullets(procedure.steps, True)}\n\n**Délai** : {procedure.delay}"
    if part == "documents":
        listed = _bullets(procedure.documents) if procedure.documents else "Aucun document n'est demandé."
        return f"**{procedure.title} : documents à apporter**\n{listed}\n\n**Coût** : {procedure.cost}"
    if part == "offline":
        return f"**{procedure.title} sans Internet**\n{procedure.offline}\n\n{PLACES_QUESTION}"
    if part == "links":
        links = "\n".join(f"- [{link.title}]({link.url})" for link in procedure.links)
        return f"**{procedure.title} : site officiel**\n{links}\n\n_{date_note(procedure)}_"
    if part == "cost":
        return f"**{procedure.title} : coût**\n{procedure.cost}"
    if part == "delay":
        return f"**{procedure.title} : délai**\n{procedure.delay}"
    if part == "where":
        return f"**{procedure.title} : où faire la démarche**\n{where_text(procedure)}"
    raise ValueError(f"unknown part {part!r}")


def render_part_web(procedure: Procedure, part: str, contacts: dict[str, Contact] | None = None) -> list[Reply]:
    """The part asked by a button or a follow-up, with the parts still to see as buttons."""
    procedure = resolve(procedure, contacts)
    buttons = part_buttons(procedure, part)
    if part == "offline":
        buttons.insert(0, PLACES_YES_BUTTON)
    return [Reply(part_markdown(procedure, part), buttons)]


def _without_link(text: str, procedure: Procedure) -> str:
    """An SMS text without its closing main link (it comes once, on the last page) nor the 'Infos:' before it;
    a link inside a sentence stays."""
    link = short_url(procedure.main_link.url).removeprefix("www.")
    pattern = re.compile(r"\s*(?:Infos?\s?:\s*)?(?:https?://)?(?:www\.)?" + re.escape(link) + r"\S*\s*$")
    lines = (" ".join(line.split()) for line in pattern.sub("", text).splitlines())
    return "\n".join(line for line in lines if line)


def _fit_sentences(text: str, capacity: int) -> tuple[str, str]:
    """The sentences (or lines) that fit `capacity` septets, and the rest; line breaks are kept."""
    if septets(text) <= capacity:
        return text, ""
    pieces = re.split(r"((?<=[.!?:])[ \t]+|\n)", text)  # text, separator, text, separator...
    end = 0
    for index in range(0, len(pieces), 2):
        if septets("".join(pieces[: index + 1])) > capacity:
            break
        end = index + 1
    if end == 0:
        return text, ""  # one sentence longer than the page: the SMS channel cuts it
    return "".join(pieces[:end]).rstrip(), "".join(pieces[end + 1:]).lstrip()


def _sms_part(procedure: Procedure, part: str) -> str:
    """One part as plain GSM-7 text (the SMS channel pages it)."""
    if part == "documents":
        listed = "\n".join(f"- {item}" for item in procedure.documents) or "Aucun document n'est demandé."
        text = f"A apporter:\n{listed}"
    elif part == "steps":
        text = f"Étapes:\n{_bullets(procedure.steps, True)}\nDélai: {procedure.delay}"
    elif part == "offline":
        text = f"Sans Internet: {procedure.offline}\nInfos: {short_url(procedure.main_link.url)}"
    elif part == "links":
        text = f"Infos: {short_url(procedure.main_link.url)}\n{date_note(procedure)}"
    else:
        text = f"{procedure.title}: " + part_markdown(procedure, part).split("\n", 1)[1]
    return to_gsm7(text)


def sms_text(procedure: Procedure, question: str | None = None, contacts: dict[str, Contact] | None = None,
             told: Question | None = None) -> str:
    """The GSM-7 answer: the matching case's SMS, the asked detail, or the entry's SMS (main link kept)."""
    procedure = resolve(procedure, contacts)
    told = told if told is not None else read_question(question)
    answer = direct_answer(procedure, told, question)
    if answer.case is not None and answer.case.sms and answer.shown is None:
        return to_gsm7(answer.case.sms)
    if answer.shown is None and answer.case is None:
        return to_gsm7(procedure.sms)
    text = f"{procedure.title}: {answer.text}"
    if answer.items:
        text += "\n" + _bullets(answer.items, answer.numbered)
    return to_gsm7(text)


def render_sms(procedure: Procedure, question: str | None = None, contacts: dict[str, Contact] | None = None,
               told: Question | None = None) -> list[Reply]:
    """The answer in the first SMS; PLUS then gives the documents, then the way without Internet and the link."""
    resolved = resolve(procedure, contacts)
    told = told if told is not None else read_question(question)
    shown = direct_answer(resolved, told, question).shown
    first, rest = _fit_sentences(_without_link(sms_text(resolved, question, {}, told), resolved), FIRST_SMS_SEPTETS)
    parts = [first]
    if shown != "documents" and resolved.documents:
        parts.append(_sms_part(resolved, "documents"))
    if shown != "offline":
        parts.append(_sms_part(resolved, "offline"))
    if rest:  # what did not fit the first SMS opens the next one, rather than a short page of its own
        if len(parts) > 1:
            parts[1] = f"{rest}\n{parts[1]}"
        else:
            parts.append(rest)
    if shown == "offline":
        parts[-1] += "\n" + to_gsm7(f"Infos: {short_url(resolved.main_link.url)}")
    return [Reply(SMS_PAGE_BREAK.join(parts), [PLACES_BUTTON, HUMAN_BUTTON])]


def render_part_sms(procedure: Procedure, part: str, contacts: dict[str, Contact] | None = None) -> list[Reply]:
    """One part asked by SMS (a follow-up such as « et les documents ? »)."""
    return [Reply(_sms_part(resolve(procedure, contacts), part), [PLACES_BUTTON, HUMAN_BUTTON])]


def render_for_channel(procedure: Procedure, channel: str | None, question: str | None = None,
                       told: Question | None = None, part: str | None = None) -> list[Reply]:
    """The procedure as the given input channel should show it: one part, or the asked detail first."""
    if part is not None:
        return render_part_sms(procedure, part) if is_sms(channel) else render_part_web(procedure, part)
    if is_sms(channel):
        return render_sms(procedure, question, told=told)
    return render_web(procedure, question, told=told)


def requested_part(message: dict[str, Any]) -> str | None:
    """The part a button asked for: the `procedure_part` entity, or read from the payload itself.

    The payload is read too because a model trained before the entity existed drops unknown entities.
    """
    for entity in message.get("entities") or []:
        if entity.get("entity") == PART_ENTITY and entity.get("value") in ALL_PARTS:
            return str(entity["value"])
    text = (message.get("text") or "")[:MAX_PAYLOAD_CHARS]
    if text.startswith("/procedure_") and "{" in text:
        try:
            value = json.loads(text[text.index("{"):]).get(PART_ENTITY)
        except (ValueError, AttributeError):
            return None
        return value if value in ALL_PARTS else None
    return None
