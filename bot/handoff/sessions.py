"""Agent login sessions: random tokens kept server-side (only their hash), with a CSRF token each."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, delete, insert, select, update
from sqlalchemy.future import Engine

from bot.db import ensure_schema, metadata
from bot.handoff.accounts import Agent, agents_table
from bot.handoff.store import default_display_name, project_engine, utcnow

sessions_table = Table(
    "handoff_sessions",
    metadata,
    Column("token_hash", String(64), primary_key=True),
    Column("agent_id", Integer, ForeignKey("handoff_agents.id", ondelete="CASCADE"), nullable=False),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("last_seen_at", DateTime, nullable=False),
)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class AgentSession:
    """A logged-in agent and the CSRF token their console must send with every POST."""

    agent: Agent
    csrf_token: str

    def csrf_matches(self, sent: str | None) -> bool:
        """Constant-time check of the token sent with a POST."""
        return bool(sent) and hmac.compare_digest(self.csrf_token, sent or "")


class SessionStore:
    """Create, resolve and end sessions; stale ones (idle or too old) do not resolve."""

    def __init__(self, engine: Engine | None = None, max_hours: float = 10, idle_minutes: float = 60) -> None:
        self.engine = engine or project_engine()
        ensure_schema(self.engine)
        self.max_age = timedelta(hours=max_hours)
        self.idle = timedelta(minutes=idle_minutes)

    def create(self, agent: Agent, now: datetime | None = None) -> str:
        """A new session; returns the cookie value (only its hash is stored)."""
        now = now or utcnow()
        token = secrets.token_urlsafe(32)
        with self.engine.begin() as conn:
            conn.execute(
                insert(sessions_table).values(
                    token_hash=_digest(token), agent_id=agent.id, csrf_token=secrets.token_urlsafe(32),
                    created_at=now, last_seen_at=now,
                )
            )
        return token

    def resolve(self, token: str | None, now: datetime | None = None) -> AgentSession | None:
        """The session for this cookie value, refreshed; None when unknown, stale or the account is disabled."""
        if not token or len(token) > 128:
            return None
        now = now or utcnow()
        key = _digest(token)
        with self.engine.begin() as conn:
            row = conn.execute(
                select(
                    sessions_table, agents_table.c.disabled, agents_table.c.name, agents_table.c.available,
                    agents_table.c.last_seen_at.label("agent_seen_at"), agents_table.c.display_name,
                    agents_table.c.role,
                )
                .join(agents_table, agents_table.c.id == sessions_table.c.agent_id)
                .where(sessions_table.c.token_hash == key)
            ).first()
            if row is None:
                return None
            if row.disabled or now - row.created_at > self.max_age or now - row.last_seen_at > self.idle:
                conn.execute(delete(sessions_table).where(sessions_table.c.token_hash == key))
                return None
            conn.execute(update(sessions_table).where(sessions_table.c.token_hash == key).values(last_seen_at=now))
        agent = Agent(row.agent_id, row.name, row.available, row.agent_seen_at,
                      row.display_name or default_display_name(row.name), row.role or "agent")
        return AgentSession(agent, row.csrf_token)

    def destroy(self, token: str | None) -> None:
        """Log out."""
        if token:
            with self.engine.begin() as conn:
                conn.execute(delete(sessions_table).where(sessions_table.c.token_hash == _digest(token)))
