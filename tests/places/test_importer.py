"""Import of the national standard: valid rows kept, bad values reported, unusable rows rejected with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.places import store
from bot.places.importer import DEFAULT_PLACES_CSV, PlacesImportError, import_places, parse_places_file


def _row(rows: list[dict[str, str]], place_id: str) -> dict[str, str]:
    return next(row for row in rows if row["id"] == place_id)


def test_shipped_file_imports_all_38_places(engine) -> None:
    report = import_places(DEFAULT_PLACES_CSV, engine)
    assert (report.total_rows, report.accepted, report.rejected) == (38, 38, [])
    assert store.count_places(engine) == 38
    seclin = next(p for p in store.load_places(engine) if p.id == "france-services-2227")
    assert seclin.commune == "Seclin" and "France Services" in seclin.dispositifs


def test_importing_the_same_file_twice_changes_nothing(engine) -> None:
    import_places(DEFAULT_PLACES_CSV, engine)
    before = (store.load_places(engine), store.last_import(engine))
    again = import_places(DEFAULT_PLACES_CSV, engine)
    assert again.unchanged
    assert (store.load_places(engine), store.last_import(engine)) == before


def test_new_file_replaces_the_places(engine, edited_csv) -> None:
    import_places(DEFAULT_PLACES_CSV, engine)
    path = edited_csv(lambda rows: rows.__delitem__(slice(10, None)))
    report = import_places(path, engine)
    assert report.accepted == 10 and store.count_places(engine) == 10


def test_row_without_coordinates_is_placed_at_its_commune_centre(edited_csv) -> None:
    def edit(rows: list[dict[str, str]]) -> None:
        row = _row(rows, "france-services-2227")
        row["latitude"] = row["longitude"] = ""
    places, report = parse_places_file(edited_csv(edit))
    seclin = next(p for p in places if p.id == "france-services-2227")
    assert seclin.geo_precision == "commune" and seclin.latitude == pytest.approx(50.5485, abs=0.01)
    assert report.geolocated_from_commune == 1
    assert any(i.field == "latitude" and "centre de Seclin" in i.message for i in report.warnings)


def test_row_without_coordinates_outside_the_mel_is_rejected_with_reason(edited_csv) -> None:
    def edit(rows: list[dict[str, str]]) -> None:
        row = _row(rows, "france-services-2227")
        row.update(latitude="", longitude="", commune="Arras", code_postal="62000", code_insee="62041")
    places, report = parse_places_file(edited_csv(edit))
    assert "france-services-2227" not in {p.id for p in places}
    [rejection] = report.rejected
    assert rejection.place_id == "france-services-2227" and "Arras" in rejection.message


def test_unknown_enum_value_is_dropped_and_reported(edited_csv) -> None:
    def edit(rows: list[dict[str, str]]) -> None:
        _row(rows, "france-services-2227")["services"] = "Aide aux démarches administratives|Cours de cuisine"
    places, report = parse_places_file(edited_csv(edit))
    seclin = next(p for p in places if p.id == "france-services-2227")
    assert seclin.services == ("Aide aux démarches administratives",)
    assert any("Cours de cuisine" in i.message and i.field == "services" for i in report.warnings)


def test_broken_opening_hours_are_reported_and_the_row_kept(edited_csv) -> None:
    def edit(rows: list[dict[str, str]]) -> None:
        _row(rows, "france-services-2227")["horaires"] = "Lundi au vendredi 9h-12h"
    places, report = parse_places_file(edited_csv(edit))
    seclin = next(p for p in places if p.id == "france-services-2227")
    assert not seclin.horaires_valides
    assert any(i.field == "horaires" for i in report.warnings)


def test_duplicate_id_and_missing_name_are_rejected(edited_csv) -> None:
    def edit(rows: list[dict[str, str]]) -> None:
        rows[5]["id"] = rows[4]["id"]
        rows[6]["nom"] = ""
    places, report = parse_places_file(edited_csv(edit))
    assert len(places) == 36
    assert {i.field for i in report.rejected} == {"id", "nom"}
    assert "ligne 7" in report.text()


def test_local_phone_number_is_put_in_international_format(edited_csv) -> None:
    def edit(rows: list[dict[str, str]]) -> None:
        _row(rows, "france-services-2227")["telephone"] = "03 20 84 80 80"
    places, _ = parse_places_file(edited_csv(edit))
    assert next(p for p in places if p.id == "france-services-2227").telephone == "+33320848080"


def test_semicolon_separated_file_is_read(tmp_path: Path) -> None:
    text = DEFAULT_PLACES_CSV.read_text(encoding="utf-8").splitlines()
    import csv
    import io
    rows = list(csv.reader(io.StringIO("\n".join(text[:3]))))
    path = tmp_path / "point-virgule.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows(rows)
    places, report = parse_places_file(path)
    assert len(places) == 2 and not report.rejected


def test_file_that_is_not_the_standard_is_refused(tmp_path: Path, engine) -> None:
    path = tmp_path / "autre.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(PlacesImportError):
        import_places(path, engine)
