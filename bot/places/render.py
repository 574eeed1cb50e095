"""One places answer, three renderings: web (Markdown + cards payload), SMS (GSM-7, 1-2 segments), secretariat."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import phonenumbers

from bot.gsm7 import MULTI_SEGMENT_SEPTETS, septets, to_gsm7
from bot.places.answer import AMBIGUOUS, ASK_LOCATION, OUTSIDE, PlacesAnswer, nearest_france_services
from bot.places.hours import next_weekday
from bot.places.model import NEED_LABELS_FR, Need
from bot.places.search import Match, PlaceIndex, SearchResult
from bot.replies import HUMAN_BUTTON, PHONE_HELP, Button, Reply, is_sms

NATIONAL_MAP = "https://cartographie.societenumerique.gouv.fr"
ASK_LOCATION_TEXT = "Dans quelle commune habitez-vous ? Vous pouvez aussi écrire votre code postal."
# SMS: two concatenated segments, minus room for the channel's numbered menu ("0 Parler a une personne").
SMS_BUDGET = 2 * MULTI_SEGMENT_SEPTETS - 36
_DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|<>~])")


def escape_markdown(text: str) -> str:
    """Data text shown literally in Markdown (no links, emphasis or HTML slipped in by a source file)."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def format_km(km: float) -> str:
    """'0,4 km', '12 km' (French decimal comma)."""
    return f"{km:.1f} km".replace(".", ",") if km < 10 else f"{km:.0f} km"


def distance_text(match: Match) -> str:
    """'1,2 km (15 min à pied)' or '4,2 km'."""
    minutes = match.walking_minutes
    return f"{format_km(match.km)} ({minutes} min à pied)" if minutes else format_km(match.km)


def format_phone(number: str) -> str:
    """'03 20 84 80 80' from '+33320848080'; the raw text when it cannot be parsed."""
    if not number:
        return ""
    try:
        parsed = phonenumbers.parse(number, "FR")
    except phonenumbers.NumberParseException:
        return number
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)


def map_url(latitude: float, longitude: float) -> str:
    """An OpenStreetMap link centred on the place."""
    return (f"https://www.openstreetmap.org/?mlat={latitude:.5f}&mlon={longitude:.5f}"
            f"#map=17/{latitude:.5f}/{longitude:.5f}")


def full_address(match: Match) -> str:
    """'106 Boulevard de Metz, 59000 Lille'."""
    place = match.place
    town = " ".join(part for part in (place.code_postal, place.commune) if part)
    return ", ".join(part for part in (place.adresse, town) if part)


def _criteria_words(needs: frozenset[Need]) -> str:
    return ", ".join(NEED_LABELS_FR[need] for need in sorted(needs, key=lambda n: n.value))


def _time_words(result: SearchResult) -> str:
    criteria = result.criteria
    if criteria.open_now:
        return "ouvert maintenant"
    if criteria.open_on is not None:
        return f"ouvert le {_DAYS_FR[criteria.open_on]}"
    return ""


def headline(result: SearchResult) -> str:
    """The first sentence: what was found, and what had to be widened."""
    where = result.origin.label if result.origin.precision != "position" else "près de votre position"
    at = where if where.startswith("près") else f"à {where}"
    wanted = " ".join(part for part in (
        "lieu", _time_words(result), f"({_criteria_words(result.criteria.needs)})" if result.criteria.needs else "",
    ) if part)
    if not result.matches:
        return "Je n'ai trouvé aucun lieu d'aide dans mes données."
    first = result.matches[0]
    if result.dropped_needs:
        return (f"Je ne connais aucun lieu dans la métropole pour : {_criteria_words(result.dropped_needs)}. "
                "Voici les lieux d'aide les plus proches : appelez-les pour demander.")
    if result.dropped_time:
        return (f"Je ne connais aucun {wanted} dans la métropole. "
                "Voici les plus proches, avec leurs horaires.")
    if not result.in_origin_area:
        closest = "Le plus proche" + (" ouvert" if result.criteria.open_now else "")
        return (f"Aucun {wanted} {at}. {closest} est {first.place.nom} à {format_km(first.km)}.")
    if not result.criteria.has_time and not result.criteria.needs:
        return f"Les lieux d'aide les plus proches {at} :"
    asked = ", ".join(p for p in (_time_words(result), _criteria_words(result.criteria.needs)) if p)
    return f"Les lieux les plus proches {at} ({asked}) :"


def _origin_note(result: SearchResult) -> str:
    notes = [result.origin.note] if result.origin.note else []
    if result.origin.from_commune_centre and not result.origin.note:
        notes.append(f"Distances depuis le centre de {result.origin.label}.")
    return " ".join(notes)


def place_card(match: Match, now: datetime) -> dict[str, Any]:
    """One place for the web widget's cards."""
    place = match.place
    return {
        "id": place.id, "nom": place.nom, "adresse": full_address(match),
        "complement_adresse": place.complement_adresse, "distance_km": round(match.km, 2),
        "walking_minutes": match.walking_minutes, "today": match.hours.today_text(now),
        "open_now": match.hours.is_open(now) if match.hours.known else None,
        "telephone": place.telephone, "telephone_display": format_phone(place.telephone),
        "map_url": map_url(place.latitude, place.longitude), "latitude": place.latitude,
        "longitude": place.longitude, "france_services": place.is_france_services,
        "itinerant": place.is_mobile, "position_approximative": place.geo_precision != "lieu",
        "prise_rdv": place.prise_rdv,
    }


