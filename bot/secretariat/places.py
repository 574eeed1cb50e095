"""Places for the secretariat API, through bot/places' public functions (one search, several renderings)."""

from __future__ import annotations

from typing import Any


class PlacesUnavailableError(RuntimeError):
    """The places search is not installed in this build (bot.places missing or incomplete)."""


class UnknownCommuneError(LookupError):
    """The commune is outside the MEL, or not recognised."""


class AmbiguousCommuneError(ValueError):
    """Several communes match; the message lists them."""


def find_places_for_secretariat(commune: str, need: str | None) -> dict[str, Any]:
    """The nearest places for a commune and a need, rendered for the secretariat view."""
    try:
        from bot.places.answer import AMBIGUOUS, OUTSIDE, RESULTS, answer_places_request
        from bot.places.needs import criteria_from_text
        from bot.places.render import render_secretariat
        from bot.places.search import get_place_index
    except ImportError as exc:
        raise PlacesUnavailableError(f"bot.places incomplet : {exc.name}") from exc
    answer = answer_places_request(commune, criteria_from_text(need or ""), is_answer=True, index=get_place_index())
    if answer.kind == OUTSIDE:
        raise UnknownCommuneError(commune)
    if answer.kind == AMBIGUOUS:
        names = ", ".join(candidate.label for candidate in answer.candidates)
        raise AmbiguousCommuneError(f"Plusieurs communes correspondent : {names}. Précisez.")
    if answer.kind != RESULTS or answer.result is None:
        raise UnknownCommuneError(commune)
    return render_secretariat(answer.result)


def places_for_question(question: str, home_commune: str | None, index: Any = None) -> dict[str, Any] | None:
    """Places near the commune named in the question, or near the secretariat for a question about a place of help.

    "Où envoyer quelqu'un pour apprendre l'ordinateur à Tourcoing": places in Tourcoing for learning;
    "cours d'informatique pour débutants" asked in Seclin: places near Seclin. None when the question
    names no commune of the MEL and asks for no kind of place.
    """
    try:
        from bot.geo.locate import LocationError, NoLocationInText, resolve_location
        from bot.places.answer import RESULTS, answer_places_request
        from bot.places.model import Need
        from bot.places.needs import criteria_from_text
        from bot.places.render import render_secretariat
        from bot.places.search import get_place_index
    except ImportError:
        return None
    criteria = criteria_from_text(question)
    try:
        resolve_location(question)
        location, named = question, True
    except NoLocationInText:
        if not home_commune or not (criteria.needs - {Need.PROCEDURES}):
            return None
        location, named = home_commune, False
    except LocationError:  # outside the MEL, or several communes: the places form of the page is there for that
        return None
    answer = answer_places_request(location, criteria, is_answer=not named,
                                   index=index if index is not None else get_place_index())
    if answer.kind != RESULTS or answer.result is None or not answer.result.matches:
        return None
    return {**render_secretariat(answer.result), "commune_in_question": named}
