"""Usage figures for the metropolitan digital council, without personal data.

They are read from the events Rasa's event broker writes to the project database (bot/event_broker.py,
table conversation_events), never from the tracker store Rasa is writing to. A tracker store can still be
read directly for history recorded before the broker (its `events` table has the same columns).

    python -m bot.secretariat.usage                     # all time, project database (NUMECRIVAIN_DB_URL)
    python -m bot.secretariat.usage --since 2026-01-01 --json
    python -m bot.secretariat.usage --tracker-url sqlite:///var/tracker.db    # older history, tracker store
    python -m bot.secretariat.usage --service --since 2026-11-01   # the handoff service figures, as CSV
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError

from bot.conversation_events import conversation_events
from bot.db import get_engine
from bot.handoff.figures import chart_blocks, figures_csv, service_figures
from bot.privacy import redact_personal_data
from bot.settings import get_settings

LOCAL_TIME = ZoneInfo("Europe/Paris")
NOT_UNDERSTOOD_INTENTS = ("nlu_fallback", "out_of_scope")
HANDOFF_INTENT = "request_human"
HANDOFF_ACTION = "action_request_human"
TOP_PROCEDURES = 15
TOP_NOT_UNDERSTOOD = 50



class TrackerUnavailableError(RuntimeError):
    """The events cannot be read (missing file, wrong URL, neither the broker's table nor a tracker's)."""


def mask_personal_data(message: str) -> str:
    """The message as the council may read it: personal data masked (bot.privacy), spaces collapsed."""
    return " ".join(redact_personal_data(message).split())


@dataclass(frozen=True)
class TrackerEvent:
    """One row of Rasa's `events` table, with its JSON data decoded."""

    sender_id: str
    type_name: str
    timestamp: float
    intent_name: str | None
    action_name: str | None
    data: dict[str, Any]


def _events_table(connection: Any) -> str:
    """The broker's table when the database has it, else a tracker store's `events` (same columns)."""
    tables = set(inspect(connection).get_table_names())
    for name in (conversation_events.name, "events"):
        if name in tables:
            return name
    raise TrackerUnavailableError("no conversation events in this database (event broker not configured?)")


def read_events(source_url: str | None = None, since: date | None = None,
                until: date | None = None) -> Iterator[TrackerEvent]:
    """Events ordered by conversation then time: the event broker's in the project database by default."""
    source_url = source_url or get_settings().database_url
    if source_url.startswith("sqlite:///"):
        path = source_url.removeprefix("sqlite:///")
        if path and not os.path.exists(path):
            raise TrackerUnavailableError(f"no database at {path}")
    clauses, params = [], {}
    if since:
        clauses.append("timestamp >= :since")
        params["since"] = datetime.combine(since, datetime.min.time(), LOCAL_TIME).timestamp()
    if until:
        clauses.append("timestamp < :until")
        params["until"] = datetime.combine(until, datetime.min.time(), LOCAL_TIME).timestamp() + 86400
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    engine = create_engine(source_url, future=True, hide_parameters=True)  # errors never show message texts
    try:
        with engine.connect() as connection:
            query = text(  # the table name is one of two constants, never user input
                "SELECT sender_id, type_name, timestamp, intent_name, action_name, data "
                f"FROM {_events_table(connection)} {where} ORDER BY sender_id, timestamp, id"
            )
            for row in connection.execute(query, params):
                try:
                    data = json.loads(row.data) if row.data else {}
                except ValueError:
                    data = {}
                yield TrackerEvent(row.sender_id, row.type_name, float(row.timestamp or 0.0), row.intent_name,
                                   row.action_name, data if isinstance(data, dict) else {})
    except SQLAlchemyError as exc:
        raise TrackerUnavailableError(f"cannot read the conversation events: {type(exc).__name__}") from exc
    finally:
        engine.dispose()


@dataclass
class _Session:
    start: float
    channel: str | None = None
    users: int = 0
    handoff_at: float | None = None
    agent_at: float | None = None


