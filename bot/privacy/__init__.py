"""Privacy by design: redaction of what is stored, retention and purge, export and erasure of one person's data.

    python -m bot.privacy purge                      # apply the retention periods now
    python -m bot.privacy export --conversation ID   # or --phone NUMBER: one person's data as JSON
    python -m bot.privacy erase --phone NUMBER       # or --conversation ID: delete it everywhere
"""

from bot.privacy.redaction import (
    CARD_MASK,
    DATE_MASK,
    EMAIL_MASK,
    IBAN_MASK,
    MASKS,
    NIR_MASK,
    NUMBER_MASK,
    PHONE_MASK,
    POSITION_MASK,
    TAX_NUMBER_MASK,
    contains_personal_data,
    redact_data,
    redact_personal_data,
)

__all__ = [
    "CARD_MASK",
    "DATE_MASK",
    "EMAIL_MASK",
    "IBAN_MASK",
    "MASKS",
    "NIR_MASK",
    "NUMBER_MASK",
    "PHONE_MASK",
    "POSITION_MASK",
    "TAX_NUMBER_MASK",
    "contains_personal_data",
    "redact_data",
    "redact_personal_data",
]
