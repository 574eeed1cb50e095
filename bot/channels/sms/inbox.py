"""The durable SMS inbox: an accepted SMS is a committed row before the webhook answers, so no process loses it.

A row's life: `received` (accepted, waiting for the rest of the message), `processing` (its conversation turn is
running), `answered` (the reply went to the sender, or none was due: STOP, hourly limit); `failed` after
MAX_ATTEMPTS recoveries (logged, never retried forever). The process that accepts or recovers a row holds it:
`claimed_by` names the process, `claimed_at` is a lease the holder renews while it works. A row whose lease has
run out (its process was killed) is claimed again by another process, or by the same one restarted, with one
UPDATE ... WHERE on that row: on SQLite and PostgreSQL alike, two processes can never both claim it.

Privacy: the sender is the pseudonym (the number needed to reply stays in sms_contacts); the text is encrypted at
rest (Fernet, a key derived from the SMS pepper every process shares: a database file or backup does not show
it) and emptied as soon as the row is answered; the row itself (the hashed provider id, which refuses a retried
webhook) is deleted after SEEN_RETENTION by the purge (bot/privacy/retention.py).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import Column, DateTime, Index, Integer, String, Table, Text, insert, or_, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.future import Engine

from bot.db import ensure_schema, metadata

logger = logging.getLogger(__name__)

sms_inbox = Table(
    "sms_inbox",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("message_key", String(64), nullable=False, unique=True),  # sha256 of the provider's message id
    Column("pseudonym", String(40), nullable=False, index=True),
    Column("gateway", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("received_at", DateTime, nullable=False),  # the gateway's time: parts are joined in this order
    Column("accepted_at", DateTime, nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("claimed_by", String(64), nullable=True),
    Column("claimed_at", DateTime, nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("answered_at", DateTime, nullable=True),
)
# Recovery looks rows up by state and lease.
Index("ix_sms_inbox_state_claimed_at", sms_inbox.c.state, sms_inbox.c.claimed_at)

RECEIVED, PROCESSING, ANSWERED, FAILED = "received", "processing", "answered", "failed"
PENDING_STATES = (RECEIVED, PROCESSING)
FINISHED_STATES = (ANSWERED, FAILED)
DEFAULT_LEASE = timedelta(seconds=30)
# A row recovered this many times (its turn crashes every process that tries it) is given up, loudly.
MAX_ATTEMPTS = 5
# How many expired rows one recovery pass takes (the others wait for the next pass).
RECOVERY_BATCH = 200


def message_key(provider_key: str) -> str:
    """What the inbox keeps of a provider's message id: its hash (a random one when the provider gave none)."""
    return hashlib.sha256((provider_key or f"no-id:{secrets.token_hex(16)}").encode()).hexdigest()


def text_cipher(pepper: str) -> Fernet:
    """The key of the inbox texts, derived from the SMS pepper (the same in every process, never stored)."""
    if not pepper:
        raise ValueError("the SMS pepper must not be empty")
    key = hmac.new(pepper.encode(), b"numecrivain sms inbox text", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(key))


def process_name() -> str:
    """This process's name in claimed_by: host, pid and a random part (a restarted process is another one)."""
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{secrets.token_hex(4)}"


@dataclass(frozen=True)
class InboxRow:
    """One held SMS, as the service needs it (no phone number: the contact has it)."""

    id: int
    message_key: str
    pseudonym: str
    gateway: str
    text: str
    received_at: datetime
    state: str
    attempts: int


