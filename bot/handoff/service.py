"""Ask for a person: check availability, queue the conversation, and say honestly what happens next."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.availability import CLOSED_HOURS, NOBODY, Availability, describe_opening
from bot.handoff.config import HandoffConfig, get_handoff_config
from bot.handoff.store import TooManyWaitingError
from bot.handoff.targets import HandoffTarget, HandoffTicket, QueuedHandoff
from bot.replies import CALLBACK_BUTTON, MENU_BUTTON, PHONE_HELP, PHONE_HELP_SMS, PLACES_BUTTON, Reply, is_sms
from bot.security import ratelimit

logger = logging.getLogger(__name__)

FAILED = "failed"
LIMITED = "limited"  # too many requests from this conversation or this address: not queued


@dataclass(frozen=True)
class HandoffOutcome:
    """Queued (the bot pauses) or not, and why."""

    availability: Availability
    queued: QueuedHandoff | None = None


def request_handoff(
    target: HandoffTarget | Callable[[], HandoffTarget], ticket: HandoffTicket, now: datetime | None = None
) -> HandoffOutcome:
    """Queue the conversation when someone can answer; never raises (the user must get an answer)."""
    try:
        if not isinstance(target, HandoffTarget):
            target = target()  # built here so that a database failure is caught too
        availability = target.availability(now)
        if not availability.can_queue:
            return HandoffOutcome(availability)
        if not within_request_limits(ticket):
            return HandoffOutcome(Availability(LIMITED))
        try:
            return HandoffOutcome(availability, target.enqueue(ticket))
        except TooManyWaitingError:
            logger.info("Handoff request refused: too many waiting from one address.")
            return HandoffOutcome(Availability(LIMITED))
    except (SQLAlchemyError, OSError, SyntaxError, ValueError) as exc:
        # No personal data here: only the kind of failure.
        logger.error("Handoff request not queued (%s).", type(exc).__name__)
        return HandoffOutcome(Availability(FAILED))


def within_request_limits(ticket: HandoffTicket, config: HandoffConfig | None = None) -> bool:
    """Per conversation and per address (when the channel told us one), counted across every process."""
    config = config or get_handoff_config()
    if not ratelimit.allow("handoff_conversation", ticket.sender_id, config.requests_per_conversation_per_hour, 3600):
        logger.info("Handoff request refused: too many from one conversation.")
        return False
    if ticket.client_key and not ratelimit.allow(
        "handoff_address", ticket.client_key, config.requests_per_address_per_hour, 3600
    ):
        logger.info("Handoff request refused: too many from one address.")
        return False
    return True


def queued_reply(queued: QueuedHandoff, channel: str | None, config: HandoffConfig | None = None) -> Reply:
    """What happens next once in the queue (no 'person' button: a person is coming)."""
    config = config or get_handoff_config()
    minutes = f"{config.wait_timeout_minutes:g}"
    position = f"Vous êtes n° {queued.position} dans la file d'attente." if queued.position else ""
    if is_sms(channel):
        return Reply(
            f"C'est noté : une personne va vous répondre par SMS. {position} "
            f"Vous pouvez écrire votre question en attendant. Sans réponse dans {minutes} min, je reviens vers vous."
        )
    here = "Gardez cette page ouverte. " if channel == "webchat" else ""
    return Reply(
        "D'accord, je préviens une personne de l'équipe. "
        f"{position}\n\nElle va vous répondre ici, dans cette conversation. {here}"
        "En attendant, vous pouvez écrire votre question : elle la lira.\n\n"
        f"Si personne ne répond dans les {minutes} minutes, je reviens vers vous."
    )


def unavailable_reply(
    availability: Availability, channel: str | None, now: datetime | None = None,
    config: HandoffConfig | None = None, nearby: str | None = None,
) -> Reply:
    """Nobody can answer now: say so, and give the other ways to get help."""
    config = config or get_handoff_config()
    if availability.state == CLOSED_HOURS:
        why = "Personne de l'équipe ne peut vous répondre en ce moment : nous sommes en dehors des horaires."
        if availability.next_opening is not None:
            local_now = (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(config.timezone))
            why += f" Nous répondons à nouveau {describe_opening(availability.next_opening, local_now)}."
    elif availability.state == NOBODY:
        why = "Toutes les personnes de l'équipe sont occupées ou absentes en ce moment, désolé."
    elif availability.state == LIMITED:
        why = ("Vous avez déjà demandé une personne plusieurs fois en peu de temps : je ne peux pas "
               "transmettre une nouvelle demande maintenant. Réessayez dans une heure, ou utilisez un autre moyen.")
    else:
        why = "Je n'arrive pas à joindre l'équipe pour le moment, désolé."
    place = "un espace France Services près de chez vous (accueil gratuit, avec ou sans rendez-vous)"
    if nearby:
        place += f".\n\n{nearby}"
    can_call_back = availability.state in (CLOSED_HOURS, NOBODY)
    if is_sms(channel):
        text = f"{why} Appelez {PHONE_HELP_SMS}."
        buttons = [CALLBACK_BUTTON, PLACES_BUTTON] if can_call_back else [PLACES_BUTTON]
        return Reply(text, buttons)
    options = ["- laisser votre numéro : une personne vous rappellera ;"] if can_call_back else []
    options += [f"- appeler {PHONE_HELP} ;", f"- aller dans {place}" + ("" if nearby else ".")]
    buttons = [CALLBACK_BUTTON, PLACES_BUTTON, MENU_BUTTON] if can_call_back else [PLACES_BUTTON, MENU_BUTTON]
    return Reply(f"{why}\n\nVous pouvez :\n" + "\n".join(options), buttons)
