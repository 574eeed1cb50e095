"""Nearest human help: ask for the commune when missing, remember it, show the nearest places."""

from __future__ import annotations

import asyncio
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.turn import Named, Turn, TurnAction, say
from bot.places import conversation as places
from bot.places.answer import ASK_LOCATION, PlacesAnswer
from bot.places.render import render_answer


class ValidatePlacesForm(Named, FormValidationAction):
    """Fill `commune` from the widget's position, a commune or postcode entity, or the whole answer."""

    action_name = "validate_places_form"

    async def extract_commune(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        asked = tracker.get_slot("requested_slot") == "commune"
        # Fuzzy matching of every run of words: CPU work, kept off the action server's event loop.
        candidate = await asyncio.to_thread(places.commune_candidate, tracker.latest_message or {}, asked)
        return {} if candidate is None else {"commune": candidate}

    async def validate_commune(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        check = await asyncio.to_thread(places.check_commune, slot_value)
        if check.refusal is not None:
            say(dispatcher, *render_answer(check.refusal, tracker.get_latest_input_channel()))
        return {"commune": check.slot_value}


class ActionFindPlaces(TurnAction):
    """Show the nearest places for the remembered commune and the needs said since the request."""

    action_name = "action_find_places"

    async def answer(self, turn: Turn) -> list[EventType]:
        # Locating and searching are CPU work: off the action server's event loop, so other users wait for nothing.
        answer = await asyncio.to_thread(places.nearest_places_for, turn.message, turn.tracker.events,
                                         turn.slot("commune"))
        turn.say(*render_answer(answer, turn.channel))
        remembered = places.commune_to_remember(answer)
        return [SlotSet("commune", remembered)] if remembered is not None else []


class ActionAskCommune(TurnAction):
    """The form's question when no commune is known yet (with the 'Parler à une personne' choice)."""

    action_name = "action_ask_commune"

    async def answer(self, turn: Turn) -> list[EventType]:
        turn.say(*render_answer(PlacesAnswer(ASK_LOCATION), turn.channel))
        return []
