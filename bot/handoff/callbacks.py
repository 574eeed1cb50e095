"""Callback requests: a French phone number kept only until an agent has called back (then deleted)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import phonenumbers
from sqlalchemy import Column, DateTime, Integer, String, Table, delete, func, insert, select
from sqlalchemy.future import Engine

from bot.db import ensure_schema, metadata
from bot.handoff.store import project_engine, utcnow

callbacks_table = Table(
    "handoff_callbacks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("phone", String(32), nullable=False),  # E.164; deleted with the row once called back
    Column("consent_at", DateTime, nullable=False),
    Column("channel", String(64)),
    Column("commune", String(128)),
    Column("topic", String(128)),
    Column("created_at", DateTime, nullable=False),
)

# What the service figures need once the number is gone: when it was asked, when it was done, which channel.
callback_outcomes_table = Table(
    "handoff_callback_outcomes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("channel", String(64)),
    Column("requested_at", DateTime, nullable=False),
    Column("done_at", DateTime, nullable=False),
)

_CALLABLE_TYPES = {
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    phonenumbers.PhoneNumberType.VOIP,
}


class InvalidPhoneNumberError(ValueError):
    """Not a French number we can call (never carries the number itself)."""


def normalise_french_phone(text: str) -> str:
    """The number in E.164 (+33...), or InvalidPhoneNumberError; premium and short numbers are refused."""
    if not text or len(text) > 40:
        raise InvalidPhoneNumberError("length")
    try:
        number = phonenumbers.parse(text, "FR")
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhoneNumberError("unparsable") from exc
    if not phonenumbers.is_valid_number(number) or phonenumbers.region_code_for_number(number) != "FR":
        raise InvalidPhoneNumberError("not a valid French number")
    if phonenumbers.number_type(number) not in _CALLABLE_TYPES:
        raise InvalidPhoneNumberError("not callable")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def masked(phone_e164: str) -> str:
    """What may appear in a conversation or a log: only the last two digits."""
    return "•• •• •• •• " + phone_e164[-2:]


def national(phone_e164: str) -> str:
    """The number as an agent dials it: 06 12 34 56 78."""
    return phonenumbers.format_number(phonenumbers.parse(phone_e164, "FR"), phonenumbers.PhoneNumberFormat.NATIONAL)


@dataclass(frozen=True)
class Callback:
    """A user to call back."""

    id: int
    phone: str
    consent_at: datetime
    channel: str | None
    commune: str | None
    topic: str | None
    created_at: datetime


class CallbackBook:
    """The list of callbacks; a done callback is deleted with its number."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or project_engine()
        ensure_schema(self.engine)

    def add(
        self, phone_text: str, channel: str | None, commune: str | None, topic: str | None,
        now: datetime | None = None,
    ) -> Callback:
        """Record a callback with consent given now; InvalidPhoneNumberError when the number is not usable."""
        phone = normalise_french_phone(phone_text)
        now = now or utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(callbacks_table).values(
                    phone=phone, consent_at=now, channel=channel, commune=commune, topic=topic, created_at=now
                )
            )
            callback_id = result.inserted_primary_key[0]
        return Callback(callback_id, phone, now, channel, commune, topic, now)

    def pending(self) -> list[Callback]:
        """Callbacks to make, oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(callbacks_table).order_by(callbacks_table.c.created_at, callbacks_table.c.id))
            return [Callback(**dict(row._mapping)) for row in rows]

    def pending_count(self) -> int:
        """How many callbacks are waiting (cheap: no numbers read)."""
        with self.engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(callbacks_table)).scalar_one())

    def done(self, callback_id: int, now: datetime | None = None) -> bool:
        """The agent called back: delete the number, keep only when (for the figures). False when already gone."""
        with self.engine.begin() as conn:
            row = conn.execute(select(callbacks_table.c.channel, callbacks_table.c.created_at)
                               .where(callbacks_table.c.id == callback_id)).first()
            result = conn.execute(delete(callbacks_table).where(callbacks_table.c.id == callback_id))
            if result.rowcount == 1 and row is not None:
                conn.execute(insert(callback_outcomes_table).values(
                    channel=row.channel, requested_at=row.created_at, done_at=now or utcnow()))
        return result.rowcount == 1
