"""The places table in the project database (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import json
from dataclasses import fields
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
    delete,
    func,
    insert,
    select,
)
from sqlalchemy.future import Engine

from bot.db import metadata
from bot.places.model import Place

_TUPLE_FIELDS = {f.name for f in fields(Place) if f.type in ("tuple[str, ...]",)}
_STORED_FIELDS = [f.name for f in fields(Place) if f.name != "extra"]

places_table = Table(
    "places",
    metadata,
    Column("id", String(200), primary_key=True),
    Column("nom", Text, nullable=False),
    Column("commune", String(200), nullable=False, default=""),
    Column("code_postal", String(10), nullable=False, default=""),
    Column("code_insee", String(10), nullable=False, default=""),
    Column("adresse", Text, nullable=False, default=""),
    Column("complement_adresse", Text, nullable=False, default=""),
    Column("latitude", Float, nullable=False),
    Column("longitude", Float, nullable=False),
    Column("geo_precision", String(20), nullable=False, default="lieu"),
    Column("telephone", String(40), nullable=False, default=""),
    Column("courriels", Text, nullable=False, default=""),
    Column("site_web", Text, nullable=False, default=""),
    Column("horaires", Text, nullable=False, default=""),
    Column("horaires_valides", Boolean, nullable=False, default=True),
    Column("presentation_resume", Text, nullable=False, default=""),
    Column("typologie", Text, nullable=False, default=""),
    Column("itinerance", Text, nullable=False, default=""),
    Column("services", Text, nullable=False, default=""),
    Column("publics", Text, nullable=False, default=""),
    Column("prise_en_charge", Text, nullable=False, default=""),
    Column("frais", Text, nullable=False, default=""),
    Column("dispositifs", Text, nullable=False, default=""),
    Column("formations_labels", Text, nullable=False, default=""),
    Column("modalites_acces", Text, nullable=False, default=""),
    Column("modalites_accompagnement", Text, nullable=False, default=""),
    Column("prise_rdv", Text, nullable=False, default=""),
    Column("source", Text, nullable=False, default=""),
    Column("date_maj", String(20), nullable=False, default=""),
)

place_imports_table = Table(
    "place_imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("imported_at", DateTime(timezone=True), nullable=False),
    Column("file_name", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("accepted", Integer, nullable=False),
    Column("rejected", Integer, nullable=False),
    Column("report", Text, nullable=False),
)


def place_to_row(place: Place) -> dict[str, Any]:
    """A Place as a table row (multi-valued fields joined with '|', as in the standard)."""
    return {
        name: "|".join(getattr(place, name)) if name in _TUPLE_FIELDS else getattr(place, name)
        for name in _STORED_FIELDS
    }


def row_to_place(row: Any) -> Place:
    """A table row back into a Place."""
    data = dict(row._mapping)
    for name in _TUPLE_FIELDS:
        data[name] = tuple(value for value in (data.get(name) or "").split("|") if value)
    return Place(**{name: data[name] for name in _STORED_FIELDS})


def load_places(engine: Engine) -> list[Place]:
    """Every stored place."""
    with engine.connect() as connection:
        return [row_to_place(row) for row in connection.execute(select(places_table).order_by(places_table.c.id))]


def count_places(engine: Engine) -> int:
    """How many places are stored."""
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(places_table)).scalar_one())


def last_import(engine: Engine) -> dict[str, Any] | None:
    """The latest import (id, file, checksum, counts), or None before the first one."""
    with engine.connect() as connection:
        row = connection.execute(
            select(place_imports_table).order_by(place_imports_table.c.id.desc()).limit(1)
        ).first()
    return dict(row._mapping) if row else None


def replace_places(engine: Engine, places: list[Place], file_name: str, sha256: str,
                   rejected: int, report: dict[str, Any]) -> int:
    """Swap the whole table for these places in one transaction; returns the import's id."""
    rows = [place_to_row(place) for place in places]
    with engine.begin() as connection:
        connection.execute(delete(places_table))
        for start in range(0, len(rows), 5000):
            connection.execute(insert(places_table), rows[start:start + 5000])
        result = connection.execute(insert(place_imports_table).values(
            imported_at=datetime.now(timezone.utc), file_name=file_name, sha256=sha256,
            accepted=len(rows), rejected=rejected, report=json.dumps(report, ensure_ascii=False),
        ))
        return int(result.inserted_primary_key[0])
