"""Import any CSV of the national 'lieux de médiation numérique' standard, validated with frictionless.

Rows are kept whenever they are usable: a bad optional value is dropped and reported, a row without
coordinates is placed at its commune centre and reported; only rows we cannot show are rejected.
"""

from __future__ import annotations

import csv
import functools
import hashlib
import io
import re
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import phonenumbers
from frictionless import Resource, Schema
from sqlalchemy.future import Engine

from bot.geo.communes import Commune, CommuneDirectory, get_commune_directory
from bot.paths import KNOWLEDGE_DIR
from bot.places import store
from bot.places.hours import BrokenOpeningHours, Hours
from bot.places.model import Place

SCHEMA_PATH = KNOWLEDGE_DIR / "standard-mediation-num.schema.json"
DEFAULT_PLACES_CSV = KNOWLEDGE_DIR / "lieux_mediation_mel.csv"
REQUIRED_COLUMNS = ("id", "nom")
# Standard field -> Place attribute, for the '|'-separated vocabularies.
MULTI_VALUED = {
    "typologie": "typologie", "itinerance": "itinerance", "services": "services",
    "publics_specifiquement_adresses": "publics", "prise_en_charge_specifique": "prise_en_charge",
    "frais_a_charge": "frais", "dispositif_programmes_nationaux": "dispositifs",
    "formations_labels": "formations_labels", "modalites_acces": "modalites_acces",
    "modalites_accompagnement": "modalites_accompagnement", "courriels": "courriels", "site_web": "site_web",
}


class PlacesImportError(ValueError):
    """The file cannot be imported at all (not a CSV of the standard)."""


@dataclass(frozen=True)
class RowIssue:
    """One problem found in one row: `rejected` rows are not imported, the others are, with a fix."""

    row: int
    place_id: str
    field: str
    message: str
    rejected: bool = False


@dataclass
class ImportReport:
    """What an import did, and every row-level issue with its reason."""

    file_name: str
    sha256: str
    total_rows: int = 0
    accepted: int = 0
    unchanged: bool = False
    geolocated_from_commune: int = 0
    seconds: float = 0.0
    issues: list[RowIssue] = field(default_factory=list)

    @property
    def rejected(self) -> list[RowIssue]:
        """Issues that kept a row out."""
        return [issue for issue in self.issues if issue.rejected]

    @property
    def warnings(self) -> list[RowIssue]:
        """Issues fixed or worked around, the row being kept."""
        return [issue for issue in self.issues if not issue.rejected]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready summary (kept with the import in the database)."""
        return {
            "file": self.file_name, "sha256": self.sha256, "rows": self.total_rows, "accepted": self.accepted,
            "rejected": len(self.rejected), "unchanged": self.unchanged,
            "geolocated_from_commune": self.geolocated_from_commune,
            "issues": [issue.__dict__ for issue in self.issues],
        }

    def text(self) -> str:
        """A readable report for the person who ran the import."""
        if self.unchanged:
            return f"{self.file_name} : déjà importé à l'identique ({self.accepted} lieux), rien n'a changé."
        lines = [
            f"{self.file_name} : {self.total_rows} lignes, {self.accepted} lieux importés, "
            f"{len(self.rejected)} rejetés, {len(self.warnings)} corrections, "
            f"{self.geolocated_from_commune} placés au centre de leur commune ({self.seconds:.1f} s)."
        ]
        for title, issues in (("Rejetés", self.rejected), ("Corrigés ou signalés", self.warnings)):
            if issues:
                lines.append(f"{title} :")
                lines += [f"  ligne {i.row} [{i.place_id or '?'}] {i.field} : {i.message}" for i in issues]
        return "\n".join(lines)


@functools.lru_cache(maxsize=1)
def load_schema() -> Schema:
    """The national table schema shipped in data/knowledge (v1.0.2)."""
    return Schema(str(SCHEMA_PATH))


@functools.lru_cache(maxsize=1)
def _patterns() -> dict[str, re.Pattern[str]]:
    return {
        f.name: re.compile(f.constraints["pattern"])
        for f in load_schema().fields if f.constraints.get("pattern")
    }


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split("|") if part.strip()]


def _read_text(path: Path) -> str:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise PlacesImportError(f"{path.name} : encodage illisible (UTF-8 attendu)")


def _frictionless_errors(text: str, delimiter: str) -> dict[int, list[tuple[str, str, str]]]:
    """Row position -> [(field, code, note)] found by frictionless against the national schema."""
    errors: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    resource = Resource(text.encode("utf-8"), format="csv", encoding="utf-8",
                        schema=load_schema(), dialect={"delimiter": delimiter})
    names = None
    with resource:
        names = resource.header.field_names if resource.header else []
        for row in resource.row_stream:
            for error in row.errors:
                position = error.get("fieldPosition")
                name = error.get("fieldName") or (names[position - 1] if position and position <= len(names) else "")
                errors[row.row_position].append((name, error.code, error.note))
    return errors


def _phone(value: str) -> tuple[str, str | None]:
    """(E.164 number or '', warning) from a phone cell that may not follow the standard's format."""
    try:
        number = phonenumbers.parse(value, "FR")
    except phonenumbers.NumberParseException:
        return "", f"numéro illisible « {value} » (ignoré)"
    if not phonenumbers.is_valid_number(number):
        return "", f"numéro invalide « {value} » (ignoré)"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), (
        f"numéro « {value} » remis au format international"
    )


