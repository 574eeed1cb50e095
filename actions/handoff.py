"""Ask for a person (pause the bot and queue the conversation) and, when nobody can answer, offer a callback."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ConversationPaused, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.turn import Named, Turn, TurnAction
from bot.handoff import callback_form
from bot.handoff.callback_form import GIVE_UP, CallbackContext, CallbackStep
from bot.handoff.person_request import PersonAnswer, answer_request_for_a_person, ticket_for
from bot.handoff.transcript import topic_from_events

CONSENT, PHONE, STORED = "callback_consent", "callback_phone", "callback_stored"


async def hand_over(turn: Turn, intro: str | None = None) -> list[EventType]:
    """Queue the conversation and pause the bot, or say honestly that nobody can answer now."""
    tracker = turn.tracker

    def ask() -> PersonAnswer:  # masking the transcript, the limits and the queue: all off the event loop
        ticket = ticket_for(tracker.sender_id, turn.channel, tracker.events, commune=turn.slot("commune"),
                            last_procedure=turn.slot("last_procedure"), metadata=turn.message.get("metadata"))
        return answer_request_for_a_person(ticket, intro)

    answer = await asyncio.to_thread(ask)
    turn.say(answer.reply)
    if answer.waiting_status is not None:
        turn.dispatcher.utter_message(json_message=answer.waiting_status)
    return [ConversationPaused()] if answer.pauses else []


class ActionRequestHuman(TurnAction):
    """« Je veux parler à quelqu'un », the button, « 0 » by SMS."""

    action_name = "action_request_human"

    async def answer(self, turn: Turn) -> list[EventType]:
        return await hand_over(turn)


def callback_context(tracker: Tracker) -> CallbackContext:
    """What the agents see next to the number."""
    return CallbackContext(tracker.get_latest_input_channel(), tracker.get_slot("commune"),
                           topic_from_events(tracker.events, tracker.get_slot("last_procedure")))


def step_slots(dispatcher: CollectingDispatcher, step: CallbackStep) -> dict[str, Any]:
    """Say what the step says; the form's slots after it."""
    if step.say:
        dispatcher.utter_message(text=step.say)
    if step.stored:
        return {PHONE: step.masked_phone, STORED: True}
    return {CONSENT: False, PHONE: None} if step.outcome == GIVE_UP else {PHONE: None}


class ValidateCallbackForm(Named, FormValidationAction):
    """Consent first, then a French phone number confirmed by a code (the slot only keeps a masked copy)."""

    action_name = "validate_callback_form"

    async def required_slots(
        self, domain_slots: list[str], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[str]:
        if tracker.get_slot(CONSENT) is False:
            return [CONSENT]  # refused: nothing more to ask
        return [CONSENT, PHONE]

    async def extract_callback_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """The typed answer, as it is: validate_callback_phone reads it (nothing is written while extracting)."""
        if not callback_form.reads_the_number(tracker.get_slot("requested_slot"), tracker.get_slot(CONSENT)):
            return {}
        return {PHONE: tracker.latest_message.get("text") or ""}

    async def validate_callback_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """Cancel, check the code, or send a code to the number: the number is stored once its code is back."""
        step = await callback_form.answer_phone(tracker.sender_id, str(value or ""), callback_context(tracker))
        return step_slots(dispatcher, step)

    async def validate_callback_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        """By SMS, yes means « call me on this number »: nothing to type, nobody else can be named."""
        consent = value if isinstance(value, bool) else None
        if not callback_form.calls_back_the_sender(consent, tracker.get_latest_input_channel()):
            return {CONSENT: consent}
        step = await callback_form.call_back_the_sender(tracker.sender_id, callback_context(tracker))
        return {CONSENT: True, **step_slots(dispatcher, step)}


class ActionAskCallbackConsent(TurnAction):
    """Ask before taking a number (what it is for, when it is deleted)."""

    action_name = "action_ask_callback_consent"

    async def answer(self, turn: Turn) -> list[EventType]:
        turn.say(callback_form.consent_question(turn.channel))
        return []


class ActionAskCallbackPhone(TurnAction):
    """Ask for the number to call, or for the code sent to it."""

    action_name = "action_ask_callback_phone"

    async def answer(self, turn: Turn) -> list[EventType]:
        turn.say(callback_form.phone_question(await callback_form.pending_phone(turn.tracker.sender_id)))
        return []


class ActionSubmitCallback(TurnAction):
    """Confirm the callback (or that nothing was kept)."""

    action_name = "action_submit_callback"

    async def answer(self, turn: Turn) -> list[EventType]:
        turn.say(callback_form.confirmation(turn.slot(CONSENT), turn.slot(STORED), turn.slot(PHONE), turn.channel))
        return [SlotSet(CONSENT, None), SlotSet(PHONE, None), SlotSet(STORED, None)]
