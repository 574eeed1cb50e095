"""The persistent handoff queue: requests, agent messages (outbox) and their life cycle in the project database.

Every state change is one conditional UPDATE, so two agents (or an agent and the watchdog) never both win.
Times are naive UTC datetimes (portable between SQLite and PostgreSQL).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    func,
    insert,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy import text as sql
from sqlalchemy.engine import Row
from sqlalchemy.future import Engine

from bot.db import ensure_schema, get_engine, metadata

WAITING, TAKEN, CLOSED, EXPIRED = "waiting", "taken", "closed", "expired"
OPEN_STATUSES = (WAITING, TAKEN)

# Why a conversation went back to the bot.
CLOSED_BY_AGENT, WAIT_TIMEOUT, IDLE_TIMEOUT, USER_LEFT = "agent", "wait_timeout", "idle_timeout", "user_left"

# Delivery of a message to the user's channel.
PUSHED, OUTBOX, PENDING, FAILED = "pushed", "outbox", "pending", "failed"
NOTICE = "notice"  # author of a service message that is neither an agent's words nor the bot's goodbye
REFUSED = "refused"  # the channel will never deliver it (e.g. the person sent STOP by SMS): not retried

requests_table = Table(
    "handoff_requests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(128), nullable=False),
    Column("channel", String(64), nullable=False),
    Column("commune", String(128)),
    Column("topic", String(128)),
    Column("transcript", Text, nullable=False, default="[]"),
    Column("status", String(16), nullable=False, default=WAITING),
    Column("agent_name", String(64)),
    Column("outbox_key", String(64), nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("taken_at", DateTime),
    Column("last_activity_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
    Column("close_reason", String(32)),
    Column("resumed_at", DateTime),
    # What agents see and put in URLs: random, so ids cannot be enumerated (the integer id stays internal).
    Column("public_id", String(32), unique=True),
    Column("agent_display_name", String(64)),  # what the user reads; agent_name (the login) never leaves the team
    Column("client_key", String(64)),  # keyed hash of the address that asked (per-address cap), never the address
)
# At most one open request per conversation (SQLite and PostgreSQL both have partial indexes).
Index(
    "uq_handoff_open_sender",
    requests_table.c.sender_id,
    unique=True,
    sqlite_where=requests_table.c.status.in_(OPEN_STATUSES),
    postgresql_where=requests_table.c.status.in_(OPEN_STATUSES),
)
Index("ix_handoff_requests_status", requests_table.c.status, requests_table.c.requested_at)

messages_table = Table(
    "handoff_messages",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("handoff_requests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("author", String(16), nullable=False),  # "agent" or "system"
    Column("agent_name", String(64)),
    Column("text", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("delivery", String(16), nullable=False, default=PENDING),
    Column("attempts", Integer, nullable=False, default=0),
)


reads_table = Table(
    "handoff_reads",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("request_id", Integer, ForeignKey("handoff_requests.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("agent_id", Integer, nullable=False),
    Column("read_at", DateTime, nullable=False),
)


def new_public_id() -> str:
    """A request reference that cannot be guessed from another one."""
    return secrets.token_urlsafe(12)


def add_missing_columns(engine: Engine, table: Table) -> list[str]:
    """Columns declared since the table was created (create_all never alters a table); returns their names."""
    existing = {column["name"] for column in inspect(engine).get_columns(table.name)}
    added = []
    for column in table.columns:
        if column.name in existing:
            continue
        kind = column.type.compile(dialect=engine.dialect)
        with engine.begin() as conn:
            conn.execute(sql(f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}'))
        added.append(column.name)
    return added


def _upgrade_requests(engine: Engine) -> None:
    """Give every request of an older database a public id (and its unique index)."""
    if "public_id" not in add_missing_columns(engine, requests_table):
        return
    with engine.begin() as conn:
        for (request_id,) in conn.execute(select(requests_table.c.id).where(requests_table.c.public_id.is_(None))):
            conn.execute(update(requests_table).where(requests_table.c.id == request_id)
                         .values(public_id=new_public_id()))
        conn.execute(sql(
            "CREATE UNIQUE INDEX IF NOT EXISTS uq_handoff_requests_public_id ON handoff_requests (public_id)"))


class HandoffError(Exception):
    """A handoff operation that cannot be done in the current state."""


class RequestNotFoundError(HandoffError):
    """No such handoff request."""


class AlreadyTakenError(HandoffError):
    """Another agent took this conversation first (or it is no longer waiting)."""


class ConversationClosedError(HandoffError):
    """The conversation is closed or expired, or belongs to another agent: nothing can be sent to it."""


class TooManyWaitingError(HandoffError):
    """This address already has as many requests waiting as it may."""


def default_display_name(login: str) -> str:
    """What users read when an agent has not chosen a name: the first name of « prenom.nom »."""
    first = login.split("@")[0].replace("_", ".").split(".")[0]
    first = "-".join(part[:1].upper() + part[1:] for part in first.split("-") if part)
    return first or "Une personne de l'équipe"


def project_engine() -> Engine:
    """The engine of the database configured now."""
    return get_engine()


def utcnow() -> datetime:
    """Now, as the naive UTC datetime stored in the database."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


