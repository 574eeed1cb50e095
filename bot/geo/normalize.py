"""Spelling-proof keys for French place names: no accents, no case, no hyphens, 'st' = 'saint'."""

from __future__ import annotations

import re
import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'", "ʼ": "'"})
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "les": "lez", "les-": "lez"}


def strip_accents(text: str) -> str:
    """The text without diacritics (é -> e) and with œ/æ spelled out."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def name_key(text: str) -> str:
    """Words of a place name, lowercase, accent-free, 'st' -> 'saint', 'lès'/'les' -> 'lez'."""
    plain = strip_accents(text).lower()
    plain = re.sub(r"[^a-z0-9']+", " ", plain)
    words = [_ABBREVIATIONS.get(word, word) for word in plain.replace("'", " ' ").split()]
    return " ".join(words).replace(" ' ", "'").replace(" '", "'").replace("' ", "'").strip("' ")


def compact_key(text: str) -> str:
    """Letters and digits only: 'Villeneuve-d'Ascq', 'villeneuve dascq' and 'villeneuve d ascq' meet."""
    return re.sub(r"[^a-z0-9]", "", name_key(text))
