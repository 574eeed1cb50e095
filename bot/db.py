"""The project's own database (handoff queue, reports, places): SQLite by default, PostgreSQL when set."""

from __future__ import annotations

import functools

from sqlalchemy import MetaData, create_engine, event
from sqlalchemy.engine import Engine

from bot.settings import get_settings

# Every module declares its tables on this metadata, so one create_all() makes the whole schema.
metadata = MetaData()


def make_engine(url: str) -> Engine:
    """An engine for this URL; SQLite gets WAL and foreign keys so readers never block the bot.

    hide_parameters: a database error (logged, or shown in a traceback) never carries the bound values,
    which may be phone numbers or messages.
    """
    if url.startswith("sqlite"):
        engine = create_engine(url, future=True, hide_parameters=True,
                               connect_args={"check_same_thread": False, "timeout": 15})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        return engine
    return create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)


_tables_created: dict[str, int] = {}


def get_engine(url: str | None = None) -> Engine:
    """The shared engine for this URL (default: the database configured now), with every declared table."""
    url = url or get_settings().database_url
    engine = _engine_for(url)
    if _tables_created.get(url) != len(metadata.tables):
        # A module imported after the engine was built may have declared more tables.
        metadata.create_all(engine)
        _tables_created[url] = len(metadata.tables)
    return engine


@functools.lru_cache(maxsize=8)
def _engine_for(url: str) -> Engine:
    return make_engine(url)