def _coordinate(value: str, low: float, high: float) -> float | None:
    try:
        number = float(value.replace(",", "."))
    except ValueError:
        return None
    return number if low <= number <= high and number != 0 else None


def _row_commune(insee: str, name: str, postcode: str, directory: CommuneDirectory) -> Commune | None:
    """The one MEL commune a row names (INSEE code, then name, then postcode), or None when unsure."""
    commune = directory.by_insee(insee)
    if commune is None:
        found = directory.find(name) if name else []
        if len(found) > 1 and postcode:
            found = [c for c in found if postcode in c.postcodes] or found
        commune = found[0] if len(found) == 1 else None
    if commune is None and postcode:
        communes = directory.by_postcode(postcode)
        commune = communes[0] if len(communes) == 1 else None
    return commune


def _readable_hours(horaires: str, issue: Callable[[str, str], None]) -> bool:
    """Whether the opening hours parse; unreadable ones are reported and shown as unknown."""
    try:
        Hours.parse(horaires)
    except BrokenOpeningHours as error:
        issue("horaires", f"horaires illisibles « {horaires[:80]} » ({error}) : affichés comme inconnus")
        return False
    return True


def _build_place(position: int, row: dict[str, str], errors: list[tuple[str, str, str]],
                 directory: CommuneDirectory, report: ImportReport) -> Place | None:
    """One Place from one CSV row, or None (and a rejection) when the row is unusable."""
    get = lambda name: (row.get(name) or "").strip()  # noqa: E731
    place_id, nom = get("id"), get("nom")

    def issue(field_name: str, message: str, rejected: bool = False) -> None:
        report.issues.append(RowIssue(position, place_id, field_name, message, rejected))

    if not place_id:
        issue("id", "identifiant manquant", rejected=True)
        return None
    if any(code in ("unique-error", "primary-key-error") for _, code, _ in errors):
        issue("id", "identifiant en double (la première ligne est gardée)", rejected=True)
        return None
    if not nom:
        issue("nom", "nom manquant", rejected=True)
        return None
    failed = {name for name, _, _ in errors}

    values: dict[str, Any] = {}
    for column, attribute in MULTI_VALUED.items():
        parts = _split(get(column))
        pattern = _patterns().get(column)
        if pattern is not None and column in failed:
            known = [part for part in parts if pattern.fullmatch(part)]
            for unknown in (part for part in parts if part not in known):
                issue(column, f"valeur inconnue « {unknown} » (ignorée)")
            parts = known
        values[attribute] = tuple(parts)

    telephone = get("telephone")
    if telephone and "telephone" in failed:
        telephone, warning = _phone(telephone)
        if warning:
            issue("telephone", warning)

    for column in ("date_maj", "code_insee", "code_postal", "presentation_resume", "prise_rdv", "pivot"):
        for name, code, _note in errors:
            if name == column and code not in ("unique-error", "primary-key-error"):
                issue(column, f"valeur non conforme « {get(column)[:60]} » ({code}), gardée telle quelle")
    for required in ("commune", "code_postal", "adresse"):
        if not get(required):
            issue(required, "champ obligatoire vide")

    horaires = get("horaires")
    valid_hours = _readable_hours(horaires, issue)

    latitude, longitude = _coordinate(get("latitude"), -90, 90), _coordinate(get("longitude"), -180, 180)
    precision = "lieu"
    if latitude is None or longitude is None:
        commune = _row_commune(get("code_insee"), get("commune"), get("code_postal"), directory)
        if commune is None:
            issue("latitude", f"sans coordonnées, et la commune « {get('commune')} » n'est pas une commune "
                              "de la MEL connue : lieu impossible à placer", rejected=True)
            return None
        latitude, longitude, precision = commune.latitude, commune.longitude, "commune"
        report.geolocated_from_commune += 1
        issue("latitude", f"sans coordonnées : placé au centre de {commune.name}")

    return Place(
        id=place_id, nom=nom, commune=get("commune"), code_postal=get("code_postal"), adresse=get("adresse"),
        latitude=latitude, longitude=longitude, geo_precision=precision, code_insee=get("code_insee"),
        complement_adresse=get("complement_adresse"), telephone=telephone, horaires=horaires,
        horaires_valides=valid_hours, presentation_resume=get("presentation_resume"), prise_rdv=get("prise_rdv"),
        source=get("source"), date_maj=get("date_maj"), **values,
    )


