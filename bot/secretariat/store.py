"""The secretariat's table in the project database: hashed access tokens (its reports: bot.knowledge.feedback)."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, Integer, String, Table
from sqlalchemy.future import Engine

from bot.db import get_engine, metadata

tokens_table = Table(
    "secretariat_tokens",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("commune", String(10), nullable=False),
    Column("name", String(120), nullable=False),
    Column("is_admin", Boolean, nullable=False, default=False),
    Column("created_at", DateTime, nullable=False),
    Column("revoked_at", DateTime, nullable=True),
)

def secretariat_engine(url: str | None = None) -> Engine:
    """The engine for this URL (default: the configured database, read now) with the secretariat tables."""
    return get_engine(url)
