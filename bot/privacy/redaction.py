"""Find and mask personal data in what is kept (conversations, transcripts, reports, figures).

One implementation for the whole project. Every pattern runs on RE2 (google-re2): an automaton without
backtracking, so the work grows linearly with the text, whatever a person types. Checksums (NIR key,
IBAN mod 97, Luhn) only choose the label: a long run of digits is masked whether or not it checks out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import re2
import yaml

from bot.paths import PROJECT_ROOT

EMAIL_MASK = "[e-mail masqué]"
PHONE_MASK = "[téléphone masqué]"
NIR_MASK = "[n° de sécurité sociale masqué]"
IBAN_MASK = "[IBAN masqué]"
CARD_MASK = "[n° de carte bancaire masqué]"
TAX_NUMBER_MASK = "[n° fiscal masqué]"
NUMBER_MASK = "[numéro masqué]"
DATE_MASK = "[date masquée]"
POSITION_MASK = "[position masquée]"

MASKS = (EMAIL_MASK, PHONE_MASK, NIR_MASK, IBAN_MASK, CARD_MASK, TAX_NUMBER_MASK, NUMBER_MASK, DATE_MASK,
         POSITION_MASK)

# A run of at least this many digits is personal (CAF allocataire numbers have 7; postcodes 5, years 4).
MIN_DIGITS_IN_RUN = 7

_SEPARATOR = r"[ \x{00a0}\x{202f}.\-]"
_MONTHS = (r"janv(?:ier)?|f[ée]v(?:rier)?|mars|avr(?:il)?|mai|juin|juil(?:let)?|ao[uû]t|sept(?:embre)?"
           r"|oct(?:obre)?|nov(?:embre)?|d[ée]c(?:embre)?")

# Also without a dot after the @: a reply may quote an address cut short ("jean.dupont@exemple.").
EMAIL = re2.compile(r"[\p{L}\p{N}_.+\-]+@[\p{L}\p{N}_\-]+(?:\.[\p{L}\p{N}_\-]*)*")
IBAN = re2.compile(r"(?i)\b[a-z]{2}\d{2}(?:[ \-]?[a-z0-9]{4}){2,7}(?:[ \-]?[a-z0-9]{1,4})?\b")
# Corsican NIR (department 2A or 2B) has letters, so the digit-run rule below cannot see it whole.
NIR_CORSICA = re2.compile(r"(?i)\b[1-478][ .]?\d{2}[ .]?\d{2}[ .]?2[ab][ .]?\d{3}[ .]?\d{3}(?:[ .]?\d{2})?\b")
DATE = re2.compile(
    r"(?i)\b(?:[0-2]?\d|3[01])[/.\- ](?:0?[1-9]|1[0-2])[/.\- ](?:19|20)\d{2}\b"
    rf"|(?i)\b(?:1er|[0-2]?\d|3[01]) (?:{_MONTHS})\.? (?:19|20)\d{{2}}\b"
    r"|\b(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])\b"
)
POSITION_PAIR = re2.compile(r"-?\b\d{1,3}[.,]\d{3,}(?:[ ]{0,3}[,;][ ]{0,3}|[ ]{1,3})-?\d{1,3}[.,]\d{3,}\b")
POSITION_KEYED = re2.compile(r"(?i)\b(lat|latitude|lon|lng|longitude)(\"?[ ]{0,3}[:=][ ]{0,3})-?\d{1,3}(?:[.,]\d+)?")
# Only runs long enough to be masked match at all: no per-match work for the many short numbers of a text.
DIGIT_RUN = re2.compile(rf"(?:\+|\b00)?\d(?:{_SEPARATOR}?\d){{{MIN_DIGITS_IN_RUN - 1},}}")
_YEAR_RANGE = re2.compile(r"(?:19|20)\d{2}[\-/](?:19|20)\d{2}")
_DECIMAL = re2.compile(r"\d{1,3}[.,]\d+")  # 50.63000, 3,5: coordinates of a place, a price, not a person
CONTACTS_FILE = PROJECT_ROOT / "data" / "knowledge" / "contacts.yml"


_public_numbers: frozenset[str] | None = None


def public_numbers() -> frozenset[str]:
    """The digits of the official numbers we give out ourselves (contacts.yml): never masked."""
    global _public_numbers
    if _public_numbers is None:
        try:
            contacts = yaml.safe_load(CONTACTS_FILE.read_text(encoding="utf-8")) or []
        except (OSError, yaml.YAMLError):
            return frozenset()  # not cached: read again next time (a file being edited)
        phones = (str(c.get("phone") or "") for c in contacts if isinstance(c, dict))
        _public_numbers = frozenset(d for d in ("".join(ch for ch in p if ch.isdigit()) for p in phones) if d)
    return _public_numbers


def nir_key_is_valid(nir: str) -> bool:
    """True for 13 characters + a 2-digit key where key = 97 - (number mod 97) (2A → 19, 2B → 18)."""
    compact = "".join(nir.split()).replace(".", "").upper()
    if len(compact) != 15:
        return False
    body = compact[:13].replace("2A", "19", 1) if compact[5:7] == "2A" else compact[:13]
    body = body.replace("2B", "18", 1) if compact[5:7] == "2B" else body
    if not (body.isdigit() and compact[13:].isdigit()):
        return False
    return 97 - int(body) % 97 == int(compact[13:])


def iban_is_valid(iban: str) -> bool:
    """True when the ISO 13616 check (mod 97 of the rearranged number) holds."""
    compact = "".join(c for c in iban if c.isalnum()).upper()
    if not 15 <= len(compact) <= 34 or not compact[:2].isalpha() or not compact[2:4].isdigit():
        return False
    rearranged = compact[4:] + compact[:4]
    return int("".join(str(int(c, 36)) for c in rearranged)) % 97 == 1


def luhn_is_valid(digits: str) -> bool:
    """The Luhn check of payment card numbers."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        value = int(char)
        if position % 2:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return total % 10 == 0


