"""Can a person answer now? Service hours (OSM opening_hours) and agents' presence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours

from bot.handoff.accounts import AgentDirectory
from bot.handoff.config import HandoffConfig

OPEN, CLOSED_HOURS, NOBODY = "open", "closed_hours", "nobody"
_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


@dataclass(frozen=True)
class Availability:
    """Whether a request can be queued now, and when the service opens next if not."""

    state: str
    next_opening: datetime | None = None  # local time

    @property
    def can_queue(self) -> bool:
        return self.state == OPEN


def service_hours(config: HandoffConfig) -> OpeningHours:
    """The configured hours, with French public holidays; SyntaxError when the expression is invalid."""
    return OpeningHours(config.service_hours, country="FR", timezone=ZoneInfo(config.timezone))


def check_availability(config: HandoffConfig, directory: AgentDirectory, now: datetime | None = None) -> Availability:
    """Open hours first (honest answer even if someone is logged in), then at least one present agent."""
    now_utc = now or datetime.now(timezone.utc)
    if now_utc.tzinfo is None:
        now_utc = now_utc.replace(tzinfo=timezone.utc)
    local_now = now_utc.astimezone(ZoneInfo(config.timezone))
    hours = service_hours(config)
    if not hours.is_open(local_now):
        return Availability(CLOSED_HOURS, _next_opening(hours, local_now))
    naive_utc = now_utc.astimezone(timezone.utc).replace(tzinfo=None)
    if directory.available_count(naive_utc, config.presence_minutes) == 0:
        return Availability(NOBODY, None)
    return Availability(OPEN)


def _next_opening(hours: OpeningHours, local_now: datetime) -> datetime | None:
    change = hours.next_change(local_now)
    for _ in range(14):  # skip "unknown" states until an opening, within a few steps
        if change is None:
            return None
        if hours.is_open(change):
            return change
        change = hours.next_change(change)
    return None


def describe_opening(moment: datetime, now: datetime) -> str:
    """« aujourd'hui à 14 h », « demain à 9 h », « lundi à 9 h 30 », in the service's local time."""
    hour = f"{moment.hour} h" + (f" {moment.minute:02d}" if moment.minute else "")
    days = (moment.date() - now.date()).days
    if days == 0:
        return f"aujourd'hui à {hour}"
    if days == 1:
        return f"demain à {hour}"
    if days < 7:
        return f"{_DAYS[moment.weekday()]} à {hour}"
    return f"le {moment:%d/%m} à {hour}"
