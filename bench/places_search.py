"""Search latency (median, p95 in ms) with the 38 MEL places and 50,000 synthetic ones; import time for 50,000.

Run: .venv/bin/python bench/places_search.py
"""

from __future__ import annotations

import csv
import random
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.db import make_engine, metadata
from bot.geo.communes import get_commune_directory
from bot.geo.locate import commune_origin
from bot.places.hours import PARIS
from bot.places.importer import DEFAULT_PLACES_CSV, import_places, parse_places_file
from bot.places.model import Need
from bot.places.search import PlaceIndex, SearchCriteria, find_nearest_places

NOW = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
QUERIES = [SearchCriteria(), SearchCriteria(open_now=True), SearchCriteria(frozenset({Need.COMPUTER_ACCESS})),
           SearchCriteria(frozenset({Need.PROCEDURES}), open_on=5)]


def synthetic_csv(path: Path, rows: int, seed: int = 3) -> None:
    """`rows` places in the national schema, jittered copies of the shipped ones over northern France."""
    random.seed(seed)
    with DEFAULT_PLACES_CSV.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        header, models = list(reader.fieldnames or []), list(reader)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, header)
        writer.writeheader()
        for number in range(rows):
            row = dict(random.choice(models))
            row["id"] = f"synthetic-{number}"
            row["latitude"] = f"{random.uniform(49.5, 51.0):.6f}"
            row["longitude"] = f"{random.uniform(1.6, 4.2):.6f}"
            if number % 50 == 0:
                row["latitude"] = row["longitude"] = ""  # placed at the commune centre by the importer
            writer.writerow(row)


def latency(index: PlaceIndex, repeats: int = 400) -> tuple[float, float]:
    """(median, p95) in ms over searches from random communes with mixed criteria."""
    communes = get_commune_directory().communes
    random.seed(7)
    timings = []
    for number in range(repeats):
        origin = commune_origin(random.choice(communes))
        started = time.perf_counter()
        find_nearest_places(index, origin, QUERIES[number % len(QUERIES)], NOW)
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main() -> None:
    """Print the figures quoted in docs/places.md."""
    small = PlaceIndex(parse_places_file(DEFAULT_PLACES_CSV)[0])
    latency(small, 50)  # warm-up
    median, p95 = latency(small)
    print(f"search, 38 places:      median {median:.3f} ms, p95 {p95:.3f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "lieux-50000.csv"
        synthetic_csv(path, 50_000)
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        metadata.create_all(engine)
        started = time.perf_counter()
        report = import_places(path, engine)
        print(f"import, 50,000 rows:    {time.perf_counter() - started:.1f} s "
              f"({report.accepted} kept, {report.geolocated_from_commune} placed at their commune centre)")
        places, _ = parse_places_file(path)
        big = PlaceIndex(places)
        latency(big, 50)
        median, p95 = latency(big)
        print(f"search, 50,000 places:  median {median:.3f} ms, p95 {p95:.3f} ms")


if __name__ == "__main__":
    main()
