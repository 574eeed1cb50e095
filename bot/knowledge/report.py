"""The content editor's report (`make content-report`): one printable HTML page per procedure, and an index.

Each fact is shown beside the sources that back it and their dates, with what is due for review, what
`make check-content` finds, and what town-hall secretariats reported wrong.
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from bot.knowledge import check
from bot.knowledge.contacts import CONTACTS_FILE, describe, placeholders
from bot.knowledge.model import Contact, Procedure
from bot.knowledge.render import date_note, resolve
from bot.knowledge.schema import FACT_FIELDS
from bot.paths import KNOWLEDGE_DIR, PROCEDURES_DIR, PROJECT_ROOT

TEMPLATES_DIR = Path(__file__).parent / "templates"
DEFAULT_OUT = PROJECT_ROOT / "results" / "content"
DUE_SOON_DAYS = 60
FIELD_LABELS = {"steps": "Étapes", "documents": "Documents", "cost": "Coût", "delay": "Délai",
                "offline": "Sans Internet", "where": "Où aller", "eligibility": "Qui a droit"}


@dataclass(frozen=True)
class ReportedError:
    """A secretariat report as the editor sees it (no resident data: the form asks what is wrong in the entry)."""

    id: int
    created_at: str
    commune: str
    reporter: str
    message: str
    status: str


@dataclass
class Reports:
    """Secretariat reports by procedure, or why they could not be read."""

    by_procedure: dict[str, list[ReportedError]] = field(default_factory=dict)
    unavailable: str = ""


def read_reports(database_url: str | None = None) -> Reports:
    """Every secretariat report (open and done); none when no database exists."""
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db import get_engine
    from bot.knowledge.feedback import list_reports
    from bot.settings import get_settings

    url = database_url or get_settings().database_url
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            return Reports()  # no database yet: nothing was reported (and nothing is created here)
    try:
        found = list_reports(get_engine(url), status=None)
    except SQLAlchemyError as exc:
        return Reports(unavailable=f"base de données illisible ({type(exc).__name__})")
    grouped: dict[str, list[ReportedError]] = defaultdict(list)
    for report in found:
        grouped[report.procedure_id].append(ReportedError(
            report.id, f"{report.created_at:%d/%m/%Y %H:%M}", report.commune, report.reporter, report.message,
            report.status))
    return Reports(dict(grouped))


def _review_state(day: date, today: date) -> str:
    if today > day:
        return "overdue"
    return "soon" if (day - today).days <= DUE_SOON_DAYS else "ok"


def _page_name(procedure: Procedure) -> str:
    return f"{procedure.id}.html"


def _contacts_used(procedure: Procedure, contacts: dict[str, Contact]) -> list[Contact]:
    ids: list[str] = []
    for _, text in check.texts_of(procedure):
        ids += [contact_id for _, contact_id in placeholders(text) if contact_id not in ids]
    return [contacts[i] for i in ids if i in contacts]


def build_report(out_dir: Path, today: date, procedures_dir: Path = PROCEDURES_DIR,
                 contacts_file: Path = CONTACTS_FILE, knowledge_dir: Path = KNOWLEDGE_DIR,
                 reports: Reports | None = None) -> list[Path]:
    """Write index.html and one page per procedure into out_dir; return the files written."""
    procedures, schema_problems = check.check_schema(procedures_dir)
    entries = sorted(procedures.values(), key=lambda p: (p.source_file, p.id))
    contacts, contact_problems = check.check_contacts_file(contacts_file, today)
    problems = [*schema_problems, *contact_problems, *check.entry_problems(entries, contacts, today, knowledge_dir)]
    by_entry: dict[str, list[str]] = defaultdict(list)
    general: list[str] = []
    for problem in problems:
        parts = problem.where.split(" ")
        if len(parts) == 2 and parts[1] in procedures:
            by_entry[parts[1]].append(problem.message)
        else:
            general.append(str(problem))
    reports = reports if reports is not None else read_reports()

    env = Environment(loader=FileSystemLoader(TEMPLATES_DIR), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["frdate"] = lambda day: day.strftime("%d/%m/%Y") if day else ""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    rows = []
    for procedure in entries:
        unknown_contact = any("unknown contact" in message for message in by_entry[procedure.id])
        shown = procedure if unknown_contact else resolve(procedure, contacts)
        facts = []
        for name in FACT_FIELDS:
            value = getattr(shown, name)
            facts.append({"name": name, "label": FIELD_LABELS[name],
                          "texts": list(value) if isinstance(value, tuple) else [value],
                          "sources": procedure.sources_for(name)})
        page: dict[str, Any] = {
            "procedure": shown, "facts": facts, "date_note": date_note(procedure),
            "review": _review_state(procedure.next_review, today),
            "sources": [{"source": s, "review": _review_state(s.review_by, today) if s.review_by else "ok"}
                        for s in procedure.sources],
            "contacts": [{"contact": c, "text": describe(c)} for c in _contacts_used(procedure, contacts)],
            "problems": by_entry[procedure.id], "reports": reports.by_procedure.get(procedure.id, []),
        }
        path = out_dir / _page_name(procedure)
        template = env.get_template("procedure.html.j2")
        html = template.render(today=today, reports_unavailable=reports.unavailable, **page)
        path.write_text(html, encoding="utf-8")
        written.append(path)
        rows.append({**page, "page": _page_name(procedure),
                     "open_reports": sum(1 for r in page["reports"] if r.status == "open")})
    from bot.knowledge.feedback import NEED_PROCEDURE_ID

    index = out_dir / "index.html"
    index.write_text(env.get_template("index.html.j2").render(
        needs=reports.by_procedure.get(NEED_PROCEDURE_ID, []),
        today=today, rows=rows, general=general, contacts=sorted(contacts.values(), key=lambda c: c.id),
        describe=describe, reports_unavailable=reports.unavailable, problem_count=len(problems),
        review_state=_review_state), encoding="utf-8")
    return [index, *written]


def main(argv: list[str] | None = None) -> int:
    """Write the report; exit 0 even when content problems are listed (make check-content is the gate)."""
    parser = argparse.ArgumentParser(prog="python -m bot.knowledge.report", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: results/content)")
    parser.add_argument("--today", type=date.fromisoformat, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    files = build_report(args.out, args.today or date.today())
    print(f"{len(files) - 1} procedure pages and {files[0]} written.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
