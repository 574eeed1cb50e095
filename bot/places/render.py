"""One places answer, three renderings: web (Markdown + cards payload), SMS (GSM-7, 1-2 segments), secretariat."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import phonenumbers

from bot.channels.sms.render import MORE_NOTICE
from bot.gsm7 import MULTI_SEGMENT_SEPTETS, septets, to_gsm7
from bot.places.answer import AMBIGUOUS, ASK_LOCATION, OUTSIDE, PlacesAnswer, nearest_france_services
from bot.places.hours import next_weekday
from bot.places.model import NEED_LABELS_FR, Need
from bot.places.search import Match, PlaceIndex, SearchResult
from bot.replies import HUMAN_BUTTON, PHONE_HELP, SMS_PAGE_BREAK, Button, Reply, is_sms
from bot.text import fold

NATIONAL_MAP = "https://cartographie.societenumerique.gouv.fr"
ASK_LOCATION_TEXT = "Dans quelle commune habitez-vous ? Vous pouvez aussi écrire votre code postal."
# SMS: two concatenated segments, minus room for the channel's numbered menu ("0 Parler a une personne").
SMS_BUDGET = 2 * MULTI_SEGMENT_SEPTETS - 36
# One page of places, with room left for "Répondez PLUS pour la suite" when more places follow.
SMS_PAGE_BUDGET = SMS_BUDGET - len(MORE_NOTICE) - 1
_DAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]#|<>~])")
# SMS place names: the longest kept whole; longer ones end at a word boundary with "...".
SMS_NAME_CHARS = 60
SMS_ADDRESS_CHARS = 60
# Long words of place names and their usual short forms (SMS only; the web shows the name as published).
_NAME_ABBREVIATIONS = (
    (re.compile(r"\b(centre|ctre) communal (d'|de l')?action sociale\b", re.I), "CCAS"),
    (re.compile(r"\bassociations?\b", re.I), "Asso."),
    (re.compile(r"\bbiblioth[eè]que\b", re.I), "Biblio."),
    (re.compile(r"\bctre\b", re.I), "Centre"),
)
# Kept in capitals when a name written all in capitals is put in title case.
_ACRONYMS = frozenset({"CCAS", "CAF", "CPAM", "MRES", "MSAP", "EPN", "MJC", "MDPH", "PIMMS", "ESS", "LSF", "CIO"})
_SMALL_WORDS = frozenset({"de", "du", "des", "la", "le", "les", "et", "à", "a", "en", "au", "aux", "sur", "lez",
                          "lès", "pour", "par"})


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


def _title_word(word: str, first: bool) -> str:
    if word.upper() in _ACRONYMS:
        return word.upper()
    lower = word.lower()
    for elided in ("d'", "l'"):
        if lower.startswith(elided) and len(lower) > 2:
            return (elided.upper() if first else elided) + lower[2:3].upper() + lower[3:]
    if lower in _SMALL_WORDS and not first:
        return lower
    return "-".join(part[:1].upper() + part[1:] for part in lower.split("-"))


def sms_place_name(name: str, limit: int = SMS_NAME_CHARS) -> str:
    """A place name for SMS: capitals put in title case, long words abbreviated, never cut inside a word."""
    name = " ".join(name.replace("’", "'").split())
    letters = [c for c in name if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        name = " ".join(_title_word(word, index == 0) for index, word in enumerate(name.split(" ")))
    for pattern, short in _NAME_ABBREVIATIONS:
        name = pattern.sub(short, name)
    return shorten_words(name, limit)


def shorten_words(text: str, limit: int) -> str:
    """The text whole when it fits, else its first words and '...' (a word is never cut)."""
    if len(text) <= limit:
        return text
    words: list[str] = []
    for word in text.split(" "):
        if len(" ".join([*words, word])) > limit - 3:
            break
        words.append(word)
    kept = " ".join(words).rstrip(" ,;:-") or text[: limit - 3]
    return kept + "..."


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
                "Voici les lieux d'aide les plus proches, qui pourront vous orienter :")
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


def of_name(name: str) -> str:
    """'de Seclin', 'd'Armentières', 'd'Interfaces': French elision before a vowel."""
    return f"d'{name}" if fold(name[:1]) in "aeiouyh" and name[:1] else f"de {name}"


def _origin_note(result: SearchResult) -> str:
    notes = [result.origin.note] if result.origin.note else []
    if result.origin.from_commune_centre and not result.origin.note:
        notes.append(f"Distances depuis le centre {of_name(result.origin.label)}.")
    return " ".join(notes)


def call_first_text(match: Match, alternative: Match | None) -> str:
    """Whom to call before coming, always with a number: the place, else the nearest place with one, else PHONE_HELP."""
    if match.place.telephone:
        return f"appelez avant de venir au {format_phone(match.place.telephone)}."
    if alternative is not None:
        return (f"avant de venir, renseignez-vous auprès {of_name(alternative.place.nom)} "
                f"(à {format_km(alternative.km)}) au {format_phone(alternative.place.telephone)}.")
    return f"avant de venir, renseignez-vous auprès {of_name(PHONE_HELP)}."


def hours_text(match: Match, now: datetime, alternative: Match | None = None) -> str:
    """Today's hours, or when they are unknown whom to call first, with a number."""
    if match.hours.known:
        return match.hours.today_text(now)
    unknown = "Horaires non indiqués" if match.place.telephone else "Horaires et téléphone non indiqués"
    return f"{unknown} : {call_first_text(match, alternative)}"


