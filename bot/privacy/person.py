"""One person's data, found in every table of both databases: exported as JSON, or erased (GDPR art. 15 and 17).

A person is known by a conversation id (as Rasa stores it, with or without its channel prefix) or by a phone
number: an SMS conversation is keyed by the keyed hash of the number (computed here with the same pepper), a
callback and an SMS contact hold the number itself. The tables are read from the databases themselves, so a
table added later with a `sender_id`, `conversation_id`, `pseudonym` or `phone` column is covered too.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, MetaData, Table, delete, or_, select
from sqlalchemy.future import Connection, Engine
from sqlalchemy.sql.elements import ColumnElement

from bot.channels.sms.pseudonym import normalise_number, pseudonymise

CONVERSATION_COLUMNS = ("sender_id", "conversation_id", "pseudonym")
PHONE_COLUMNS = ("phone",)


@dataclass(frozen=True)
class Person:
    """What identifies one person in our tables."""

    conversation_ids: frozenset[str] = field(default_factory=frozenset)
    phones: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def by_conversation(cls, conversation_id: str) -> Person:
        """The person behind one conversation."""
        return cls(conversation_ids=frozenset({conversation_id.strip()}))

    @classmethod
    def by_phone(cls, number: str, pepper: str | None = None) -> Person:
        """The person behind a phone number: their SMS conversation (keyed hash) and the number itself."""
        if pepper is None:
            from bot.settings import local_secret

            pepper = local_secret("NUMECRIVAIN_SMS_PEPPER")
        return cls(conversation_ids=frozenset({pseudonymise(number, pepper)}),
                   phones=frozenset({normalise_number(number)}))


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(table: Table, person: Person) -> list[ColumnElement[Boolean]]:
    """WHERE clauses that select this person's rows in a table (empty: the table holds nothing of theirs)."""
    conditions: list[ColumnElement[Boolean]] = []
    for column in table.columns:
        if column.name in CONVERSATION_COLUMNS:
            for conversation in person.conversation_ids:
                conditions.append(column == conversation)
                # The same conversation with a channel prefix ("rest:", "web:"...).
                conditions.append(column.like(f"%:{_escape_like(conversation)}", escape="\\"))
        elif column.name in PHONE_COLUMNS and person.phones:
            conditions.append(column.in_(sorted(person.phones)))
    return conditions


def _reflect(engine: Engine) -> list[Table]:
    """Every table of the database, parents before children."""
    metadata = MetaData()
    metadata.reflect(engine)
    return list(metadata.sorted_tables)


def _matches(tables: list[Table], person: Person) -> Iterator[tuple[Table, Any]]:
    """(table, WHERE clause) for the person's own rows, then for rows that refer to them by a foreign key."""
    matched: dict[str, tuple[Table, Any]] = {}
    for table in tables:
        conditions = _conditions(table, person)
        if conditions:
            matched[table.name] = (table, or_(*conditions))
    for table in tables:
        if table.name in matched:
            continue
        for foreign_key in table.foreign_keys:
            parent = matched.get(foreign_key.column.table.name)
            if parent is not None and foreign_key.parent is not None:  # a table's key always has its column
                parent_table, where = parent
                keys = select(parent_table.c[foreign_key.column.name]).where(where)
                matched[table.name] = (table, foreign_key.parent.in_(keys))
                break
    return iter(matched.values())


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def _row(table: Table, row: Any) -> dict[str, Any]:
    data = {key: _jsonable(value) for key, value in row._mapping.items()}
    for key in ("data", "transcript", "menu", "pending_pages"):
        if isinstance(data.get(key), str):
            with contextlib.suppress(ValueError):
                data[key] = json.loads(data[key])
    return data


def export_person(person: Person, engines: Iterable[Engine]) -> dict[str, Any]:
    """Every row that concerns the person, table by table (JSON-ready)."""
    tables: dict[str, list[dict[str, Any]]] = {}
    for engine in engines:
        reflected = _reflect(engine)
        with engine.connect() as connection:
            for table, where in _matches(reflected, person):
                rows = connection.execute(select(table).where(where)).all()
                if rows:
                    tables.setdefault(table.name, []).extend(_row(table, row) for row in rows)
    return {"conversation_ids": sorted(person.conversation_ids), "tables": tables}


def erase_person(person: Person, engines: Iterable[Engine]) -> dict[str, int]:
    """Delete every row that concerns the person (children first); the number of rows deleted per table."""
    counts: dict[str, int] = {}
    for engine in engines:
        reflected = _reflect(engine)
        with engine.begin() as connection:
            overwrite_deleted_rows(connection)
            found = list(_matches(reflected, person))
            # Children (matched through a foreign key) refer to their parents' rows: delete them first.
            for table, where in sorted(found, key=lambda item: -reflected.index(item[0])):
                deleted = connection.execute(delete(table).where(where)).rowcount
                if deleted:
                    counts[table.name] = counts.get(table.name, 0) + int(deleted)
        checkpoint(engine)
    return counts


def overwrite_deleted_rows(connection: Connection) -> None:
    """SQLite: zero what this connection deletes, instead of leaving it in free pages (a no-op elsewhere)."""
    if connection.engine.url.get_backend_name() == "sqlite":
        connection.exec_driver_sql("PRAGMA secure_delete = ON")


def checkpoint(engine: Engine) -> None:
    """SQLite: copy the write-ahead log into the database file and empty it, so old pages leave it too."""
    if engine.url.get_backend_name() == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