@dataclass(frozen=True)
class HandoffRequest:
    """One request for a person, as the console shows it."""

    id: int
    sender_id: str
    channel: str
    commune: str | None
    topic: str | None
    transcript: list[dict[str, Any]]
    status: str
    agent_name: str | None
    outbox_key: str
    requested_at: datetime
    taken_at: datetime | None
    last_activity_at: datetime
    closed_at: datetime | None
    close_reason: str | None
    resumed_at: datetime | None
    public_id: str = ""
    agent_display_name: str | None = None
    client_key: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> HandoffRequest:
        """Build from a database row."""
        data = dict(row._mapping)
        data["transcript"] = json.loads(data["transcript"] or "[]")
        return cls(**data)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES


@dataclass(frozen=True)
class HandoffMessage:
    """A message written to the user by an agent (or by the system on their behalf)."""

    id: int
    request_id: int
    author: str
    agent_name: str | None
    text: str
    created_at: datetime
    delivery: str
    attempts: int

    @classmethod
    def from_row(cls, row: Row) -> HandoffMessage:
        """Build from a database row."""
        return cls(**dict(row._mapping))


class HandoffQueue:
    """Operations on the queue; one instance per database."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine or project_engine()
        ensure_schema(self.engine)
        _upgrade_requests(self.engine)

    # ----- requests -----

    def enqueue(
        self,
        sender_id: str,
        channel: str,
        transcript: list[dict[str, Any]],
        commune: str | None = None,
        topic: str | None = None,
        now: datetime | None = None,
        client_key: str | None = None,
        max_waiting_per_client: int | None = None,
    ) -> HandoffRequest:
        """Add a waiting request, or return the conversation's open one (asking twice queues once).

        TooManyWaitingError when this address already has max_waiting_per_client requests in the queue: a fresh
        conversation id per request must not fill the queue.
        """
        existing = self.open_request_for(sender_id)
        if existing is not None:
            return existing
        if (client_key and max_waiting_per_client is not None
                and self.waiting_count_for_client(client_key) >= max_waiting_per_client):
            raise TooManyWaitingError(max_waiting_per_client)
        now = now or utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(requests_table).values(
                    sender_id=sender_id, channel=channel or "rest", commune=commune, topic=topic,
                    transcript=json.dumps(transcript, ensure_ascii=False), status=WAITING,
                    outbox_key=secrets.token_urlsafe(24), requested_at=now, last_activity_at=now,
                    public_id=new_public_id(), client_key=client_key,
                )
            )
            request_id = result.inserted_primary_key[0]
        return self.get(request_id)

    def get(self, request_id: int) -> HandoffRequest:
        """The request with this id."""
        with self.engine.connect() as conn:
            row = conn.execute(select(requests_table).where(requests_table.c.id == request_id)).first()
        if row is None:
            raise RequestNotFoundError(request_id)
        return HandoffRequest.from_row(row)

    def by_public_id(self, public_id: str) -> HandoffRequest:
        """The request with this public reference; RequestNotFoundError otherwise."""
        if not public_id or len(public_id) > 32:
            raise RequestNotFoundError(public_id)
        with self.engine.connect() as conn:
            row = conn.execute(select(requests_table).where(requests_table.c.public_id == public_id)).first()
        if row is None:
            raise RequestNotFoundError(public_id)
        return HandoffRequest.from_row(row)

    def readable_by(self, public_id: str, agent_name: str) -> HandoffRequest:
        """A conversation this agent may read: waiting, or taken by them now; RequestNotFoundError otherwise
        (a closed, expired or colleague's conversation looks the same as one that does not exist)."""
        request = self.by_public_id(public_id)
        if request.status == WAITING or (request.status == TAKEN and request.agent_name == agent_name):
            return request
        raise RequestNotFoundError(public_id)

    def log_read(self, request_id: int, agent_id: int, now: datetime | None = None) -> None:
        """Who read which conversation, and when (ids only: no text, no name)."""
        with self.engine.begin() as conn:
            conn.execute(insert(reads_table).values(request_id=request_id, agent_id=agent_id, read_at=now or utcnow()))

    def reads_of(self, request_id: int) -> list[tuple[int, datetime]]:
        """The read log of one conversation: (agent id, when), oldest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(reads_table.c.agent_id, reads_table.c.read_at)
                                .where(reads_table.c.request_id == request_id).order_by(reads_table.c.id)).all()
        return [(int(row.agent_id), row.read_at) for row in rows]

    def waiting_count_for_client(self, client_key: str) -> int:
        """How many requests from this address are waiting now."""
        with self.engine.connect() as conn:
            return int(conn.execute(
                select(func.count()).select_from(requests_table)
                .where(requests_table.c.status == WAITING, requests_table.c.client_key == client_key)
            ).scalar_one())

    def open_request_for(self, sender_id: str) -> HandoffRequest | None:
        """The conversation's waiting or taken request, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(requests_table).where(
                    requests_table.c.sender_id == sender_id, requests_table.c.status.in_(OPEN_STATUSES)
                )
            ).first()
        return HandoffRequest.from_row(row) if row else None

    def latest_request_for(self, sender_id: str) -> HandoffRequest | None:
        """The conversation's most recent request, open or not."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(requests_table)
                .where(requests_table.c.sender_id == sender_id)
                .order_by(requests_table.c.id.desc())
                .limit(1)
            ).first()
        return HandoffRequest.from_row(row) if row else None

    def earlier_requests(self, sender_id: str, before_id: int, limit: int = 10) -> list[HandoffRequest]:
        """The same person's previous requests (same SMS pseudonym or web chat session), newest first."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(requests_table)
                .where(requests_table.c.sender_id == sender_id, requests_table.c.id < before_id)
                .order_by(requests_table.c.id.desc())
                .limit(limit)
            ).all()
        return [HandoffRequest.from_row(row) for row in rows]

    def change_marker(self) -> tuple[Any, ...]:
        """A cheap summary that moves whenever a request or a message changes (for the console's live updates)."""
        with self.engine.connect() as conn:
            requests = conn.execute(select(
                func.count(), func.max(requests_table.c.id), func.max(requests_table.c.last_activity_at),
                func.max(requests_table.c.taken_at), func.max(requests_table.c.closed_at),
                func.sum(case((requests_table.c.status == WAITING, 1), else_=0)),
                func.sum(case((requests_table.c.status == TAKEN, 1), else_=0)),
            ).select_from(requests_table)).one()
            messages = conn.execute(select(func.max(messages_table.c.id),
                                           func.sum(messages_table.c.attempts))).one()
        return (*tuple(requests), *tuple(messages))

    def waiting(self) -> list[HandoffRequest]:
        """Waiting requests, oldest first."""
        return self._select(requests_table.c.status == WAITING)

    def taken_by(self, agent_name: str) -> list[HandoffRequest]:
        """Conversations this agent is handling, oldest first."""
        return self._select(and_(requests_table.c.status == TAKEN, requests_table.c.agent_name == agent_name))

    def waiting_position(self, request: HandoffRequest) -> int:
        """1 for the first in line."""
        with self.engine.connect() as conn:
            ahead = conn.execute(
                select(func.count()).select_from(requests_table).where(
                    requests_table.c.status == WAITING,
                    or_(requests_table.c.requested_at < request.requested_at,
                        and_(requests_table.c.requested_at == request.requested_at, requests_table.c.id < request.id)),
                )
            ).scalar_one()
        return int(ahead) + 1

    def take(self, request_id: int, agent_name: str, now: datetime | None = None,
             display_name: str | None = None) -> HandoffRequest:
        """Give a waiting conversation to this agent; exactly one agent wins."""
        now = now or utcnow()
        with self.engine.begin() as conn:
            result = conn.execute(
                update(requests_table)
                .where(requests_table.c.id == request_id, requests_table.c.status == WAITING)
                .values(status=TAKEN, agent_name=agent_name, taken_at=now, last_activity_at=now,
                        agent_display_name=display_name or default_display_name(agent_name))
            )
        if result.rowcount != 1:
            self.get(request_id)  # raises RequestNotFoundError when it does not exist
            raise AlreadyTakenError(request_id)
        return self.get(request_id)

    def transfer(self, request_id: int, agent_name: str, to_agent: str | None, to_display_name: str | None = None,
                 now: datetime | None = None) -> HandoffRequest:
        """Give a conversation this agent holds to a colleague, or back to the queue (to_agent None), where it keeps
        its place (requested_at); ConversationClosedError when it is not theirs any more."""
        now = now or utcnow()
        if to_agent is None:
            values: dict[str, Any] = {"status": WAITING, "agent_name": None, "agent_display_name": None}
        else:
            values = {"agent_name": to_agent,
                      "agent_display_name": to_display_name or default_display_name(to_agent)}
        with self.engine.begin() as conn:
            result = conn.execute(
                update(requests_table)
                .where(requests_table.c.id == request_id, requests_table.c.status == TAKEN,
                       requests_table.c.agent_name == agent_name)
                .values(last_activity_at=now, **values)
            )
        if result.rowcount != 1:
            self.get(request_id)
            raise ConversationClosedError(request_id)
        return self.get(request_id)

    def touch(self, request_id: int, agent_name: str, now: datetime | None = None) -> None:
        """Note activity on a conversation this agent holds; ConversationClosedError when it is not theirs any more."""
        with self.engine.begin() as conn:
            result = conn.execute(
                update(requests_table)
                .where(
                    requests_table.c.id == request_id,
                    requests_table.c.status == TAKEN,
                    requests_table.c.agent_name == agent_name,
                )
                .values(last_activity_at=now or utcnow())
            )
        if result.rowcount != 1:
            self.get(request_id)
            raise ConversationClosedError(request_id)

    def note_user_activity(self, request_id: int, when: datetime) -> None:
        """The user wrote at this time: the conversation is not idle."""
        with self.engine.begin() as conn:
            conn.execute(
                update(requests_table)
                .where(
                    requests_table.c.id == request_id,
                    requests_table.c.status.in_(OPEN_STATUSES),
                    requests_table.c.last_activity_at < when,
                )
                .values(last_activity_at=when)
            )

    def close(
        self,
        request_id: int,
        reason: str,
        agent_name: str | None = None,
        now: datetime | None = None,
    ) -> HandoffRequest:
        """End an open conversation (by its agent, or by the system when agent_name is None)."""
        conditions = [requests_table.c.id == request_id, requests_table.c.status.in_(OPEN_STATUSES)]
        if agent_name is not None:
            conditions += [requests_table.c.status == TAKEN, requests_table.c.agent_name == agent_name]
        elif reason == WAIT_TIMEOUT:
            conditions.append(requests_table.c.status == WAITING)  # taken meanwhile: the agent keeps it
        elif reason == IDLE_TIMEOUT:
            conditions.append(requests_table.c.status == TAKEN)
        status = CLOSED if reason in (CLOSED_BY_AGENT, IDLE_TIMEOUT) else EXPIRED
        with self.engine.begin() as conn:
            result = conn.execute(
                update(requests_table).where(*conditions).values(
                    status=status, closed_at=now or utcnow(), close_reason=reason
                )
            )
        if result.rowcount != 1:
            self.get(request_id)
            raise ConversationClosedError(request_id)
        return self.get(request_id)

    def mark_resumed(self, request_id: int, now: datetime | None = None) -> None:
        """The bot has taken the conversation back."""
        with self.engine.begin() as conn:
            conn.execute(
                update(requests_table)
                .where(requests_table.c.id == request_id, requests_table.c.resumed_at.is_(None))
                .values(resumed_at=now or utcnow())
            )

    def stale(self, now: datetime, wait_minutes: float, idle_minutes: float) -> list[tuple[HandoffRequest, str]]:
        """Open requests that waited or idled too long, with the reason to close them."""
        # last_activity_at: a conversation put back in the queue by an agent gets a full wait again.
        waited_too_long = self._select(
            and_(requests_table.c.status == WAITING,
                 requests_table.c.requested_at < now - timedelta(minutes=wait_minutes),
                 requests_table.c.last_activity_at < now - timedelta(minutes=wait_minutes))
        )
        idle = self._select(
            and_(requests_table.c.status == TAKEN,
                 requests_table.c.last_activity_at < now - timedelta(minutes=idle_minutes))
        )
        return [(r, WAIT_TIMEOUT) for r in waited_too_long] + [(r, IDLE_TIMEOUT) for r in idle]

    def not_resumed(self) -> list[HandoffRequest]:
        """Ended requests whose conversation is still paused on the Rasa side."""
        return self._select(
            and_(requests_table.c.status.in_((CLOSED, EXPIRED)), requests_table.c.resumed_at.is_(None))
        )

    def _select(self, condition: Any) -> list[HandoffRequest]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(requests_table).where(condition).order_by(requests_table.c.requested_at, requests_table.c.id)
            ).all()
        return [HandoffRequest.from_row(row) for row in rows]

    # ----- messages to the user -----

    def add_message(
        self,
        request_id: int,
        text: str,
        agent_name: str | None,
        delivery: str = PENDING,
        now: datetime | None = None,
        author: str | None = None,
    ) -> HandoffMessage:
        """Keep a message before it is delivered, so that nothing is lost if the channel is down.

        author: "agent" (agent_name given), "system" (the bot's closing words) or NOTICE (news of the service,
        such as who joined, which must not end the handoff on the person's screen)."""
        with self.engine.begin() as conn:
            result = conn.execute(
                insert(messages_table).values(
                    request_id=request_id, author=author or ("agent" if agent_name else "system"),
                    agent_name=agent_name,
                    text=text, created_at=now or utcnow(), delivery=delivery, attempts=0,
                )
            )
            message_id = result.inserted_primary_key[0]
        return self.message(message_id)

    def message(self, message_id: int) -> HandoffMessage:
        """One stored message."""
        with self.engine.connect() as conn:
            row = conn.execute(select(messages_table).where(messages_table.c.id == message_id)).one()
        return HandoffMessage.from_row(row)

    def set_delivery(self, message_id: int, delivery: str) -> None:
        """Record how (or whether) a message reached the user."""
        with self.engine.begin() as conn:
            conn.execute(
                update(messages_table)
                .where(messages_table.c.id == message_id)
                .values(delivery=delivery, attempts=messages_table.c.attempts + 1)
            )

    def messages(self, request_id: int, after_id: int = 0) -> list[HandoffMessage]:
        """Messages of a request, in order."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages_table)
                .where(messages_table.c.request_id == request_id, messages_table.c.id > after_id)
                .order_by(messages_table.c.id)
            ).all()
        return [HandoffMessage.from_row(row) for row in rows]

    def undelivered(self, now: datetime, max_attempts: int = 30) -> list[HandoffMessage]:
        """Messages whose push failed (or got stuck half-way) and may be retried."""
        stuck = now - timedelta(seconds=30)  # younger PENDING messages are being delivered right now
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(messages_table)
                .where(
                    or_(messages_table.c.delivery == FAILED,
                        and_(messages_table.c.delivery == PENDING, messages_table.c.created_at < stuck)),
                    messages_table.c.attempts < max_attempts,
                )
                .order_by(messages_table.c.id)
            ).all()
        return [HandoffMessage.from_row(row) for row in rows]
