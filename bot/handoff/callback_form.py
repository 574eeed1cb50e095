"""The callback form's decisions: what an answer is (cancel, code, number), what is stored, what the person reads.

A typed number is kept only once the code sent to it by SMS comes back (nobody can have the agents call a
stranger); by SMS, yes means « call me on this number ». The number never sits in a slot: only a masked copy,
and `stored`, said explicitly. The database is written in the form's validation step, never while a slot is
extracted; the coroutines here run every blocking call off the event loop.
"""

from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass

from sqlalchemy.exc import SQLAlchemyError

from bot.handoff.callbacks import CallbackBook, InvalidPhoneNumberError, masked, normalise_french_phone
from bot.handoff.phone_checks import CodeLimitError, PhoneChecks, send_code_sms
from bot.replies import HUMAN_BUTTON, MENU_BUTTON, Button, Reply, call_phone_help, is_sms

logger = logging.getLogger(__name__)

CANCEL_WORDS = re.compile(r"^\s*(annuler|annule|stop|non|laisse[zr]? tomber|rien)\b", re.IGNORECASE)
CODE_PATTERN = re.compile(r"\s*\d{6}\s*")
PHONE_SLOT = "callback_phone"

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
WRONG_CODE = "Ce code ne correspond pas."
NO_MORE_TRIES = " Écrivez à nouveau votre numéro pour recevoir un autre code."