def _iban(match: Any) -> str:
    """IBAN_MASK when the match, or the match less a word or two it swallowed ("… 189 et"), is an IBAN."""
    found = match.group()
    candidate, tail = found, ""
    for _ in range(3):
        if sum(c.isdigit() for c in candidate) >= 8 and iban_is_valid(candidate):
            return IBAN_MASK + tail
        cut = max(candidate.rfind(" "), candidate.rfind("-"))
        if cut <= 4:
            break
        candidate, tail = candidate[:cut], candidate[cut:] + tail
    return found  # not an IBAN: its digits (if many) are masked by the digit-run rule


def _digit_run(match: Any) -> str:
    """Mask a run of digits by what it most likely is; short runs (postcodes, years, prices) are kept."""
    found = match.group()
    digits = "".join(c for c in found if c.isdigit())
    count = len(digits)
    international = found.startswith(("+", "00"))
    if count < MIN_DIGITS_IN_RUN or _DECIMAL.fullmatch(found) or (count == 8 and _YEAR_RANGE.fullmatch(found)):
        return found
    if digits in public_numbers():
        return found
    if international and 8 <= count <= 15:
        return PHONE_MASK
    if count == 10 and digits[0] == "0" and digits[1] != "0":
        return PHONE_MASK
    if count == 15 and digits[0] in "123478" and nir_key_is_valid(digits):
        return NIR_MASK
    if count == 13:
        return TAX_NUMBER_MASK if digits[0] in "0123" else NUMBER_MASK
    if 14 <= count <= 19 and luhn_is_valid(digits):
        return CARD_MASK
    return NUMBER_MASK


def _position_keyed(match: Any) -> str:
    return f"{match.group(1)}{match.group(2)}{POSITION_MASK}"


def _constant(mask: str) -> Callable[[Any], str]:
    """A replacement function: RE2's template replacement mangles non-ASCII text, a function does not."""
    return lambda _match: mask


# Order matters: the shapes with letters or punctuation first, then what is left of the digits.
_RULES: tuple[tuple[Any, Callable[[Any], str]], ...] = (
    (EMAIL, _constant(EMAIL_MASK)),
    (IBAN, _iban),
    (NIR_CORSICA, _constant(NIR_MASK)),
    (DATE, _constant(DATE_MASK)),
    (POSITION_KEYED, _position_keyed),
    (POSITION_PAIR, _constant(POSITION_MASK)),
    (DIGIT_RUN, _digit_run),
)
PATTERNS = tuple(pattern for pattern, _ in _RULES)


def redact_personal_data(text: str, region: str = "FR") -> str:
    """The text with e-mails, phones, NIR, IBAN, cards, tax numbers, long numbers, dates, positions masked."""
    if not text or not isinstance(text, str):
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


def contains_personal_data(text: str) -> bool:
    """True when the text holds personal data, or the mask of some (a message read back from the history)."""
    return any(mask in text for mask in MASKS) or redact_personal_data(text) != text


# Keys whose string values are identifiers we wrote (never typed by a person): left as they are.
TECHNICAL_KEYS = frozenset({
    "event", "timestamp", "message_id", "input_channel", "policy", "intent_name", "action_name", "sender_id",
    "model_id", "assistant_id", "entity", "extractor", "processors", "type",
})
# Keys of a geographic position (the widget sends the browser's position): the value is dropped.
POSITION_KEYS = frozenset({"lat", "latitude", "lon", "lng", "longitude", "accuracy", "altitude"})


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def redact_data(value: Any, key: str | None = None) -> Any:
    """A copy of JSON-like data with every string redacted and every position value dropped."""
    if isinstance(value, str):
        return value if key in TECHNICAL_KEYS else redact_personal_data(value)
    if isinstance(value, Mapping):
        # An entity or a slot named like a position ({"entity": "latitude", "value": 50.6}) loses its value.
        named = value.get("entity") if isinstance(value.get("entity"), str) else value.get("name")
        is_position = isinstance(named, str) and named.lower() in POSITION_KEYS
        clean: dict[Any, Any] = {}
        for item_key, item in value.items():
            lowered = item_key.lower() if isinstance(item_key, str) else item_key
            position_value = lowered in POSITION_KEYS and (_is_number(item) or isinstance(item, str))
            if position_value or (is_position and lowered in ("value", "text")):
                clean[item_key] = None
            else:
                clean[item_key] = redact_data(item, item_key if isinstance(item_key, str) else None)
        return clean
    if isinstance(value, list | tuple):
        return [redact_data(item, key) for item in value]
    return value
