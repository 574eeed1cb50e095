"""Spelling-proof keys for French place names: no accents, no case, no hyphens, 'st' = 'saint'."""

from __future__ import annotations

import re

from bot.text import fold, straight_apostrophes

_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "les": "lez", "les-": "lez"}


def name_key(text: str) -> str:
    """Words of a place name, lowercase, accent-free, 'st' -> 'saint', 'lès'/'les' -> 'lez'."""
    plain = fold(straight_apostrophes(text))
    plain = re.sub(r"[^a-z0-9']+", " ", plain)
    words = [_ABBREVIATIONS.get(word, word) for word in plain.replace("'", " ' ").split()]
    return " ".join(words).replace(" ' ", "'").replace(" '", "'").replace("' ", "'").strip("' ")


def compact_key(text: str) -> str:
    """Letters and digits only: 'Villeneuve-d'Ascq', 'villeneuve dascq' and 'villeneuve d ascq' meet."""
    return re.sub(r"[^a-z0-9]", "", name_key(text))
