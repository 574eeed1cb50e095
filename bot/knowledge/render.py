"""Render a procedure for a channel: full Markdown for the web, compact GSM-7 for SMS."""

from __future__ import annotations

from bot.knowledge.model import Procedure
from bot.replies import HUMAN_BUTTON, PLACES_BUTTON, Button, Reply, is_sms

PLACES_QUESTION = "Voulez-vous l'adresse d'un lieu pour vous aider ?"
PLACES_YES_BUTTON = Button("Oui, un lieu près de chez moi", "/find_help_nearby")


def _bullets(items: tuple[str, ...], numbered: bool = False) -> str:
    return "\n".join(f"{i}. {item}" if numbered else f"- {item}" for i, item in enumerate(items, 1))


def render_web(procedure: Procedure) -> list[Reply]:
    """The full answer in two messages, ending with the offer of a place and of a person."""
    first = f"**{procedure.title}**\n{procedure.summary}\n\n**Les étapes**\n{_bullets(procedure.steps, True)}"
    if procedure.documents:
        first += f"\n\n**À préparer**\n{_bullets(procedure.documents)}"
    links = "\n".join(f"- [{link.title}]({link.url})" for link in procedure.links)
    second = (
        f"**Coût** : {procedure.cost}\n**Délai** : {procedure.delay}\n\n**Site officiel**\n{links}\n\n"
        f"**Sans Internet** : {procedure.offline}\n\n"
        f"_Informations vérifiées le {procedure.checked:%d/%m/%Y}._\n\n{PLACES_QUESTION}"
    )
    return [Reply(first), Reply(second, [PLACES_YES_BUTTON, HUMAN_BUTTON])]


def render_sms(procedure: Procedure) -> list[Reply]:
    """The short GSM-7 text written for SMS; the channel turns buttons into a numbered menu."""
    return [Reply(procedure.sms, [PLACES_BUTTON, HUMAN_BUTTON])]


def render_for_channel(procedure: Procedure, channel: str | None) -> list[Reply]:
    """The procedure as the given input channel should show it."""
    return render_sms(procedure) if is_sms(channel) else render_web(procedure)