def render_web(result: SearchResult) -> Reply:
    """A readable Markdown list (name, address, distance, today's hours, phone, map link) plus cards payload."""
    lines = [escape_markdown(headline(result))]
    for number, match in enumerate(result.matches, 1):
        place = match.place
        lines.append(f"{number}. **{escape_markdown(place.nom)}**")
        lines.append(f"   {escape_markdown(full_address(match))} – {distance_text(match)}")
        if place.is_mobile:
            lines.append("   Lieu itinérant : appelez avant de venir.")
        if place.geo_precision != "lieu":
            lines.append("   Position approximative (centre de la commune).")
        lines.append(f"   {match.hours.today_text(result.now)}")
        if result.criteria.open_on is not None and match.hours.known:
            day = next_weekday(result.now, result.criteria.open_on)
            lines.append(f"   Le {_DAYS_FR[result.criteria.open_on]} : {match.hours.day_text(day)}.")
        contact = f"Tél. {format_phone(place.telephone)} – " if place.telephone else ""
        lines.append(f"   {contact}[Voir sur la carte]({map_url(place.latitude, place.longitude)})")
    note = _origin_note(result)
    if note:
        lines.append(f"_{escape_markdown(note)}_")
    custom = {
        "type": "places",
        "origin": {"label": result.origin.label, "precision": result.origin.precision,
                   "latitude": result.origin.latitude, "longitude": result.origin.longitude},
        "places": [place_card(match, result.now) for match in result.matches],
    }
    return Reply("\n".join(lines), [], custom)


def _sms_hours(match: Match, now: datetime, open_on: int | None = None) -> str:
    if not match.hours.known:
        return "horaires: appeler"
    if open_on is not None:
        return f"{_DAYS_FR[open_on][:3]}. {match.hours.day_text(next_weekday(now, open_on))}"
    return f"auj. {match.hours.day_text(now.date())}"


def render_sms(result: SearchResult) -> Reply:
    """Compact GSM-7: name, address, phone, today's hours; as many places as fit two segments."""
    head = to_gsm7(headline(result))
    entries: list[str] = []
    for number, match in enumerate(result.matches, 1):
        place = match.place
        parts = [f"{number}) {place.nom[:48]}", full_address(match)[:60], format_km(match.km)]
        if place.telephone:
            parts.append(format_phone(place.telephone))
        parts.append(_sms_hours(match, result.now, result.criteria.open_on))
        entries.append(to_gsm7(", ".join(parts)))
    text = head
    for entry in entries:
        candidate = f"{text}\n{entry}"
        if septets(candidate) > SMS_BUDGET:
            break
        text = candidate
    if septets(text) > SMS_BUDGET:  # a very long headline: keep the first place at least
        text = to_gsm7(entries[0])[:SMS_BUDGET] if entries else text[:SMS_BUDGET]
    return Reply(text, [])


def render_secretariat(result: SearchResult) -> dict[str, Any]:
    """Every detail for the secretariat view: origin, criteria, widening and full place records."""
    return {
        "origin": {"label": result.origin.label, "precision": result.origin.precision,
                   "latitude": result.origin.latitude, "longitude": result.origin.longitude,
                   "note": result.origin.note},
        "criteria": {"needs": sorted(n.value for n in result.criteria.needs),
                     "open_now": result.criteria.open_now, "open_on": result.criteria.open_on},
        "headline": headline(result),
        "in_origin_area": result.in_origin_area,
        "dropped_needs": sorted(n.value for n in result.dropped_needs),
        "dropped_time": result.dropped_time,
        "at": result.now.isoformat(),
        "places": [{**match.place.as_dict(), **place_card(match, result.now), "distance_km": round(match.km, 3)}
                   for match in result.matches],
    }


def outside_text(query: str) -> str:
    """Outside the MEL (or unknown): the national map and the national phone line (contacts.yml)."""
    shown = query.strip()[:40] or "cet endroit"
    return (f"« {shown} » n'est pas dans les 95 communes de la Métropole Européenne de Lille, "
            f"ou je ne la connais pas. Pour trouver un lieu d'aide ailleurs en France : {NATIONAL_MAP}. "
            f"Vous pouvez aussi appeler {PHONE_HELP}.")


def render_answer(answer: PlacesAnswer, channel: str | None) -> list[Reply]:
    """The replies for the user's channel, each offering a person."""
    sms = is_sms(channel)
    if answer.kind == ASK_LOCATION:
        replies = [Reply(ASK_LOCATION_TEXT)]
    elif answer.kind == OUTSIDE:
        text = outside_text(answer.query)
        replies = [Reply(to_gsm7(text) if sms else escape_markdown(text))]
    elif answer.kind == AMBIGUOUS:
        names = [c.label for c in answer.candidates]
        question = f"Il y a plusieurs communes : {' ou '.join(names)}. Laquelle ?"
        buttons = [Button(name, f'/inform_location{{"commune": "{c.name}"}}')
                   for name, c in zip(names, answer.candidates, strict=True)]
        replies = [Reply(to_gsm7(question) if sms else question, buttons)]
    else:
        assert answer.result is not None
        replies = [render_sms(answer.result) if sms else render_web(answer.result)]
    return [reply.with_human_offer() for reply in replies]


def france_services_sentence(commune: str, *, now: datetime | None = None,
                             index: PlaceIndex | None = None) -> str | None:
    """'L'espace France Services le plus proche : ...' for the handoff service; None outside the MEL."""
    result = nearest_france_services(commune, now=now, index=index)
    if result is None:
        return None
    match = result.matches[0]
    phone = f", tél. {format_phone(match.place.telephone)}" if match.place.telephone else ""
    return (f"L'espace France Services le plus proche : {match.place.nom}, {full_address(match)}{phone} "
            f"({format_km(match.km)}). {match.hours.today_text(result.now)}")


__all__ = ["HUMAN_BUTTON", "render_answer", "render_secretariat", "render_sms", "render_web"]
