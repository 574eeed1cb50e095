"""How long personal data is kept, and the purge that enforces it (scheduled in the portal, and by CLI).

Periods come from the environment (days):
    NUMECRIVAIN_RETENTION_CONVERSATION_DAYS   30   conversations (tracker events), ended handoff requests
    NUMECRIVAIN_RETENTION_CALLBACK_DAYS        7   callback numbers not called back (a done one is deleted at once)
    NUMECRIVAIN_RETENTION_SMS_CONTACT_DAYS    30   SMS contacts silent that long (number and menu)
    NUMECRIVAIN_PURGE_INTERVAL_MINUTES        60   how often the portal runs the purge
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from datetime import datetime, timedelta, timezone
from typing import Any

from pydantic import Field, validator
from pydantic.fields import ModelField
from sqlalchemy import delete, func, inspect, select, text, update
from sqlalchemy.future import Engine

from bot.channels.sms.inbox import FINISHED_STATES, sms_inbox
from bot.channels.sms.store import (
    NO_NUMBER,
    SEEN_RETENTION,
    TRAFFIC_RETENTION,
    sms_contacts,
    sms_seen_messages,
    sms_traffic,
)
from bot.conversation_events import conversation_events
from bot.db import ensure_schema, get_engine, make_engine
from bot.handoff.callbacks import callbacks_table
from bot.handoff.store import OPEN_STATUSES, messages_table, requests_table
from bot.knowledge.feedback import reports_table
from bot.privacy.person import overwrite_deleted_rows
from bot.privacy.redaction import redact_personal_data
from bot.settings import EnvironmentSettings, TrackerSettings

logger = logging.getLogger(__name__)
MAX_SETTING = 36_500  # a hundred years (days) or 25 days (minutes): beyond, a typo


class RetentionPolicy(EnvironmentSettings):
    """The retention periods in force (read from the environment when built).

    A value that is not a positive number (or is beyond MAX_SETTING) gives the default with a warning, rather
    than an error: a typo must never stop the purge of personal data.
    """

    conversation_days: float = Field(default=30, env="NUMECRIVAIN_RETENTION_CONVERSATION_DAYS")
    callback_days: float = Field(default=7, env="NUMECRIVAIN_RETENTION_CALLBACK_DAYS")
    sms_contact_days: float = Field(default=30, env="NUMECRIVAIN_RETENTION_SMS_CONTACT_DAYS")
    purge_interval_minutes: float = Field(default=60, env="NUMECRIVAIN_PURGE_INTERVAL_MINUTES")

    @validator("*", pre=True)
    def _positive_or_default(cls, value: Any, field: ModelField) -> Any:  # noqa: N805 (pydantic's validator)
        try:
            number = float(value)
        except (TypeError, ValueError):
            number = -1.0
        if 0 < number <= MAX_SETTING:  # also refuses nan and inf
            return number
        logger.warning("%s is not a number of days or minutes in (0, %s]; %s is used.", field.alias, MAX_SETTING,
                       field.default)
        return field.default


def utcnow() -> datetime:
    """Now as the naive UTC datetime the project tables store."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def tracker_engine(url: str | None = None) -> Engine:
    """An engine on Rasa's tracker store (TRACKER_* variables, as endpoints.yml builds it)."""
    return make_engine(url or TrackerSettings().url)


def _table_names(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())


def _missing_sqlite_file(engine: Engine) -> bool:
    """True for a SQLite database whose file does not exist yet (inspecting it would create it)."""
    database = engine.url.database
    return engine.url.get_backend_name() == "sqlite" and bool(database) and not os.path.exists(str(database))


def purge_tracker(engine: Engine, now: datetime, policy: RetentionPolicy) -> int:
    """Delete conversation events older than the retention period; the number of events deleted."""
    if _missing_sqlite_file(engine) or "events" not in _table_names(engine):
        return 0
    cutoff = (now.replace(tzinfo=timezone.utc) - timedelta(days=policy.conversation_days)).timestamp()
    with engine.begin() as conn:
        overwrite_deleted_rows(conn)
        return int(conn.execute(text("DELETE FROM events WHERE timestamp < :cutoff"), {"cutoff": cutoff}).rowcount)


