"""Ask for a person (pause the bot and queue the conversation) and, when nobody can answer, offer a callback."""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.callbacks import CallbackBook, InvalidPhoneNumberError, masked
from bot.handoff.service import queued_reply, request_handoff, unavailable_reply
from bot.handoff.targets import HandoffTicket, get_target
from bot.handoff.transcript import topic_from_events, transcript_from_events
from bot.replies import HUMAN_BUTTON, MENU_BUTTON, SOLIDARITE_NUMERIQUE, Button, Reply, is_sms
from bot.settings import get_settings

CANCEL_WORDS = re.compile(r"^\s*(annuler|annule|stop|non|laisse[zr]? tomber|rien)\b", re.IGNORECASE)
STORED_PREFIX = "••"
logger = logging.getLogger(__name__)


def handoff_ticket(tracker: Tracker) -> HandoffTicket:
    """What the agent needs: transcript, channel, commune and topic."""
    return HandoffTicket(
        sender_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "rest",
        transcript=transcript_from_events(tracker.events),
        commune=tracker.get_slot("commune"),
        topic=topic_from_events(tracker.events, tracker.get_slot("last_procedure")),
    )


def nearest_place_sentence(commune: str | None) -> str | None:
    """The nearest France Services with today's hours (bot.places), when the commune is known."""
    if not commune:
        return None
    try:
        from bot.places.render import france_services_sentence

        return france_services_sentence(commune)
    except Exception as exc:  # the places finder is optional here: never block the honest answer
        logger.warning("Nearest France Services unavailable (%s).", type(exc).__name__)
        return None


def start_handoff(dispatcher: CollectingDispatcher, tracker: Tracker, intro: str | None = None) -> list[EventType]:
    """Queue the conversation and pause the bot, or say honestly that nobody can answer now."""
    ticket = handoff_ticket(tracker)
    outcome = request_handoff(get_target, ticket)
    if outcome.queued is not None:
        reply = queued_reply(outcome.queued, ticket.channel)
    else:
        # Still offers "Parler à une personne" (team rule): pressing it asks again, someone may be back.
        reply = unavailable_reply(
            outcome.availability, ticket.channel, nearby=nearest_place_sentence(ticket.commune)
        ).with_human_offer()
    if intro:
        reply = Reply(f"{intro}\n\n{reply.text}", reply.buttons, reply.custom)
    dispatcher.utter_message(**reply.as_dispatch_kwargs())
    if outcome.queued is None:
        return []
    if ticket.channel == "rest" and outcome.queued.outbox_key:
        # The REST channel cannot push: the client reads the agent's messages at this address.
        url = (f"{get_settings().web_url}/api/handoff/{quote(ticket.sender_id, safe='')}/messages"
               f"?key={quote(outcome.queued.outbox_key, safe='')}")
        dispatcher.utter_message(json_message={"handoff": {"status": "waiting", "messages_url": url,
                                                           "poll_seconds": 2}})
    return [ConversationPaused()]


class ActionRequestHuman(Action):
    """« Je veux parler à quelqu'un », the button, « 0 » by SMS."""

    def name(self) -> str:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return start_handoff(dispatcher, tracker)


class ValidateCallbackForm(FormValidationAction):
    """Consent first, then a French phone number stored at once (the slot only keeps a masked copy)."""

    def name(self) -> str:
        return "validate_callback_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot("callback_consent") is False:
            return ["callback_consent"]  # refused: nothing more to ask
        return ["callback_consent", "callback_phone"]

    async def extract_callback_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Read the number from the text; store it right away so it never sits in a slot."""
        if tracker.get_slot("requested_slot") != "callback_phone" or tracker.get_slot("callback_consent") is not True:
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        if CANCEL_WORDS.match(text):
            return {"callback_consent": False, "callback_phone": None}
        try:
            callback = CallbackBook().add(
                text, tracker.get_latest_input_channel(), tracker.get_slot("commune"),
                topic_from_events(tracker.events, tracker.get_slot("last_procedure")),
            )
        except InvalidPhoneNumberError:
            dispatcher.utter_message(
                text="Ce numéro ne semble pas valide. Écrivez un numéro français à 10 chiffres, "
                     "par exemple 06 12 34 56 78. Pour arrêter, écrivez « annuler »."
            )
            return {"callback_phone": None}
        except SQLAlchemyError as exc:
            logger.error("Callback not stored (%s).", type(exc).__name__)
            dispatcher.utter_message(
                text=f"Je n'arrive pas à enregistrer votre demande, désolé. Vous pouvez appeler {SOLIDARITE_NUMERIQUE}."
            )
            return {"callback_consent": False, "callback_phone": None}
        return {"callback_phone": masked(callback.phone)}

    async def validate_callback_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return {"callback_consent": value if isinstance(value, bool) else None}


CONSENT_QUESTION = Reply(
    "Pour vous rappeler, nous avons besoin de votre numéro de téléphone. Il servira seulement pour ce rappel, "
    "puis il sera effacé. Êtes-vous d'accord ?",
    [Button("Oui, je donne mon numéro", "/affirm"), Button("Non merci", "/deny"), HUMAN_BUTTON],
)
PHONE_QUESTION = Reply(
    "Quel numéro pouvons-nous appeler ? Par exemple : 06 12 34 56 78. Pour arrêter, écrivez « annuler ».",
    [HUMAN_BUTTON],
)


class ActionAskCallbackConsent(Action):
    """Ask before taking a number (what it is for, when it is deleted)."""

    def name(self) -> str:
        return "action_ask_callback_consent"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(**CONSENT_QUESTION.as_dispatch_kwargs())
        return []


class ActionAskCallbackPhone(Action):
    """Ask for the number to call."""

    def name(self) -> str:
        return "action_ask_callback_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(**PHONE_QUESTION.as_dispatch_kwargs())
        return []


class ActionSubmitCallback(Action):
    """Confirm the callback (or that nothing was kept)."""

    def name(self) -> str:
        return "action_submit_callback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        phone = tracker.get_slot("callback_phone")
        if tracker.get_slot("callback_consent") is True and isinstance(phone, str) and phone.startswith(STORED_PREFIX):
            text = (
                f"C'est noté. Une personne vous appellera au {phone} pendant les horaires d'ouverture. "
                "Votre numéro sera effacé après l'appel."
            )
        else:
            text = f"D'accord, je n'ai pas gardé de numéro. Vous pouvez appeler {SOLIDARITE_NUMERIQUE}."
        reply = Reply(text, [] if is_sms(tracker.get_latest_input_channel()) else [MENU_BUTTON])
        dispatcher.utter_message(**reply.with_human_offer().as_dispatch_kwargs())
        return [SlotSet("callback_consent", None), SlotSet("callback_phone", None)]