class SmsInbox:
    """Synchronous access to the inbox for one process (`owner`); the service calls it from worker threads."""

    def __init__(self, engine: Engine, pepper: str, owner: str | None = None,
                 lease: timedelta = DEFAULT_LEASE) -> None:
        self.engine = ensure_schema(engine)
        self.cipher = text_cipher(pepper)
        self.owner = owner or process_name()
        self.lease = lease

    def _row(self, row: Row) -> InboxRow:
        return InboxRow(id=row.id, message_key=row.message_key, pseudonym=row.pseudonym, gateway=row.gateway,
                        text=self._decrypt(row.text), received_at=row.received_at, state=row.state,
                        attempts=row.attempts)

    def _decrypt(self, stored: str) -> str:
        if not stored:
            return ""
        try:
            return self.cipher.decrypt(stored.encode()).decode()
        except InvalidToken:  # written under another pepper: unreadable, answered as an empty message
            logger.error("SMS inbox: a text cannot be decrypted (was NUMECRIVAIN_SMS_PEPPER changed?)")
            return ""

    def accept(self, provider_key: str, pseudonym: str, gateway: str, text: str, received_at: datetime,
               now: datetime) -> InboxRow | None:
        """Store one SMS, held by this process; None when this provider id is already in (a retried webhook)."""
        key = message_key(provider_key)
        values = {"message_key": key, "pseudonym": pseudonym, "gateway": gateway,
                  "text": self.cipher.encrypt(text.encode()).decode(),
                  "received_at": received_at, "accepted_at": now, "state": RECEIVED, "claimed_by": self.owner,
                  "claimed_at": now, "attempts": 0}
        try:
            with self.engine.begin() as conn:
                row_id = conn.execute(insert(sms_inbox).values(**values)).inserted_primary_key[0]
        except IntegrityError:
            return None
        return InboxRow(id=int(row_id), message_key=key, pseudonym=pseudonym, gateway=gateway, text=text,
                        received_at=received_at, state=RECEIVED, attempts=0)

    def take_for_turn(self, pseudonym: str, now: datetime) -> list[InboxRow]:
        """This process's received rows of one conversation, now `processing`, oldest first (the parts to join)."""
        with self.engine.begin() as conn:
            ids = [row.id for row in conn.execute(
                select(sms_inbox.c.id).where(sms_inbox.c.pseudonym == pseudonym, sms_inbox.c.state == RECEIVED,
                                             sms_inbox.c.claimed_by == self.owner))]
            if not ids:
                return []
            conn.execute(update(sms_inbox).where(sms_inbox.c.id.in_(ids), sms_inbox.c.state == RECEIVED,
                                                 sms_inbox.c.claimed_by == self.owner)
                         .values(state=PROCESSING, claimed_at=now))
            rows = conn.execute(select(sms_inbox).where(sms_inbox.c.id.in_(ids), sms_inbox.c.state == PROCESSING,
                                                        sms_inbox.c.claimed_by == self.owner)).all()
        return sorted((self._row(row) for row in rows), key=lambda row: (row.received_at, row.id))

    def mark_answered(self, ids: list[int], now: datetime) -> int:
        """The reply was handed to the sender (or none was due): done; the text is forgotten at once."""
        if not ids:
            return 0
        with self.engine.begin() as conn:
            return int(conn.execute(
                update(sms_inbox).where(sms_inbox.c.id.in_(ids), sms_inbox.c.claimed_by == self.owner,
                                        sms_inbox.c.state.in_(PENDING_STATES))
                .values(state=ANSWERED, text="", answered_at=now)).rowcount)

    def release(self, ids: list[int]) -> None:
        """Let go of rows whose turn failed here: the lease runs out and a recovery pass tries them again."""
        if not ids:
            return
        with self.engine.begin() as conn:
            conn.execute(update(sms_inbox).where(sms_inbox.c.id.in_(ids), sms_inbox.c.claimed_by == self.owner,
                                                 sms_inbox.c.state.in_(PENDING_STATES))
                         .values(claimed_by=None))

    def renew(self, ids: list[int], now: datetime) -> int:
        """Renew the lease of the rows this process still works on (a slow turn is not taken over)."""
        renewed = 0
        with self.engine.begin() as conn:
            for start in range(0, len(ids), 500):
                renewed += int(conn.execute(
                    update(sms_inbox).where(sms_inbox.c.id.in_(ids[start:start + 500]),
                                            sms_inbox.c.claimed_by == self.owner,
                                            sms_inbox.c.state.in_(PENDING_STATES))
                    .values(claimed_at=now)).rowcount)
        return renewed

    def claim_expired(self, now: datetime) -> list[InboxRow]:
        """Take over rows whose lease ran out (their process died), each with one conditional UPDATE.

        They come back `received`, held by this process, for the service to process as if just accepted. A row
        tried MAX_ATTEMPTS times is marked `failed` instead.
        """
        cutoff = now - self.lease
        expired = or_(sms_inbox.c.claimed_at.is_(None), sms_inbox.c.claimed_at < cutoff)
        with self.engine.connect() as conn:
            candidates = conn.execute(
                select(sms_inbox.c.id, sms_inbox.c.attempts)
                .where(sms_inbox.c.state.in_(PENDING_STATES), expired)
                .order_by(sms_inbox.c.id).limit(RECOVERY_BATCH)).all()
        claimed: list[InboxRow] = []
        for candidate in candidates:
            given_up = candidate.attempts + 1 >= MAX_ATTEMPTS
            values: dict[str, object] = (
                {"state": FAILED, "text": "", "claimed_by": self.owner, "claimed_at": now, "answered_at": now}
                if given_up else {"state": RECEIVED, "claimed_by": self.owner, "claimed_at": now})
            with self.engine.begin() as conn:
                won = conn.execute(
                    update(sms_inbox).where(sms_inbox.c.id == candidate.id, sms_inbox.c.state.in_(PENDING_STATES),
                                            expired)
                    .values(attempts=sms_inbox.c.attempts + 1, **values)).rowcount == 1
                if won and not given_up:
                    row = conn.execute(select(sms_inbox).where(sms_inbox.c.id == candidate.id)).one()
                    claimed.append(self._row(row))
        return claimed

    def states(self, pseudonym: str | None = None) -> dict[str, int]:
        """How many rows are in each state (tests, the load check, monitoring)."""
        query = select(sms_inbox.c.state)
        if pseudonym is not None:
            query = query.where(sms_inbox.c.pseudonym == pseudonym)
        counts: dict[str, int] = {}
        with self.engine.connect() as conn:
            for (state,) in conn.execute(query):
                counts[state] = counts.get(state, 0) + 1
        return counts
