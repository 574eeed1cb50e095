"""Opening hours in the OSM opening_hours syntax: parsed once, asked in Europe/Paris time, said in French."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from opening_hours import OpeningHours, State

PARIS = ZoneInfo("Europe/Paris")
WEEKDAYS_FR = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")


class BrokenOpeningHours(ValueError):  # noqa: N818
    """The `horaires` field is not valid OSM opening_hours."""


def _local(moment: datetime) -> datetime:
    return moment.astimezone(PARIS) if moment.tzinfo else moment.replace(tzinfo=PARIS)


def _hhmm(moment: datetime) -> str:
    return f"{moment.hour}h{moment.minute:02d}" if moment.minute else f"{moment.hour}h"


@dataclass(frozen=True)
class Hours:
    """A place's opening hours; `expression` None means the source gave none (or gave a broken one)."""

    source: str
    expression: OpeningHours | None

    @classmethod
    def parse(cls, text: str | None) -> Hours:
        """Hours from the raw field; raises BrokenOpeningHours when it cannot be read."""
        raw = (text or "").strip()
        if not raw:
            return cls("", None)
        try:
            return cls(raw, OpeningHours(raw, timezone=PARIS, country="FR"))
        except Exception as error:  # the Rust parser raises its own ParserError type
            raise BrokenOpeningHours(str(error).splitlines()[0] if str(error) else raw) from error

    @classmethod
    def parse_or_unknown(cls, text: str | None) -> Hours:
        """Hours from the raw field, unknown when broken: a search never fails on bad data."""
        try:
            return cls.parse(text)
        except BrokenOpeningHours:
            return cls(text or "", None)

    @property
    def known(self) -> bool:
        """True when we can tell whether the place is open."""
        return self.expression is not None

    def is_open(self, moment: datetime) -> bool:
        """Open at this moment (unknown hours count as not open)."""
        return self.expression is not None and self.expression.is_open(_local(moment))

    def intervals_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The opening intervals of one calendar day, in Paris time."""
        if self.expression is None:
            return []
        start = datetime.combine(day, time(0, 0), tzinfo=PARIS)
        end = start + timedelta(days=1)
        spans: list[tuple[datetime, datetime]] = []
        for begin, finish, state, _comment in self.expression.intervals(start, end):
            if state == State.OPEN:
                spans.append((_local(begin), _local(min(finish, end) if finish else end)))
        return spans

    def is_open_on(self, day: date) -> bool:
        """Open at some time on that day."""
        return bool(self.intervals_on(day))

    def day_text(self, day: date) -> str:
        """'9h30-13h, 13h45-15h45' or 'fermé' for that day; '' when the hours are unknown."""
        if self.expression is None:
            return ""
        spans = self.intervals_on(day)
        if not spans:
            return "fermé"
        return ", ".join(f"{_hhmm(a)}-{'24h' if b.time() == time(0) and b.date() > a.date() else _hhmm(b)}"
                         for a, b in spans)

    def week_groups(self, now: datetime) -> list[tuple[int, int, str]]:
        """The coming seven days, Monday to Sunday, as runs of days with the same hours: (first, last, hours)."""
        if self.expression is None:
            return []
        groups: list[tuple[int, int, str]] = []
        for weekday in range(7):
            hours = self.day_text(next_weekday(now, weekday))
            if groups and groups[-1][2] == hours:
                groups[-1] = (groups[-1][0], weekday, hours)
            else:
                groups.append((weekday, weekday, hours))
        return groups

    def week_text(self, now: datetime, short: bool = False) -> str:
        """'du lundi au vendredi : 9h-12h ; samedi et dimanche : fermé' ('lun-ven 9h-12h; sam-dim fermé' if short)."""
        parts: list[str] = []
        for first, last, hours in self.week_groups(now):
            if short:
                days = WEEKDAYS_FR[first][:3] + (f"-{WEEKDAYS_FR[last][:3]}" if last != first else "")
                parts.append(f"{days} {hours}")
            elif first == last:
                parts.append(f"{WEEKDAYS_FR[first]} : {hours}")
            elif last == first + 1:
                parts.append(f"{WEEKDAYS_FR[first]} et {WEEKDAYS_FR[last]} : {hours}")
            else:
                parts.append(f"du {WEEKDAYS_FR[first]} au {WEEKDAYS_FR[last]} : {hours}")
        return ("; " if short else " ; ").join(parts)

    def today_text(self, now: datetime) -> str:
        """Today's hours as a French sentence, with whether it is open right now."""
        if self.expression is None:
            return "Horaires non indiqués : appelez avant de venir."
        local = _local(now)
        day = WEEKDAYS_FR[local.weekday()]
        hours = self.day_text(local.date())
        if hours == "fermé":
            return f"Fermé aujourd'hui ({day})."
        state = "ouvert en ce moment" if self.is_open(local) else "fermé en ce moment"
        return f"Aujourd'hui ({day}) : {hours} ({state})."


def next_weekday(now: datetime, weekday: int) -> date:
    """The date of the next given weekday (0 = Monday), today included."""
    local = _local(now)
    return (local + timedelta(days=(weekday - local.weekday()) % 7)).date()
