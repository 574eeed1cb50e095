"""Nearest human help: ask for the commune when missing, remember it, show the nearest places."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.geo.locate import AmbiguousCommune, LocationError, NoLocationInText, OutsideMetropolis
from bot.places.answer import (
    AMBIGUOUS,
    ASK_LOCATION,
    OUTSIDE,
    RESULTS,
    PlacesAnswer,
    answer_places_request,
    locate,
)
from bot.places.needs import criteria_from_text
from bot.places.render import render_answer

logger = logging.getLogger(__name__)

PLACES_INTENTS = frozenset({"find_help_nearby", "inform_location"})
# Answers to "Dans quelle commune ?" that NLU may not label inform_location.
ANSWER_INTENTS = PLACES_INTENTS | {"nlu_fallback", "affirm"}


def widget_coordinates(tracker: Tracker) -> tuple[float, float] | None:
    """Coordinates sent by the web widget: message metadata first, then the payload's entities."""
    message = tracker.latest_message or {}
    metadata = message.get("metadata") or {}
    location = found if isinstance(found := metadata.get("location"), dict) else metadata
    candidates = [(location.get("latitude"), location.get("longitude"))]
    entities = {e.get("entity"): e.get("value") for e in message.get("entities") or []}
    candidates.append((entities.get("latitude"), entities.get("longitude")))
    for latitude, longitude in candidates:
        try:
            if latitude is not None and longitude is not None:
                return float(latitude), float(longitude)
        except (TypeError, ValueError):
            continue
    return None


def location_text(tracker: Tracker) -> str | None:
    """What names a place in the latest message: the entities, else the text itself."""
    message = tracker.latest_message or {}
    entities = message.get("entities") or []
    names = [str(e.get("value")) for e in entities if e.get("entity") in ("commune", "postcode") and e.get("value")]
    if names:
        return " ".join(names)
    return message.get("text") or None


LOCATION_ENTITIES = frozenset({"commune", "postcode"})


def has_location_entity(tracker: Tracker) -> bool:
    """True when the latest message names a commune or a postcode (lookup tables and regexes)."""
    entities = (tracker.latest_message or {}).get("entities") or []
    return any(entity.get("entity") in LOCATION_ENTITIES for entity in entities)


def request_text(tracker: Tracker) -> str:
    """The user's words since the request for help (needs like 'ouvert samedi' may come before the commune)."""
    texts: list[str] = []
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        text = event.get("text") or ""
        if not text.startswith("/"):
            texts.append(text)
        if intent == "find_help_nearby" or intent not in ANSWER_INTENTS or len(texts) >= 4:
            break
    return " ".join(reversed(texts))


def _dispatch(dispatcher: CollectingDispatcher, answer: PlacesAnswer, channel: str | None) -> None:
    for reply in render_answer(answer, channel):
        dispatcher.utter_message(**reply.as_dispatch_kwargs())


class ValidatePlacesForm(FormValidationAction):
    """Fill `commune` from the widget's position, a commune or postcode entity, or the whole answer."""

    def name(self) -> str:
        return "validate_places_form"

    async def extract_commune(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        asked = tracker.get_slot("requested_slot") == "commune"
        unsure_with_place = intent == "nlu_fallback" and has_location_entity(tracker)
        if intent not in PLACES_INTENTS and not (asked and intent in ANSWER_INTENTS) and not unsure_with_place:
            return {}
        coordinates = widget_coordinates(tracker)
        text = location_text(tracker)
        try:  # fuzzy matching of every run of words: CPU work, kept off the action server's event loop
            origin = await asyncio.to_thread(locate, text, coordinates, None,
                                             is_answer=asked or intent == "inform_location" or unsure_with_place)
        except NoLocationInText:
            return {}
        except LocationError as error:
            return {"commune": f"?{error.query}"}  # kept for validate_commune to explain
        return {"commune": origin.slot_value}

    def validate_commune(
        self, slot_value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        value = str(slot_value or "")
        query = value[1:] if value.startswith("?") else value
        try:
            origin = locate(query, None, None, is_answer=True)
        except AmbiguousCommune as error:
            _dispatch(dispatcher, PlacesAnswer(AMBIGUOUS, error.query, candidates=error.candidates),
                      tracker.get_latest_input_channel())
            return {"commune": None}
        except (OutsideMetropolis, NoLocationInText) as error:
            logger.info("places: location outside the MEL or unknown")
            _dispatch(dispatcher, PlacesAnswer(OUTSIDE, error.query), tracker.get_latest_input_channel())
            return {"commune": None}
        return {"commune": origin.slot_value}


class ActionFindPlaces(Action):
    """Show the nearest places for the remembered commune and the needs said since the request."""

    def name(self) -> str:
        return "action_find_places"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        latest = location_text(tracker) if intent in PLACES_INTENTS else None
        criteria = criteria_from_text(request_text(tracker))
        # Locating and searching are CPU work: off the action server's event loop, so other users wait for nothing.
        answer = await asyncio.to_thread(
            answer_places_request, latest, criteria, coordinates=widget_coordinates(tracker),
            remembered=tracker.get_slot("commune"), is_answer=intent == "inform_location",
        )
        if answer.kind == OUTSIDE and tracker.get_slot("commune"):
            answer = await asyncio.to_thread(answer_places_request, None, criteria,
                                             remembered=tracker.get_slot("commune"))
        _dispatch(dispatcher, answer, tracker.get_latest_input_channel())
        if answer.kind == RESULTS and answer.origin is not None:
            return [SlotSet("commune", answer.origin.slot_value)]
        return []


class ActionAskCommune(Action):
    """The form's question when no commune is known yet (with the 'Parler à une personne' choice)."""

    def name(self) -> str:
        return "action_ask_commune"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        _dispatch(dispatcher, PlacesAnswer(ASK_LOCATION), tracker.get_latest_input_channel())
        return []