def place_card(match: Match, now: datetime, alternative: Match | None = None) -> dict[str, Any]:
    """One place for the web widget's cards."""
    place = match.place
    return {
        "id": place.id, "nom": place.nom, "adresse": full_address(match),
        "complement_adresse": place.complement_adresse, "distance_km": round(match.km, 2),
        "walking_minutes": match.walking_minutes, "today": hours_text(match, now, alternative),
        "week": match.hours.week_text(now) if match.hours.known else "",
        "alternative": None if alternative is None else {
            "nom": alternative.place.nom, "telephone": alternative.place.telephone,
            "telephone_display": format_phone(alternative.place.telephone),
            "distance_km": round(alternative.km, 2)},
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
        alternative = result.phone_alternatives.get(place.id)
        lines.append(f"{number}. **{escape_markdown(place.nom)}**")
        lines.append(f"   {escape_markdown(full_address(match))} – {distance_text(match)}")
        if place.is_mobile:
            call = escape_markdown(call_first_text(match, alternative))
            lines.append(f"   Lieu itinérant : {call}")
        if place.geo_precision != "lieu":
            lines.append("   Position approximative (centre de la commune).")
        if result.criteria.week_hours and match.hours.known and number == 1:
            lines.append("   Horaires de la semaine :")
            lines.extend(f"   - {_day_span(first, last)} : {hours}" for first, last, hours
                         in match.hours.week_groups(result.now))
        else:
            lines.append(f"   {escape_markdown(hours_text(match, result.now, alternative))}")
        if result.criteria.open_on is not None and match.hours.known:
            day = next_weekday(result.now, result.criteria.open_on)
            lines.append(f"   Le {_DAYS_FR[result.criteria.open_on]} : {match.hours.day_text(day)}.")
        contact = f"Tél. {format_phone(place.telephone)} – " if place.telephone else ""
        lines.append(f"   {contact}[Voir sur la carte]({map_url(place.latitude, place.longitude)})")
    note = _origin_note(result)
    if note:
        lines.append(f"_{escape_markdown(note)}_")
    custom: dict[str, Any] = {
        "type": "places",
        "origin": {"label": result.origin.label, "precision": result.origin.precision,
                   "latitude": result.origin.latitude, "longitude": result.origin.longitude},
        "places": [place_card(match, result.now, result.phone_alternatives.get(match.place.id))
                   for match in result.matches],
    }
    first = result.matches[0] if result.matches else None
    if result.criteria.week_hours and first is not None and first.hours.known:
        # The widget shows cards in place of the list: the hours asked for go in the first card's hours line.
        custom["places"][0]["today"] = f"Horaires de la semaine : {first.hours.week_text(result.now)}."
    return Reply("\n".join(lines), [], custom)


def _day_span(first: int, last: int) -> str:
    """'Lundi', 'Samedi et dimanche', 'Du mardi au vendredi'."""
    if first == last:
        return _DAYS_FR[first].capitalize()
    if last == first + 1:
        return f"{_DAYS_FR[first].capitalize()} et {_DAYS_FR[last]}"
    return f"Du {_DAYS_FR[first]} au {_DAYS_FR[last]}"


def _sms_hours(match: Match, result: SearchResult, number: int) -> str:
    now, open_on = result.now, result.criteria.open_on
    if not match.hours.known:
        if match.place.telephone:
            return "horaires: appeler"
        alternative = result.phone_alternatives.get(match.place.id)
        if alternative is None:
            return f"horaires: appeler {to_gsm7(PHONE_HELP)}"
        ids = [m.place.id for m in result.matches]
        # "lieu 1" only for a place listed before this one (the later ones may not fit in the SMS)
        listed = ids.index(alternative.place.id) + 1 if alternative.place.id in ids[:number - 1] else 0
        who = f"lieu {listed}" if listed else sms_place_name(alternative.place.nom, 50)
        return f"horaires: appeler le {format_phone(alternative.place.telephone)} ({who})"
    if open_on is not None:
        return f"{_DAYS_FR[open_on][:3]}. {match.hours.day_text(next_weekday(now, open_on))}"
    if number == 1 and result.criteria.week_hours:
        return match.hours.week_text(now, short=True)
    return f"auj. {match.hours.day_text(now.date())}"


def sms_headline(result: SearchResult) -> str:
    """The SMS first line: the web's, shorter when it would push the places out."""
    if result.dropped_needs:
        return "Aucun lieu connu pour ce besoin. Les lieux d'aide les plus proches pourront vous orienter :"
    if result.criteria.week_hours and result.matches and result.matches[0].hours.known:
        return "Horaires de la semaine :"
    return headline(result)


def _fit(text: str, limit: int) -> str:
    """The text, shortened at a word boundary until it takes at most `limit` septets."""
    chars = limit
    while septets(text) > limit and chars > 20:
        text = shorten_words(text, chars)
        chars -= 10
    return text


def render_sms(result: SearchResult) -> Reply:
    """Compact GSM-7: name, address, phone, hours; the first page holds the first place, PLUS gives the others."""
    head = to_gsm7(sms_headline(result))
    entries: list[str] = []
    for number, match in enumerate(result.matches, 1):
        place = match.place
        parts = [f"{number}) {sms_place_name(place.nom)}", shorten_words(sms_address(match), SMS_ADDRESS_CHARS),
                 format_km(match.km)]
        if place.telephone:
            parts.append(format_phone(place.telephone))
        parts.append(_sms_hours(match, result, number))
        entries.append(to_gsm7(", ".join(parts)))
    pages: list[str] = []
    page = head
    for entry in entries:
        if septets(f"{page}\n{entry}") <= SMS_PAGE_BUDGET:
            page = f"{page}\n{entry}" if page else entry
        elif page == head:  # a long first place: it still shares the first page with the headline
            page = _fit(f"{page}\n{entry}", SMS_PAGE_BUDGET)
        else:
            pages.append(page)
            page = _fit(entry, SMS_PAGE_BUDGET)
    pages.append(page)
    return Reply(SMS_PAGE_BREAK.join(pages), [])


def sms_address(match: Match) -> str:
    """The address for SMS: a street written in capitals put in title case."""
    place = match.place
    street = place.adresse
    letters = [c for c in street if c.isalpha()]
    if letters and sum(c.isupper() for c in letters) / len(letters) > 0.8:
        street = " ".join(_title_word(word, index == 0) for index, word in enumerate(street.split()))
    town = " ".join(part for part in (place.code_postal, place.commune) if part)
    return ", ".join(part for part in (street, town) if part)


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
        "places": [{**match.place.as_dict(),
                    **place_card(match, result.now, result.phone_alternatives.get(match.place.id)),
                    "distance_km": round(match.km, 3)}
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