def _is_agent_message(event: TrackerEvent) -> bool:
    """A bot event sent by a person (the handoff relay marks it in the metadata)."""
    metadata = event.data.get("metadata") or {}
    return event.type_name == "bot" and isinstance(metadata, dict) and bool(
        metadata.get("agent") or metadata.get("from") == "agent" or metadata.get("sender") == "agent"
    )


def _sessions(events: Iterable[TrackerEvent], counters: dict[str, Counter]) -> Iterator[_Session]:
    """Split each conversation into sessions (action_session_start), counting intents on the way."""
    current: _Session | None = None
    sender: str | None = None
    for event in events:
        new_sender = event.sender_id != sender
        if new_sender or (event.type_name == "action" and event.action_name == "action_session_start"):
            if current is not None and current.users:
                yield current
            current, sender = _Session(start=event.timestamp), event.sender_id
        assert current is not None
        if event.type_name == "user":
            current.users += 1
            current.channel = current.channel or event.data.get("input_channel") or None
            intent = event.intent_name or ((event.data.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent and intent.startswith("procedure_"):
                counters["procedures"][intent.removeprefix("procedure_")] += 1
            if intent in NOT_UNDERSTOOD_INTENTS and isinstance(event.data.get("text"), str):
                counters["not_understood"][mask_personal_data(event.data["text"])[:300]] += 1
            if intent == HANDOFF_INTENT and current.handoff_at is None:
                current.handoff_at = event.timestamp
        elif event.type_name == "action" and event.action_name == HANDOFF_ACTION and current.handoff_at is None:
            current.handoff_at = event.timestamp
        elif current.handoff_at is not None and current.agent_at is None and _is_agent_message(event):
            current.agent_at = event.timestamp
    if current is not None and current.users:
        yield current


def _week(timestamp: float) -> str:
    year, week, _ = datetime.fromtimestamp(timestamp, LOCAL_TIME).isocalendar()
    return f"{year}-W{week:02d}"


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


@dataclass
class UsageReport:
    """Aggregated figures only: no sender id, no unmasked text."""

    generated_at: str
    period: dict[str, str | None]
    conversations: int
    conversations_by_channel: dict[str, int]
    conversations_by_week: dict[str, dict[str, int]]  # week -> channel -> count
    top_procedures: list[dict[str, Any]]
    not_understood: list[dict[str, Any]]
    handoff: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready figures."""
        return asdict(self)


def build_report(events: Iterable[TrackerEvent], titles: dict[str, str] | None = None,
                 since: date | None = None, until: date | None = None,
                 now: datetime | None = None) -> UsageReport:
    """Aggregate tracker events into the council's figures."""
    titles = titles or {}
    counters: dict[str, Counter] = {"procedures": Counter(), "not_understood": Counter()}
    by_channel: Counter = Counter()
    by_week: dict[str, Counter] = defaultdict(Counter)
    handoffs, waits, unanswered = 0, [], 0
    total = 0
    for session in _sessions(events, counters):
        total += 1
        channel = session.channel or "inconnu"
        by_channel[channel] += 1
        by_week[_week(session.start)][channel] += 1
        if session.handoff_at is not None:
            handoffs += 1
            if session.agent_at is not None:
                waits.append(session.agent_at - session.handoff_at)
            else:
                unanswered += 1
    handoff: dict[str, Any] = {
        "requests": handoffs,
        "rate": round(handoffs / total, 4) if total else 0.0,
        "answered_by_agent": len(waits),
        "not_answered_by_agent": unanswered,
        "wait_seconds_median": round(statistics.median(waits), 1) if waits else None,
        "wait_seconds_p90": round(_percentile(waits, 0.9), 1) if waits else None,
    }
    generated = (now or datetime.now(timezone.utc)).astimezone(LOCAL_TIME).isoformat(timespec="seconds")
    return UsageReport(
        generated_at=generated,
        period={"since": since.isoformat() if since else None, "until": until.isoformat() if until else None},
        conversations=total,
        conversations_by_channel=dict(by_channel.most_common()),
        conversations_by_week={week: dict(by_week[week].most_common()) for week in sorted(by_week)},
        top_procedures=[
            {"id": pid, "title": titles.get(pid, pid), "count": count}
            for pid, count in counters["procedures"].most_common(TOP_PROCEDURES)
        ],
        not_understood=[
            {"text": message, "count": count}
            for message, count in counters["not_understood"].most_common(TOP_NOT_UNDERSTOOD)
        ],
        handoff=handoff,
    )


def usage_report(source_url: str | None = None, since: date | None = None, until: date | None = None,
                 now: datetime | None = None) -> UsageReport:
    """The report, with procedure titles, from the event broker's events (project database by default)."""
    from bot.knowledge import get_knowledge_base

    titles = {procedure.id: procedure.title for procedure in get_knowledge_base()}
    events = read_events(source_url, since, until)
    return build_report(events, titles, since, until, now)


SERVICE_DAYS_BY_DEFAULT = 30
MAX_SERVICE_DAYS = 366


def service_view(engine: Any, since: date | None = None, until: date | None = None,
                 tz: str = "Europe/Paris", today: date | None = None) -> dict[str, Any]:
    """The handoff service figures for the council's usage page: five SVG charts drawn here, each with its table,
    and the CSV; the last 30 days by default, a year at most. No person and no agent is named."""
    until = until or today or datetime.now(ZoneInfo(tz)).date()
    since = since or until - timedelta(days=SERVICE_DAYS_BY_DEFAULT - 1)
    if since > until:
        since, until = until, since
    since = max(since, until - timedelta(days=MAX_SERVICE_DAYS - 1))
    rows = service_figures(engine, since, until, tz)
    return {"period": {"since": since.isoformat(), "until": until.isoformat()},
            "blocks": [block.as_dict() for block in chart_blocks(rows, since, until)],
            "csv": figures_csv(rows)}


def render_text(report: UsageReport) -> str:
    """The report as plain text for a terminal or an e-mail to the council."""
    lines = [f"Numécrivain – usage ({report.period['since'] or 'début'} → {report.period['until'] or 'aujourd’hui'})",
             f"Conversations : {report.conversations}", "", "Par canal :"]
    lines += [f"  {channel:<12} {count}" for channel, count in report.conversations_by_channel.items()]
    lines += ["", "Par semaine :"]
    lines += [f"  {week}  " + ", ".join(f"{c} {n}" for c, n in channels.items())
              for week, channels in report.conversations_by_week.items()]
    lines += ["", "Démarches les plus demandées :"]
    lines += [f"  {item['count']:>5}  {item['title']}" for item in report.top_procedures]
    lines += ["", "Questions non comprises (données personnelles masquées) :"]
    lines += [f"  {item['count']:>5}  {item['text']}" for item in report.not_understood]
    h = report.handoff
    lines += ["", f"Demandes de mise en relation : {h['requests']} ({h['rate'] * 100:.1f} % des conversations)",
              f"  prises par un agent : {h['answered_by_agent']}, sans réponse d'agent : {h['not_answered_by_agent']}",
              f"  attente médiane : {h['wait_seconds_median']} s, 90e centile : {h['wait_seconds_p90']} s"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """The usage CLI."""
    parser = argparse.ArgumentParser(prog="python -m bot.secretariat.usage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sources = parser.add_mutually_exclusive_group()
    sources.add_argument("--db-url", help="SQLAlchemy URL of the project database (default: NUMECRIVAIN_DB_URL)")
    sources.add_argument("--tracker-url", help="read a tracker store's events instead (history before the broker)")
    parser.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD")
    parser.add_argument("--until", type=date.fromisoformat, help="last day, YYYY-MM-DD")
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    parser.add_argument("--service", action="store_true",
                        help="print the service of a person (handoff) per day and channel as CSV (30 days by default)")
    args = parser.parse_args(argv)
    if args.service:
        if args.tracker_url:
            parser.error("--service reads the project database (--db-url), not a tracker store")
        view = service_view(get_engine(args.db_url or get_settings().database_url), args.since, args.until)
        print(view["csv"], end="")
        return 0
    try:
        report = usage_report(args.tracker_url or args.db_url, args.since, args.until)
    except TrackerUnavailableError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) if args.json else render_text(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
