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

from bot.handoff.callbacks import (
    Callback,
    CallbackBook,
    InvalidPhoneNumberError,
    masked,
    normalise_french_phone,
)
from bot.handoff.phone_checks import CodeLimitError, PhoneChecks, send_code_sms
from bot.handoff.service import queued_reply, request_handoff, unavailable_reply
from bot.handoff.targets import HandoffTicket, get_target
from bot.handoff.transcript import topic_from_events, transcript_from_events
from bot.replies import HUMAN_BUTTON, MENU_BUTTON, Button, Reply, call_phone_help, is_sms
from bot.security.ratelimit import CLIENT_METADATA_KEY
from bot.settings import get_settings

CANCEL_WORDS = re.compile(r"^\s*(annuler|annule|stop|non|laisse[zr]? tomber|rien)\b", re.IGNORECASE)
STORED_PREFIX = "••"
CLIENT_KEY_PATTERN = re.compile(r"c-[0-9a-f]{32}")
CODE_PATTERN = re.compile(r"\s*\d{6}\s*")
# Said by the form's validation. When the form stops, action_submit_callback then gives the phone line and the
# choice of a person; otherwise the form asks again (with that choice).
INVALID_NUMBER = ("Ce numéro ne semble pas valide. Écrivez un numéro français à 10 chiffres, "
                  "par exemple 06 12 34 56 78. Pour arrêter, écrivez « annuler ».")
TOO_MANY_CODES = ("J'ai déjà envoyé plusieurs codes : je ne peux pas en envoyer un autre maintenant. "
                  "Votre demande de rappel n'est pas enregistrée.")
NO_CODE_SMS = ("Je n'arrive pas à envoyer de SMS pour vérifier ce numéro, désolé. "
               "Votre demande de rappel n'est pas enregistrée.")
NOT_STORED = "Je n'arrive pas à enregistrer votre demande de rappel, désolé."
NUMBER_NOT_FOUND = "Je ne retrouve pas votre numéro, désolé. Votre demande de rappel n'est pas enregistrée."
logger = logging.getLogger(__name__)


