"""The places conversation: which messages are about a place, what they name, and what to answer.

Read from Rasa's plain dicts (the latest message, the events), with no Rasa class. Locating and searching are CPU
work (fuzzy matching, distances) and may read the project database: the action server runs them off its loop.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from bot.geo.locate import AmbiguousCommune, LocationError, NoLocationInText, OutsideMetropolis
from bot.places.answer import AMBIGUOUS, OUTSIDE, RESULTS, PlacesAnswer, answer_places_request, locate
from bot.places.needs import criteria_from_text

logger = logging.getLogger(__name__)

PLACES_INTENTS = frozenset({"find_help_nearby", "inform_location"})
# Answers to "Dans quelle commune ?" that NLU may not label inform_location.
ANSWER_INTENTS = PLACES_INTENTS | {"nlu_fallback", "affirm"}
LOCATION_ENTITIES = frozenset({"commune", "postcode"})
# A commune slot candidate that names no place we can use: validation explains why (ambiguous, outside the MEL).
UNRESOLVED_MARK = "?"
MAX_REQUEST_MESSAGES = 4


def intent_of(message: Mapping[str, Any]) -> str | None:
    """The intent the NLU gave the message."""
    return (message.get("intent") or {}).get("name")


def widget_coordinates(message: Mapping[str, Any]) -> tuple[float, float] | None:
    """Coordinates sent by the web widget: message metadata first, then the payload's entities."""
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


def location_text(message: Mapping[str, Any]) -> str | None:
    """What names a place in the message: the entities, else the text itself."""
    entities = message.get("entities") or []
    names = [str(e.get("value")) for e in entities if e.get("entity") in LOCATION_ENTITIES and e.get("value")]
    if names:
        return " ".join(names)
    return message.get("text") or None


def has_location_entity(message: Mapping[str, Any]) -> bool:
    """True when the message names a commune or a postcode (lookup tables and regexes)."""
    return any(entity.get("entity") in LOCATION_ENTITIES for entity in message.get("entities") or [])


def request_text(events: Iterable[Mapping[str, Any]]) -> str:
    """The user's words since the request for help (needs like 'ouvert samedi' may come before the commune)."""
    texts: list[str] = []
    for event in reversed(list(events)):
        if event.get("event") != "user":
            continue
        intent = intent_of(event.get("parse_data") or {})
        text = event.get("text") or ""
        if not text.startswith("/"):
            texts.append(text)
        if intent == "find_help_nearby" or intent not in ANSWER_INTENTS or len(texts) >= MAX_REQUEST_MESSAGES:
            break
    return " ".join(reversed(texts))


def commune_candidate(message: Mapping[str, Any], asked: bool) -> str | None:
    """What the places form's `commune` slot gets from a message; None when the message is not about a place.

    A place we cannot use (ambiguous, outside the MEL) is kept marked, for `check_commune` to explain.
    """
    intent = intent_of(message)
    unsure_with_place = intent == "nlu_fallback" and has_location_entity(message)
    if intent not in PLACES_INTENTS and not (asked and intent in ANSWER_INTENTS) and not unsure_with_place:
        return None
    is_answer = asked or intent == "inform_location" or unsure_with_place
    try:
        origin = locate(location_text(message), widget_coordinates(message), None, is_answer=is_answer)
    except NoLocationInText:
        return None
    except LocationError as error:
        return f"{UNRESOLVED_MARK}{error.query}"
    return origin.slot_value


@dataclass(frozen=True)
class CommuneCheck:
    """The commune to keep, or the answer that says why it cannot be used."""

    slot_value: str | None
    refusal: PlacesAnswer | None = None


def check_commune(candidate: Any) -> CommuneCheck:
    """Keep a commune of the MEL; ask which one when several match; explain a place outside the MEL."""
    value = str(candidate or "")
    query = value.removeprefix(UNRESOLVED_MARK)
    try:
        origin = locate(query, None, None, is_answer=True)
    except AmbiguousCommune as error:
        return CommuneCheck(None, PlacesAnswer(AMBIGUOUS, error.query, candidates=error.candidates))
    except (OutsideMetropolis, NoLocationInText) as error:
        logger.info("places: location outside the MEL or unknown")
        return CommuneCheck(None, PlacesAnswer(OUTSIDE, error.query))
    return CommuneCheck(origin.slot_value)


def nearest_places_for(message: Mapping[str, Any], events: Iterable[Mapping[str, Any]],
                  remembered: str | None) -> PlacesAnswer:
    """The nearest places for what the message names (or the remembered commune) and the needs said since the
    request; a place outside the MEL falls back on the remembered commune."""
    intent = intent_of(message)
    latest = location_text(message) if intent in PLACES_INTENTS else None
    criteria = criteria_from_text(request_text(events))
    answer = answer_places_request(latest, criteria, coordinates=widget_coordinates(message),
                                   remembered=remembered, is_answer=intent == "inform_location")
    if answer.kind == OUTSIDE and remembered:
        answer = answer_places_request(None, criteria, remembered=remembered)
    return answer


def commune_to_remember(answer: PlacesAnswer) -> str | None:
    """The commune (or position) the next requests start from, once places were found."""
    if answer.kind == RESULTS and answer.origin is not None:
        return answer.origin.slot_value
    return None
