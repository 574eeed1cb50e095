"""Phone numbers become conversation keys only through a keyed hash, so trackers and logs never hold them."""

from __future__ import annotations

import hashlib
import hmac
import re

import phonenumbers

PREFIX = "sms-"
DEFAULT_REGION = "FR"


def normalise_number(raw: str, region: str = DEFAULT_REGION) -> str:
    """The number in E.164 (+33612345678) so that 06 12 34 56 78 and +33612345678 are one person."""
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_possible_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    digits = re.sub(r"[^0-9+]", "", raw)
    return digits or raw.strip()


def pseudonymise(raw_number: str, pepper: str) -> str:
    """The conversation key of a phone number: HMAC-SHA256 with a secret pepper, never reversible."""
    if not pepper:
        raise ValueError("the SMS pepper must not be empty")
    number = normalise_number(raw_number)
    digest = hmac.new(pepper.encode(), number.encode(), hashlib.sha256).hexdigest()
    return f"{PREFIX}{digest[:32]}"


def is_sms_sender(sender_id: str) -> bool:
    """True for conversation keys made by pseudonymise()."""
    return bool(re.fullmatch(rf"{PREFIX}[0-9a-f]{{32}}", sender_id or ""))