def purge_project(engine: Engine, now: datetime, policy: RetentionPolicy) -> dict[str, int]:
    """Apply the retention periods to the project database (handoff, callbacks, SMS, reports)."""
    ensure_schema(engine)
    counts: dict[str, int] = {}
    conversation_cutoff = now - timedelta(days=policy.conversation_days)
    with engine.begin() as conn:
        overwrite_deleted_rows(conn)
        ended = select(requests_table.c.id).where(
            requests_table.c.status.not_in(OPEN_STATUSES),
            func.coalesce(requests_table.c.closed_at, requests_table.c.requested_at) < conversation_cutoff,
        )
        counts["handoff_messages"] = conn.execute(
            delete(messages_table).where(messages_table.c.request_id.in_(ended))).rowcount
        counts["handoff_requests"] = conn.execute(
            delete(requests_table).where(
                requests_table.c.status.not_in(OPEN_STATUSES),
                func.coalesce(requests_table.c.closed_at, requests_table.c.requested_at) < conversation_cutoff,
            )).rowcount
        counts["handoff_callbacks"] = conn.execute(
            delete(callbacks_table).where(
                callbacks_table.c.created_at < now - timedelta(days=policy.callback_days))).rowcount
        # A silent subscriber is forgotten; an unsubscribed one keeps a row without number, so STOP is honoured.
        counts["sms_contacts"] = conn.execute(
            delete(sms_contacts).where(
                sms_contacts.c.subscribed.is_(True),
                sms_contacts.c.updated_at < now - timedelta(days=policy.sms_contact_days))).rowcount
        counts["sms_contacts_numbers_dropped"] = conn.execute(
            update(sms_contacts).where(sms_contacts.c.subscribed.is_(False), sms_contacts.c.phone != NO_NUMBER)
            .values(phone=NO_NUMBER)).rowcount
        # The event broker's copy of the conversations (usage figures) is kept as long as the conversations.
        event_cutoff = (now.replace(tzinfo=timezone.utc) - timedelta(days=policy.conversation_days)).timestamp()
        counts["conversation_events"] = conn.execute(
            delete(conversation_events).where(conversation_events.c.timestamp < event_cutoff)).rowcount
        counts["sms_traffic"] = conn.execute(
            delete(sms_traffic).where(sms_traffic.c.at < now - TRAFFIC_RETENTION)).rowcount
        counts["sms_seen_messages"] = conn.execute(
            delete(sms_seen_messages).where(sms_seen_messages.c.at < now - SEEN_RETENTION)).rowcount
        # Answered SMS keep no text, only their hashed provider id (replays refused) for as long as the others.
        counts["sms_inbox"] = conn.execute(
            delete(sms_inbox).where(sms_inbox.c.accepted_at < now - SEEN_RETENTION,
                                    sms_inbox.c.state.in_(FINISHED_STATES))).rowcount
        masked = 0
        for row in conn.execute(select(reports_table.c.id, reports_table.c.message)).all():
            clean = redact_personal_data(row.message)
            if clean != row.message:  # written before reports were redacted on arrival
                conn.execute(update(reports_table).where(reports_table.c.id == row.id).values(message=clean))
                masked += 1
        counts["secretariat_reports_masked"] = masked
    return counts


def purge(now: datetime | None = None, policy: RetentionPolicy | None = None, project: Engine | None = None,
          tracker: Engine | None = None) -> dict[str, int]:
    """Run the whole purge once; counts of rows deleted or masked per table (no personal data)."""
    now, policy = now or utcnow(), policy or RetentionPolicy()
    counts = purge_project(project or get_engine(), now, policy)
    counts["events"] = purge_tracker(tracker or tracker_engine(), now, policy)
    return counts


async def purge_periodically(policy: RetentionPolicy | None = None, database_url: str | None = None) -> None:
    """Purge at start, then every interval, off the event loop; a failed run is logged and retried next time."""
    policy = policy or RetentionPolicy()
    while True:
        try:
            counts = await asyncio.to_thread(lambda: purge(None, policy, get_engine(database_url)))
            if any(counts.values()):
                logger.info("Retention purge: %s", {k: v for k, v in counts.items() if v})
        except Exception as exc:  # the schedule must survive a database hiccup; the message may quote data
            logger.error("Retention purge failed (%s); retrying at the next interval.", type(exc).__name__)
        await asyncio.sleep(policy.purge_interval_minutes * 60)


def attach_purge_schedule(app: Any) -> None:
    """Run the retention purge in the background of a Sanic app (the portal) while it serves."""

    async def start_purge(app_: Any, *_: Any) -> None:
        settings = getattr(app_.ctx, "settings", None)
        task = purge_periodically(database_url=getattr(settings, "database_url", None))
        app_.ctx.retention_purge = asyncio.get_running_loop().create_task(task)

    async def stop_purge(app_: Any, *_: Any) -> None:
        task = getattr(app_.ctx, "retention_purge", None)
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app.register_listener(start_purge, "after_server_start")
    app.register_listener(stop_purge, "before_server_stop")


__all__ = ["RetentionPolicy", "attach_purge_schedule", "purge", "purge_periodically", "purge_project",
           "purge_tracker", "tracker_engine"]
