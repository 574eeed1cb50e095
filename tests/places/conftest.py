"""Fixed clocks, a private database and the shipped places, for places tests."""

from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy.future import Engine

from bot.db import make_engine, metadata
from bot.places.hours import PARIS
from bot.places.importer import DEFAULT_PLACES_CSV, parse_places_file
from bot.places.search import PlaceIndex

TUESDAY_10H = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
TUESDAY_20H = datetime(2026, 12, 1, 20, 0, tzinfo=PARIS)
SUNDAY_11H = datetime(2026, 12, 6, 11, 0, tzinfo=PARIS)


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    """An empty project database of our own."""
    engine = make_engine(f"sqlite:///{tmp_path / 'places.db'}")
    metadata.create_all(engine)
    return engine


@pytest.fixture(scope="session")
def index() -> PlaceIndex:
    """The 38 shipped MEL places, indexed without a database."""
    places, _report = parse_places_file(DEFAULT_PLACES_CSV)
    return PlaceIndex(places)


@pytest.fixture
def edited_csv(tmp_path: Path) -> Callable[[Callable[[list[dict[str, str]]], None]], Path]:
    """A copy of the shipped CSV after an edit of its rows."""

    def make(edit: Callable[[list[dict[str, str]]], None]) -> Path:
        with DEFAULT_PLACES_CSV.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            header, rows = list(reader.fieldnames or []), list(reader)
        edit(rows)
        path = tmp_path / "lieux.csv"
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.DictWriter(handle, header)
            writer.writeheader()
            writer.writerows(rows)
        return path

    return make
