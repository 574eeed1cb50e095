"""Understand what kind of help and which opening time a sentence asks for."""

from __future__ import annotations

import re

from bot.places.model import Need
from bot.places.search import SearchCriteria
from bot.text import fold, straight_apostrophes

_NEED_PATTERNS: dict[Need, re.Pattern[str]] = {
    Need.COMPUTER_ACCESS: re.compile(
        r"libre[- ]acces|libre service|ordinateur|\bordi\b|\bpc\b|imprim|photocop|scanner|\bwifi\b|wi-fi|"
        r"acces (a )?internet|internet gratuit|poste informatique|cyber"),
    Need.LEARNING: re.compile(r"apprendre|formation|\batelier|\bcours\b|initiation|debutant|m'initier|me former"),
    Need.PROCEDURES: re.compile(r"demarche|papiers|dossier|\bcaf\b|impots|ameli|retraite|aidants? connect"),
    Need.FRANCE_SERVICES: re.compile(r"france services?|maison de services|\bmsap\b"),
    Need.DEAFNESS: re.compile(r"\bsourde?s?\b|surdite|malentendant|\blsf\b|langue des signes"),
    Need.VISUAL_IMPAIRMENT: re.compile(r"aveugle|malvoyant|mal voyant|deficien(?:ce|ces|t|te|ts|tes)? visuel|braille"),
    Need.FOREIGN_LANGUAGES: re.compile(
        r"etranger|anglais|english|traduct|interprete|(ne )?parle pas (bien )?(le )?francais|arabe|"
        r"\bautres? langues?\b|langue etrangere"),
    Need.ILLITERACY: re.compile(r"illettr|analphab|\blire\b|lecture|ne sai[st] pas (bien )?ecrire"),
}
# "apprendre l'ordinateur" asks for lessons, not for a computer: only these words ask for access too.
_ACCESS_WORDS = re.compile(r"libre[- ]acces|libre service|imprim|photocop|scanner|\bwifi\b|wi-fi|internet gratuit|"
                           r"poste informatique|cyber")
_NOW = re.compile(r"maintenant|tout de suite|en ce moment|actuellement|ouvert(e|s|es)? (a cette heure|la)")
# "c quoi les horaires", "heures d'ouverture", "c'est ouvert quand", "quels jours": the week, not only today.
_WEEK_HOURS = re.compile(r"\bhoraires?\b|heures? d'ouverture|ouvert(e|s|es)? quand|quels? jours?|"
                         r"quand (est-ce que )?(c'est |il est |elle est )?ouvert")
_DAYS = {"lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3, "vendredi": 4, "samedi": 5, "dimanche": 6,
         "week-end": 5, "weekend": 5, "week end": 5}
_DAY = re.compile(r"\b(" + "|".join(map(re.escape, _DAYS)) + r")s?\b")


def criteria_from_text(text: str) -> SearchCriteria:
    """Needs and opening time asked for in a French sentence ('ordinateur en libre accès ouvert samedi')."""
    plain = fold(straight_apostrophes(text or ""))
    needs = {need for need, pattern in _NEED_PATTERNS.items() if pattern.search(plain)}
    if Need.LEARNING in needs and not _ACCESS_WORDS.search(plain):
        needs.discard(Need.COMPUTER_ACCESS)
    if Need.DEAFNESS in needs:
        needs.discard(Need.FOREIGN_LANGUAGES)  # "langue des signes" is not a foreign language
    day = _DAY.search(plain)
    return SearchCriteria(
        needs=frozenset(needs),
        open_now=bool(_NOW.search(plain)),
        open_on=_DAYS[day.group(1)] if day else None,
        week_hours=bool(_WEEK_HOURS.search(plain)),
    )
