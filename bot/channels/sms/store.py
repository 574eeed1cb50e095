"""SMS state in the project database: who may be written to (STOP), last menu, pages left, traffic counters."""

from __future__ import annotations

import contextlib
import hashlib
import json
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Table, Text, delete, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import IntegrityError
from sqlalchemy.future import Engine

from bot.db import ensure_schema, get_engine, metadata

# pseudonym -> clear number: the only place the number is kept, because replies must reach it; emptied at STOP
# (the row stays, pseudonymous, so that STOP is honoured) and the whole row is purged after a long silence.
sms_contacts = Table(
    "sms_contacts",
    metadata,
    Column("pseudonym", String(40), primary_key=True),
    Column("phone", String(32), nullable=False),
    Column("gateway", String(16), nullable=False),
    Column("subscribed", Boolean, nullable=False, default=True),
    Column("menu", Text, nullable=False, default="{}"),
    Column("pending_pages", Text, nullable=False, default="[]"),
    Column("limit_notice_at", DateTime, nullable=True),
    Column("created_at", DateTime, nullable=False),
    Column("updated_at", DateTime, nullable=False),
)

# One row per SMS received or sent, without content: the rate limits count them.
sms_traffic = Table(
    "sms_traffic",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pseudonym", String(40), nullable=False, index=True),
    Column("direction", String(3), nullable=False),
    Column("segments", Integer, nullable=False, default=1),
    Column("at", DateTime, nullable=False, index=True),
)

# Hashes of webhook signatures already accepted (a replayed webhook is refused); message ids: sms_inbox.
sms_seen_messages = Table(
    "sms_seen_messages",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("at", DateTime, nullable=False, index=True),
)

INBOUND, OUTBOUND = "in", "out"
NO_NUMBER = ""  # what the phone column holds once the person has sent STOP
UNSUBSCRIBED_NUMBER_MEMORY = timedelta(minutes=10)
TRAFFIC_RETENTION = timedelta(days=2)
SEEN_RETENTION = timedelta(days=7)


@dataclass(frozen=True)
class Contact:
    """One SMS correspondent, known by pseudonym; `phone` is used only to send."""

    pseudonym: str
    phone: str = field(repr=False)
    gateway: str
    subscribed: bool
    menu: dict[str, str]
    pending_pages: tuple[str, ...]
    limit_notice_at: datetime | None


def _contact(row: Row) -> Contact:
    return Contact(
        pseudonym=row.pseudonym,
        phone=row.phone,
        gateway=row.gateway,
        subscribed=bool(row.subscribed),
        menu=json.loads(row.menu or "{}"),
        pending_pages=tuple(json.loads(row.pending_pages or "[]")),
        limit_notice_at=row.limit_notice_at,
    )


