"""Error reports from secretariats: stored with who sent them, listed for the content editors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import insert, select, update
from sqlalchemy.future import Engine

from bot.privacy import redact_personal_data
from bot.secretariat.store import reports_table
from bot.secretariat.tokens import Secretariat

# "Signaler un besoin": a question no sheet answers, stored with the error reports under this id, so the
# content editors read both in one list (python -m bot.knowledge.check --reports, make content-report).
NEED_PROCEDURE_ID = "besoin_sans_fiche"


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


def record_report(engine: Engine, who: Secretariat, procedure_id: str, message: str,
                  now: datetime | None = None) -> ErrorReport:
    """Store a report (parameterised insert; personal data masked, the rest kept as typed, escaped when shown)."""
    message = redact_personal_data(message)
    created_at = now or datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)
    with engine.begin() as connection:
        result = connection.execute(
            insert(reports_table).values(
                created_at=created_at, token_id=who.token_id, commune=who.commune, reporter=who.name,
                procedure_id=procedure_id, message=message, status="open",
            )
        )
        report_id = int(result.inserted_primary_key[0])
    return ErrorReport(report_id, created_at, who.commune, who.name, procedure_id, message, "open")


def record_need(engine: Engine, who: Secretariat, question: str, comment: str = "",
                now: datetime | None = None) -> ErrorReport:
    """Store a question no sheet answers (personal data masked) for the content editors' list."""
    message = f"Question sans fiche : {question}" + (f"\nPrécision : {comment}" if comment else "")
    return record_report(engine, who, NEED_PROCEDURE_ID, message, now)


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
