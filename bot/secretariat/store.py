"""The secretariat's tables in the project database: hashed access tokens and error reports."""

from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Table, Text
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

reports_table = Table(
    "secretariat_reports",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_at", DateTime, nullable=False),
    Column("token_id", Integer, ForeignKey("secretariat_tokens.id"), nullable=True),
    Column("commune", String(10), nullable=False),
    Column("reporter", String(120), nullable=False),
    Column("procedure_id", String(64), nullable=False),
    Column("message", Text, nullable=False),
    Column("status", String(16), nullable=False, default="open"),
)


def secretariat_engine(url: str | None = None) -> Engine:
    """The engine for this URL (default: the configured database, read now) with the secretariat tables."""
    return get_engine(url)
