"""Proof that a callback number belongs to the person who typed it: a one-time code sent to it by SMS.

Without it, anyone could have the agents call a stranger. An SMS user needs no code: they are called back on the
number they write from. A pending check keeps the number only until it is confirmed or expires (15 minutes).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, Integer, String, Table, delete, insert, select, update
from sqlalchemy.future import Engine

from bot.db import ensure_schema, metadata
from bot.handoff.store import project_engine, utcnow
from bot.security import ratelimit

logger = logging.getLogger(__name__)

CODE_DIGITS = 6
CHECK_MINUTES = 15
MAX_CODE_ATTEMPTS = 3
# Codes sent per conversation and per number: an SMS user cannot be flooded with codes through us.
CODES_PER_CONVERSATION_PER_HOUR = 3
CODES_PER_NUMBER_PER_DAY = 3

phone_checks_table = Table(
    "handoff_phone_checks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("conversation_key", String(64), nullable=False, unique=True),  # keyed hash of the sender id
    Column("phone", String(32), nullable=False),  # E.164, deleted with the row (confirmed, replaced or expired)
    Column("code_hash", String(64), nullable=False),
    Column("salt", String(32), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("expires_at", DateTime, nullable=False, index=True),
)


class CodeLimitError(Exception):
    """Too many codes asked for this conversation or this number."""


@dataclass(frozen=True)
class PendingCheck:
    """A number waiting for its code."""

    phone: str
    attempts: int
    expires_at: datetime


def _conversation_key(sender_id: str) -> str:
    return ratelimit.pseudonymise_key("phone_check", sender_id)


def _hash(code: str, salt: str) -> str:
    return hashlib.sha256(f"{salt}:{code}".encode()).hexdigest()


def new_code() -> str:
    """Six random digits."""
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def verification_text(code: str) -> str:
    """The SMS the number receives (says what to do if the person asked nothing)."""
    return (f"Numécrivain : votre code pour être rappelé(e) est {code}. "
            "Si vous n'avez rien demandé, ignorez ce message : personne ne vous appellera.")


class PhoneChecks:
    """Pending checks in the project database."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or project_engine()
        ensure_schema(self.engine)

    def start(self, sender_id: str, phone: str, now: datetime | None = None) -> str:
        """A new code for this number (replacing any pending one); CodeLimitError past the limits."""
        if not ratelimit.allow("callback_code_conversation", sender_id, CODES_PER_CONVERSATION_PER_HOUR, 3600,
                               engine=self.engine):
            raise CodeLimitError("conversation")
        if not ratelimit.allow("callback_code_number", phone, CODES_PER_NUMBER_PER_DAY, 86400, engine=self.engine):
            raise CodeLimitError("number")
        now = now or utcnow()
        code, salt = new_code(), secrets.token_hex(8)
        key = _conversation_key(sender_id)
        with self.engine.begin() as conn:
            conn.execute(delete(phone_checks_table).where(
                (phone_checks_table.c.conversation_key == key) | (phone_checks_table.c.expires_at < now)))
            conn.execute(insert(phone_checks_table).values(
                conversation_key=key, phone=phone, code_hash=_hash(code, salt), salt=salt, attempts=0,
                expires_at=now + timedelta(minutes=CHECK_MINUTES)))
        return code

    def pending(self, sender_id: str, now: datetime | None = None) -> PendingCheck | None:
        """The number this conversation is confirming, if its check is still valid."""
        now = now or utcnow()
        with self.engine.connect() as conn:
            row = conn.execute(select(phone_checks_table).where(
                phone_checks_table.c.conversation_key == _conversation_key(sender_id),
                phone_checks_table.c.expires_at >= now)).first()
        return PendingCheck(row.phone, row.attempts, row.expires_at) if row else None

    def confirm(self, sender_id: str, code: str, now: datetime | None = None) -> str | None:
        """The confirmed number when the code is right (the check is then deleted); None otherwise.

        After MAX_CODE_ATTEMPTS wrong codes the check is deleted: the person must ask for a new code.
        """
        now = now or utcnow()
        key = _conversation_key(sender_id)
        with self.engine.begin() as conn:
            row = conn.execute(select(phone_checks_table).where(
                phone_checks_table.c.conversation_key == key, phone_checks_table.c.expires_at >= now)).first()
            if row is None:
                return None
            if hmac.compare_digest(_hash(code.strip(), row.salt), row.code_hash):
                conn.execute(delete(phone_checks_table).where(phone_checks_table.c.id == row.id))
                return str(row.phone)
            if row.attempts + 1 >= MAX_CODE_ATTEMPTS:
                conn.execute(delete(phone_checks_table).where(phone_checks_table.c.id == row.id))
            else:
                conn.execute(update(phone_checks_table).where(phone_checks_table.c.id == row.id)
                             .values(attempts=row.attempts + 1))
        return None

    def cancel(self, sender_id: str) -> None:
        """Forget the pending number of this conversation."""
        with self.engine.begin() as conn:
            conn.execute(delete(phone_checks_table).where(
                phone_checks_table.c.conversation_key == _conversation_key(sender_id)))

    def purge_expired(self, now: datetime | None = None) -> int:
        """Delete checks nobody confirmed in time (and their numbers)."""
        with self.engine.begin() as conn:
            result = conn.execute(delete(phone_checks_table).where(phone_checks_table.c.expires_at < (now or utcnow())))
        return int(result.rowcount or 0)


async def send_code_sms(phone: str, code: str) -> bool:
    """Send the code through the configured SMS gateway; False when none is configured or it fails."""
    from bot.channels.sms.channel import default_senders
    from bot.channels.sms.config import SmsConfig
    from bot.channels.sms.senders import SendError

    config = SmsConfig.load()
    senders = default_senders(config)
    sender = senders.get(config.default_gateway) or next(iter(senders.values()), None)
    if sender is None:
        return False
    try:
        await sender.send(phone, verification_text(code))
        return True
    except SendError:
        logger.warning("Callback code not sent (gateway refused).")
        return False
    finally:
        for each in senders.values():
            await each.close()
