"""What town-hall secretariats report wrong in a sheet, or missing: kept for the content editors.

The secretariat portal records reports with who sent them (bot.secretariat.reports); the editors list and close
them (`python -m bot.knowledge.check --reports`) and read them in the content report (`make content-report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text, insert, select, update
from sqlalchemy.future import Engine

from bot.db import metadata
from bot.privacy import redact_personal_data

# "Signaler un besoin": a question no sheet answers, stored with the error reports under this id, so the
# content editors read both in one list.
NEED_PROCEDURE_ID = "besoin_sans_fiche"

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


@dataclass(frozen=True)
class ErrorReport:
    """A reported error in a procedure: who (commune, name), which procedure, what, when."""

    id: int
    created_at: datetime
    commune: str
    reporter: str
    procedure_id: str
    message: str
    status: str


def add_report(engine: Engine, token_id: int | None, commune: str, reporter: str, procedure_id: str, message: str,
               now: datetime | None = None) -> ErrorReport:
    """Store a report (parameterised insert; personal data masked, the rest kept as typed, escaped when shown)."""
    message = redact_personal_data(message)
    created_at = now or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    with engine.begin() as connection:
        result = connection.execute(
            insert(reports_table).values(
                created_at=created_at, token_id=token_id, commune=commune, reporter=reporter,
                procedure_id=procedure_id, message=message, status="open",
            )
        )
        report_id = int(result.inserted_primary_key[0])
    return ErrorReport(report_id, created_at, commune, reporter, procedure_id, message, "open")


def list_reports(engine: Engine, status: str | None = "open") -> list[ErrorReport]:
    """Reports, oldest first; all of them when status is None."""
    query = select(reports_table).order_by(reports_table.c.created_at, reports_table.c.id)
    if status is not None:
        query = query.where(reports_table.c.status == status)
    with engine.connect() as connection:
        rows = connection.execute(query).mappings().all()
    return [
        ErrorReport(r["id"], r["created_at"], r["commune"], r["reporter"], r["procedure_id"], r["message"], r["status"])
        for r in rows
    ]


def close_report(engine: Engine, report_id: int) -> bool:
    """Mark a report as handled; True when an open report was closed."""
    with engine.begin() as connection:
        result = connection.execute(
            update(reports_table).where(reports_table.c.id == report_id, reports_table.c.status == "open")
            .values(status="done")
        )
    return result.rowcount > 0
