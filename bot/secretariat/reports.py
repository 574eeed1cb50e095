"""Error reports and needs sent from a secretariat: stored with who sent them, for the content editors."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.future import Engine

from bot.knowledge.feedback import NEED_PROCEDURE_ID, ErrorReport, add_report, close_report, list_reports
from bot.secretariat.tokens import Secretariat

__all__ = ["NEED_PROCEDURE_ID", "ErrorReport", "close_report", "list_reports", "record_need", "record_report"]


def record_report(engine: Engine, who: Secretariat, procedure_id: str, message: str,
                  now: datetime | None = None) -> ErrorReport:
    """Store a report signed by the secretariat that sent it (personal data masked)."""
    return add_report(engine, who.token_id, who.commune, who.name, procedure_id, message, now)


def record_need(engine: Engine, who: Secretariat, question: str, comment: str = "",
                now: datetime | None = None) -> ErrorReport:
    """Store a question no sheet answers (personal data masked) for the content editors' list."""
    message = f"Question sans fiche : {question}" + (f"\nPrécision : {comment}" if comment else "")
    return record_report(engine, who, NEED_PROCEDURE_ID, message, now)
