"""Folding of French text for matching: one way to ignore accents, case, ligatures and curly apostrophes.

The NLU's linear classifier builds its features with `fold`: changing it changes what a trained model sees.
"""

from __future__ import annotations

import re
import unicodedata

_LIGATURES = str.maketrans({"œ": "oe", "Œ": "OE", "æ": "ae", "Æ": "AE", "ß": "ss"})
_APOSTROPHES = str.maketrans({"’": "'", "ʼ": "'"})
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def strip_accents(text: str) -> str:
    """The text without diacritics (é -> e), with ligatures spelt out (œ -> oe), case kept."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_LIGATURES))
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str) -> str:
    """Lower case, ligatures spelt out, accents removed: "Écrit ŒUVRE" -> "ecrit oeuvre"."""
    return strip_accents(text.lower())


def straight_apostrophes(text: str) -> str:
    """Typographic apostrophes (’ ʼ) as the keyboard's ': people type both."""
    return text.translate(_APOSTROPHES)


def plain_words(text: str) -> str:
    """Folded words of letters and digits, one space apart: "L'aide, à 16 ans !" -> "l aide a 16 ans"."""
    return " ".join(_NOT_WORD.sub(" ", fold(text)).split())