def parse_places_file(path: Path, directory: CommuneDirectory | None = None) -> tuple[list[Place], ImportReport]:
    """Validate and convert a CSV of the standard; nothing is written."""
    started = time.perf_counter()
    directory = directory or get_commune_directory()
    text = _read_text(path)
    report = ImportReport(file_name=path.name, sha256=hashlib.sha256(text.encode("utf-8")).hexdigest())
    first_line = text.split("\n", 1)[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.DictReader(io.StringIO(text), delimiter=delimiter)
    header = [name.strip() for name in (reader.fieldnames or [])]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if missing:
        raise PlacesImportError(f"{path.name} : colonnes obligatoires absentes ({', '.join(missing)}) ; "
                                "est-ce bien un fichier du standard des lieux de médiation numérique ?")
    errors = _frictionless_errors(text, delimiter)
    places: list[Place] = []
    for position, row in enumerate(reader, start=2):
        report.total_rows += 1
        row = {(key or "").strip(): value for key, value in row.items()}
        place = _build_place(position, row, errors.get(position, []), directory, report)
        if place is not None:
            places.append(place)
    report.accepted = len(places)
    report.seconds = time.perf_counter() - started
    return places, report


def import_places(path: Path, engine: Engine | None = None) -> ImportReport:
    """Replace the stored places with this file's; importing the same file again changes nothing."""
    from bot.db import get_engine

    engine = engine or get_engine()
    places, report = parse_places_file(Path(path))
    previous = store.last_import(engine)
    if previous and previous["sha256"] == report.sha256 and store.count_places(engine) == report.accepted:
        report.unchanged = True
        return report
    if not places:
        raise PlacesImportError(f"{report.file_name} : aucun lieu utilisable, les lieux actuels sont gardés.\n"
                                + report.text())
    store.replace_places(engine, places, report.file_name, report.sha256, len(report.rejected),
                         report.as_dict())
    return report