SMS_CONSENT_QUESTION = Reply(
    "Voulez-vous être rappelé(e) au numéro qui nous écrit ? Il servira seulement pour ce rappel, "
    "puis il sera effacé.",
    [Button("Oui, rappelez-moi", "/affirm"), Button("Non merci", "/deny"), HUMAN_BUTTON],
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
CODE_QUESTION = (
    "Je viens d'envoyer un code à 6 chiffres par SMS au {masked}. Écrivez ce code ici : il prouve que ce numéro "
    "est bien le vôtre. Pour changer de numéro, écrivez le nouveau. Pour arrêter, écrivez « annuler »."
)

ASK_AGAIN = "ask_again"  # the form asks for the number (or the code) again
GIVE_UP = "give_up"  # the form ends without a number
STORED = "stored"  # the callback is in the agents' list


@dataclass(frozen=True)
class CallbackStep:
    """What one answer leads to, and what to say first (the form's next question follows)."""

    outcome: str
    say: str | None = None
    masked_phone: str | None = None  # only for STORED: what the conversation may show

    @property
    def stored(self) -> bool:
        """True when a callback number is now in the agents' list."""
        return self.outcome == STORED


@dataclass(frozen=True)
class CallbackContext:
    """What the agents see next to the number."""

    channel: str | None
    commune: str | None
    topic: str | None


@dataclass(frozen=True)
class _CodeToSend:
    phone: str
    code: str


def reads_the_number(requested_slot: str | None, consent: bool | None) -> bool:
    """A message is read as the number (or its code) only when the form asks for it, after consent."""
    return requested_slot == PHONE_SLOT and consent is True


def calls_back_the_sender(consent: bool | None, channel: str | None) -> bool:
    """By SMS, yes means « call me on this number »: nothing to type, nobody else can be named."""
    return consent is True and is_sms(channel)


def consent_question(channel: str | None) -> Reply:
    """Ask before taking a number (what it is for, when it is deleted)."""
    return SMS_CONSENT_QUESTION if is_sms(channel) else CONSENT_QUESTION


def phone_question(pending_masked: str | None) -> Reply:
    """The number, or the code once one was sent to the masked number."""
    if pending_masked is None:
        return PHONE_QUESTION
    return Reply(CODE_QUESTION.format(masked=pending_masked), [HUMAN_BUTTON])


def confirmation(consent: bool | None, stored: bool | None, masked_phone: str | None, channel: str | None) -> Reply:
    """The end of the form: who calls and when, or that no number was kept (with the phone line)."""
    sms = is_sms(channel)
    if consent is True and stored is True and masked_phone:
        text = (f"C'est noté. Une personne vous appellera au {masked_phone} pendant les horaires d'ouverture. "
                "Votre numéro sera effacé après l'appel.")
    else:
        text = f"Je n'ai gardé aucun numéro. {call_phone_help(sms)}"
    return Reply(text, [] if sms else [MENU_BUTTON]).with_human_offer()


def sms_sender_number(sender_id: str) -> str | None:
    """The number an SMS conversation comes from (kept by the SMS channel to reply), or None."""
    from bot.channels.sms.store import SmsStore

    contact = SmsStore().get_contact(sender_id)
    return contact.phone if contact is not None and contact.phone else None


def _store(phone: str, context: CallbackContext) -> CallbackStep:
    callback = CallbackBook().add(phone, context.channel, context.commune, context.topic)
    return CallbackStep(STORED, masked_phone=masked(callback.phone))


def _confirm_code(checks: PhoneChecks, sender_id: str, code: str, context: CallbackContext) -> CallbackStep:
    phone = checks.confirm(sender_id, code)
    if phone is not None:
        return _store(phone, context)
    still_pending = checks.pending(sender_id) is not None
    return CallbackStep(ASK_AGAIN, WRONG_CODE + ("" if still_pending else NO_MORE_TRIES))


def _read_phone_answer(sender_id: str, text: str, context: CallbackContext) -> CallbackStep | _CodeToSend:
    checks = PhoneChecks()
    if CANCEL_WORDS.match(text):
        checks.cancel(sender_id)
        return CallbackStep(GIVE_UP)
    if checks.pending(sender_id) is not None and CODE_PATTERN.fullmatch(text):
        return _confirm_code(checks, sender_id, text, context)
    try:
        phone = normalise_french_phone(text)
    except InvalidPhoneNumberError:
        return CallbackStep(ASK_AGAIN, INVALID_NUMBER)
    try:
        return _CodeToSend(phone, checks.start(sender_id, phone))
    except CodeLimitError:
        return CallbackStep(GIVE_UP, TOO_MANY_CODES)


async def answer_phone(sender_id: str, text: str, context: CallbackContext) -> CallbackStep:
    """A typed answer to « Quel numéro ? »: cancel, the code that came back, or a number to send a code to."""
    try:
        read = await asyncio.to_thread(_read_phone_answer, sender_id, text.strip(), context)
        if isinstance(read, CallbackStep):
            return read
        if await send_code_sms(read.phone, read.code):
            return CallbackStep(ASK_AGAIN)  # action_ask_callback_phone now asks for the code
        await asyncio.to_thread(lambda: PhoneChecks().cancel(sender_id))
        return CallbackStep(GIVE_UP, NO_CODE_SMS)
    except SQLAlchemyError as exc:
        logger.error("Callback not stored (%s).", type(exc).__name__)
        return CallbackStep(GIVE_UP, NOT_STORED)


def _store_sender(sender_id: str, context: CallbackContext) -> CallbackStep:
    phone = sms_sender_number(sender_id)
    if phone is None:
        return CallbackStep(GIVE_UP, NUMBER_NOT_FOUND)
    return _store(phone, context)


async def call_back_the_sender(sender_id: str, context: CallbackContext) -> CallbackStep:
    """An SMS user said yes: store the number they write from."""
    try:
        return await asyncio.to_thread(_store_sender, sender_id, context)
    except (SQLAlchemyError, InvalidPhoneNumberError) as exc:
        logger.error("Callback not stored (%s).", type(exc).__name__)
        return CallbackStep(GIVE_UP, NOT_STORED)


def _pending_masked(sender_id: str) -> str | None:
    pending = PhoneChecks().pending(sender_id)
    return masked(pending.phone) if pending is not None else None


async def pending_phone(sender_id: str) -> str | None:
    """The masked number waiting for its code, if any (None too when the database cannot say)."""
    try:
        return await asyncio.to_thread(_pending_masked, sender_id)
    except SQLAlchemyError:
        return None
