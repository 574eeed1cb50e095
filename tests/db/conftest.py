"""One throw-away PostgreSQL server for the tests of this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text

from bot import db
from tests.db.postgres import running_postgres


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of the server's `numecrivain` database (Debian's PostgreSQL, trust authentication, free port)."""
    with running_postgres() as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The server's database, emptied for this test (a fresh public schema, checked again by get_engine)."""
    monkeypatch.setattr(db, "_at_head", set())
    engine = db.make_engine(postgres_server)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return postgres_server
