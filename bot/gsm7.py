"""GSM 03.38 (GSM-7) text: check, transliterate and count SMS segments without switching to UCS-2."""

from __future__ import annotations

import math
import unicodedata

import gsm0338  # noqa: F401  (registers the "gsm03.38" codec)

CODEC = "gsm03.38"
SINGLE_SEGMENT_SEPTETS = 160
MULTI_SEGMENT_SEPTETS = 153

# French characters outside GSM-7, and typographic signs, mapped to their closest GSM-7 form.
_FRENCH_FALLBACKS = {
    "ê": "e", "ë": "e", "â": "a", "î": "i", "ï": "i", "ô": "o", "û": "u", "ç": "c", "œ": "oe",
    "Œ": "OE", "Ê": "E", "Ë": "E", "È": "E", "Â": "A", "À": "A", "Î": "I", "Ï": "I", "Ô": "O",
    "Û": "U", "Ù": "U", "’": "'", "‘": "'", "«": '"', "»": '"', "“": '"', "”": '"', "…": "...",
    "–": "-", "—": "-", "\u00a0": " ", "\u202f": " ", "€": "€", "•": "-", "·": "-",
}


def is_gsm7(text: str) -> bool:
    """True when the text can be sent in GSM-7 (no silent switch to 70-character UCS-2 segments)."""
    try:
        text.encode(CODEC)
    except (UnicodeEncodeError, ValueError):
        return False
    return True


def septets(text: str) -> int:
    """Number of 7-bit septets the text takes (extension characters such as € count twice)."""
    return len(text.encode(CODEC))


def segment_count(text: str) -> int:
    """Number of SMS segments a GSM-7 text needs (160 septets alone, 153 each when concatenated)."""
    size = septets(text)
    if size <= SINGLE_SEGMENT_SEPTETS:
        return 1
    return math.ceil(size / MULTI_SEGMENT_SEPTETS)


def to_gsm7(text: str) -> str:
    """Transliterate text to GSM-7, keeping the accents GSM-7 has (é è à ù) and folding the others."""
    out: list[str] = []
    for char in text:
        if char in _FRENCH_FALLBACKS:
            out.append(_FRENCH_FALLBACKS[char])
        elif is_gsm7(char):
            out.append(char)
        else:
            decomposed = unicodedata.normalize("NFKD", char)
            base = "".join(c for c in decomposed if not unicodedata.combining(c))
            if base and is_gsm7(base):
                out.append(base)
            elif unicodedata.category(char).startswith(("S", "C")):
                continue  # emoji, symbols and control characters carry no words: drop them
            else:
                out.append(" " if not char.strip() else "?")
    return "".join(out)