def client_key(tracker: Tracker) -> str | None:
    """The keyed hash of the asking address, as the channel stamped it server-side (never the address)."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    value = metadata.get(CLIENT_METADATA_KEY) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) and CLIENT_KEY_PATTERN.fullmatch(value) else None


def handoff_ticket(tracker: Tracker) -> HandoffTicket:
    """What the agent needs: transcript, channel, commune and topic; and the address key for the limits."""
    return HandoffTicket(
        sender_id=tracker.sender_id,
        channel=tracker.get_latest_input_channel() or "rest",
        transcript=transcript_from_events(tracker.events),
        commune=tracker.get_slot("commune"),
        topic=topic_from_events(tracker.events, tracker.get_slot("last_procedure")),
        client_key=client_key(tracker),
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
        """A typed number is only kept once the code sent to it by SMS comes back: nobody can have the agents
        call a stranger. The number never sits in a slot (only a masked copy, once confirmed)."""
        if tracker.get_slot("requested_slot") != "callback_phone" or tracker.get_slot("callback_consent") is not True:
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        try:
            checks = PhoneChecks()
            if CANCEL_WORDS.match(text):
                checks.cancel(tracker.sender_id)
                return {"callback_consent": False, "callback_phone": None}
            if checks.pending(tracker.sender_id) is not None and CODE_PATTERN.fullmatch(text):
                return self._confirm_code(dispatcher, tracker, checks, text)
            try:
                phone = normalise_french_phone(text)
            except InvalidPhoneNumberError:
                dispatcher.utter_message(text=INVALID_NUMBER)
                return {"callback_phone": None}
            try:
                code = checks.start(tracker.sender_id, phone)
            except CodeLimitError:
                dispatcher.utter_message(text=TOO_MANY_CODES)
                return {"callback_consent": False, "callback_phone": None}
            if not await send_code_sms(phone, code):
                checks.cancel(tracker.sender_id)
                dispatcher.utter_message(text=NO_CODE_SMS)
                return {"callback_consent": False, "callback_phone": None}
        except SQLAlchemyError as exc:
            logger.error("Callback not stored (%s).", type(exc).__name__)
            dispatcher.utter_message(text=NOT_STORED)
            return {"callback_consent": False, "callback_phone": None}
        return {"callback_phone": None}  # action_ask_callback_phone now asks for the code

    def _confirm_code(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, checks: PhoneChecks, code: str
    ) -> dict[str, Any]:
        phone = checks.confirm(tracker.sender_id, code)
        if phone is None:
            still_pending = checks.pending(tracker.sender_id) is not None
            dispatcher.utter_message(
                text="Ce code ne correspond pas." + ("" if still_pending else
                                                     " Écrivez à nouveau votre numéro pour recevoir un autre code.")
            )
            return {"callback_phone": None}
        return {"callback_phone": masked(self._store(tracker, phone).phone)}

    @staticmethod
    def _store(tracker: Tracker, phone: str) -> Callback:
        return CallbackBook().add(
            phone, tracker.get_latest_input_channel(), tracker.get_slot("commune"),
            topic_from_events(tracker.events, tracker.get_slot("last_procedure")),
        )

    async def validate_callback_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """By SMS, yes means « call me on this number »: nothing to type, nobody else can be named."""
        consent = value if isinstance(value, bool) else None
        if consent is not True or not is_sms(tracker.get_latest_input_channel()):
            return {"callback_consent": consent}
        try:
            phone = sms_sender_number(tracker.sender_id)
            if phone is None:
                dispatcher.utter_message(text=NUMBER_NOT_FOUND)
                return {"callback_consent": False, "callback_phone": None}
            return {"callback_consent": True, "callback_phone": masked(self._store(tracker, phone).phone)}
        except (SQLAlchemyError, InvalidPhoneNumberError) as exc:
            logger.error("Callback not stored (%s).", type(exc).__name__)
            dispatcher.utter_message(text=NOT_STORED)
            return {"callback_consent": False, "callback_phone": None}


def sms_sender_number(sender_id: str) -> str | None:
    """The number an SMS conversation comes from (kept by the SMS channel to reply), or None."""
    from bot.channels.sms.store import SmsStore

    contact = SmsStore().get_contact(sender_id)
    return contact.phone if contact is not None and contact.phone else None


SMS_CONSENT_QUESTION = Reply(
    "Voulez-vous être rappelé(e) au numéro qui nous écrit ? Il servira seulement pour ce rappel, "
    "puis il sera effacé.",
    [Button("Oui, rappelez-moi", "/affirm"), Button("Non merci", "/deny"), HUMAN_BUTTON],
)
CODE_QUESTION = (
    "Je viens d'envoyer un code à 6 chiffres par SMS au {masked}. Écrivez ce code ici : il prouve que ce numéro "
    "est bien le vôtre. Pour changer de numéro, écrivez le nouveau. Pour arrêter, écrivez « annuler »."
)
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
        sms = is_sms(tracker.get_latest_input_channel())
        dispatcher.utter_message(**(SMS_CONSENT_QUESTION if sms else CONSENT_QUESTION).as_dispatch_kwargs())
        return []


class ActionAskCallbackPhone(Action):
    """Ask for the number to call."""

    def name(self) -> str:
        return "action_ask_callback_phone"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        try:
            pending = PhoneChecks().pending(tracker.sender_id)
        except SQLAlchemyError:
            pending = None
        if pending is not None:
            dispatcher.utter_message(**Reply(CODE_QUESTION.format(masked=masked(pending.phone)),
                                             [HUMAN_BUTTON]).as_dispatch_kwargs())
        else:
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
        sms = is_sms(tracker.get_latest_input_channel())
        if tracker.get_slot("callback_consent") is True and isinstance(phone, str) and phone.startswith(STORED_PREFIX):
            text = (
                f"C'est noté. Une personne vous appellera au {phone} pendant les horaires d'ouverture. "
                "Votre numéro sera effacé après l'appel."
            )
        else:
            text = f"Je n'ai gardé aucun numéro. {call_phone_help(sms)}"
        reply = Reply(text, [] if sms else [MENU_BUTTON])
        dispatcher.utter_message(**reply.with_human_offer().as_dispatch_kwargs())
        return [SlotSet("callback_consent", None), SlotSet("callback_phone", None)]
