"""Mask personal data (phone numbers, e-mail addresses) in text that is kept: histories, reports."""

from __future__ import annotations

import re

import phonenumbers

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE_MASK = "[téléphone masqué]"
EMAIL_MASK = "[e-mail masqué]"


def redact_personal_data(text: str, region: str = "FR") -> str:
    """The text with every phone number and e-mail address replaced by a mask."""
    if not text:
        return text
    matches = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.POSSIBLE)
    spans = [(match.start, match.end) for match in matches]
    for start, end in reversed(spans):
        text = text[:start] + PHONE_MASK + text[end:]
    return EMAIL.sub(EMAIL_MASK, text)