class SmsStore:
    """Synchronous access to the SMS tables (the channel calls it from a worker thread)."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or get_engine()
        ensure_schema(self.engine)
        # Numbers of unsubscribed people who just wrote, in memory only: START needs it to answer.
        self._unsubscribed_numbers: dict[str, tuple[str, datetime]] = {}

    def get_contact(self, pseudonym: str) -> Contact | None:
        """The contact with this pseudonym, or None (unknown to the channel)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(sms_contacts).where(sms_contacts.c.pseudonym == pseudonym)).first()
        return _contact(row) if row else None

    def upsert_contact(self, pseudonym: str, phone: str, gateway: str, now: datetime) -> Contact:
        """Remember how to reach this pseudonym; after STOP the number is not stored again (only held briefly)."""
        with self.engine.begin() as conn:
            found = conn.execute(
                update(sms_contacts)
                .where(sms_contacts.c.pseudonym == pseudonym, sms_contacts.c.subscribed.is_(True))
                .values(phone=phone, gateway=gateway, updated_at=now)
            ).rowcount
            if not found:
                found = conn.execute(
                    update(sms_contacts).where(sms_contacts.c.pseudonym == pseudonym)
                    .values(phone=NO_NUMBER, gateway=gateway, updated_at=now)
                ).rowcount
                if found:
                    self._remember_unsubscribed_number(pseudonym, phone, now)
            if not found:
                with contextlib.suppress(IntegrityError):  # created meanwhile by a concurrent webhook
                    conn.execute(insert(sms_contacts).values(
                        pseudonym=pseudonym, phone=phone, gateway=gateway, subscribed=True, menu="{}",
                        pending_pages="[]", created_at=now, updated_at=now,
                    ))
        contact = self.get_contact(pseudonym)
        assert contact is not None
        if not contact.subscribed:
            return replace(contact, phone=phone)  # the caller may still confirm STOP to this number
        return contact

    def set_subscribed(self, pseudonym: str, subscribed: bool, now: datetime) -> None:
        """STOP (False) forgets the number, the menu and the pages left; START (True) takes the number back."""
        values: dict[str, object] = {"subscribed": subscribed, "updated_at": now}
        if not subscribed:
            values.update(phone=NO_NUMBER, menu="{}", pending_pages="[]")
        else:
            phone = self._unsubscribed_numbers.pop(pseudonym, (None, now))[0]
            if phone:
                values["phone"] = phone
        with self.engine.begin() as conn:
            conn.execute(update(sms_contacts).where(sms_contacts.c.pseudonym == pseudonym).values(**values))

    def _remember_unsubscribed_number(self, pseudonym: str, phone: str, now: datetime) -> None:
        """Hold the number of an unsubscribed person in memory for a few minutes, in case they wrote START."""
        self._unsubscribed_numbers = {
            key: (number, at) for key, (number, at) in self._unsubscribed_numbers.items()
            if now - at < UNSUBSCRIBED_NUMBER_MEMORY
        }
        self._unsubscribed_numbers[pseudonym] = (phone, now)

    def save_reply_state(self, pseudonym: str, menu: dict[str, str] | None, pending: list[str], now: datetime) -> None:
        """Remember the last menu (None keeps the previous one) and the pages PLUS will send."""
        values: dict[str, object] = {"pending_pages": json.dumps(pending, ensure_ascii=False), "updated_at": now}
        if menu is not None:
            values["menu"] = json.dumps(menu)
        with self.engine.begin() as conn:
            conn.execute(update(sms_contacts).where(sms_contacts.c.pseudonym == pseudonym).values(**values))

    def pop_next_page(self, pseudonym: str, now: datetime) -> str | None:
        """The next page of the last long reply, removed from the waiting list; None when nothing is left."""
        with self.engine.begin() as conn:
            row = conn.execute(
                select(sms_contacts.c.pending_pages).where(sms_contacts.c.pseudonym == pseudonym)
            ).first()
            pages = json.loads(row.pending_pages) if row else []
            if not pages:
                return None
            conn.execute(update(sms_contacts).where(sms_contacts.c.pseudonym == pseudonym).values(
                pending_pages=json.dumps(pages[1:], ensure_ascii=False), updated_at=now))
        return pages[0]

    def mark_limit_notice(self, pseudonym: str, now: datetime) -> None:
        """Remember that the 'too many messages' notice was sent, so it is sent once per hour."""
        with self.engine.begin() as conn:
            conn.execute(update(sms_contacts).where(sms_contacts.c.pseudonym == pseudonym)
                         .values(limit_notice_at=now))

    def record_traffic(self, pseudonym: str, direction: str, segments: int, now: datetime) -> None:
        """Count one SMS (content is never stored); old rows are dropped on the way."""
        with self.engine.begin() as conn:
            conn.execute(insert(sms_traffic).values(pseudonym=pseudonym, direction=direction,
                                                     segments=segments, at=now))
            conn.execute(delete(sms_traffic).where(sms_traffic.c.at < now - TRAFFIC_RETENTION))

    def count_traffic(self, direction: str, since: datetime, pseudonym: str | None = None) -> int:
        """SMS of one direction since a moment, for one pseudonym or for everyone."""
        query = select(func.count()).select_from(sms_traffic).where(
            sms_traffic.c.direction == direction, sms_traffic.c.at >= since)
        if pseudonym is not None:
            query = query.where(sms_traffic.c.pseudonym == pseudonym)
        with self.engine.connect() as conn:
            return int(conn.execute(query).scalar_one())

    def first_time_seen(self, message_key: str, now: datetime) -> bool:
        """True the first time a gateway message id is seen (stored hashed), False for a retry or replay."""
        key = hashlib.sha256(message_key.encode()).hexdigest()
        with self.engine.begin() as conn:
            conn.execute(delete(sms_seen_messages).where(sms_seen_messages.c.at < now - SEEN_RETENTION))
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(sms_seen_messages).values(key=key, at=now))
        except IntegrityError:
            return False
        return True
