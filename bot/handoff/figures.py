"""Service figures of the handoff for the council: waiting times, answered, abandoned and expired requests,
callbacks done in time; per day (local time) and channel, as rows, CSV and SVG charts (no third-party script)."""

from __future__ import annotations

import csv
import html
import io
import math
import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.future import Engine

from bot.handoff.callbacks import callback_outcomes_table
from bot.handoff.render import channel_in_french
from bot.handoff.store import USER_LEFT, WAIT_TIMEOUT, requests_table
from bot.handoff.survey import ANSWER_LABELS, NO, PARTLY, YES, AgentSatisfaction, SurveyBook, SurveyCounts

CALLBACK_DEADLINE = timedelta(hours=24)  # a callback counts as "in time" when done within a day of the request
CSV_COLUMNS = ("jour", "canal", "demandes", "repondues", "abandonnees", "expirees", "attente_mediane_s",
               "attente_p90_s", "rappels_faits", "rappels_dans_les_temps", "satisfaction_questions",
               "satisfaction_oui", "satisfaction_en_partie", "satisfaction_non")
AGENT_CSV_COLUMNS = ("agent", "nom_affiche", "satisfaction_questions", "satisfaction_reponses", "satisfaction_oui",
                     "satisfaction_en_partie", "satisfaction_non")
LONG_PERIOD_DAYS = 31  # beyond a month, the tables under the charts are folded (the CSV has every line)


@dataclass
class DayFigures:
    """One day and channel."""

    day: date
    channel: str
    requests: int = 0
    answered: int = 0
    abandoned: int = 0
    expired: int = 0
    waits: list[float] = field(default_factory=list)
    callbacks_done: int = 0
    callbacks_in_time: int = 0
    survey: SurveyCounts = field(default_factory=SurveyCounts)

    @property
    def callbacks_late(self) -> int:
        return self.callbacks_done - self.callbacks_in_time

    @property
    def median_wait(self) -> float | None:
        return statistics.median(self.waits) if self.waits else None

    @property
    def p90_wait(self) -> float | None:
        """Nearest-rank 90th percentile (a value that really happened)."""
        if not self.waits:
            return None
        ordered = sorted(self.waits)
        return ordered[max(0, math.ceil(0.9 * len(ordered)) - 1)]


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.replace(tzinfo=timezone.utc).astimezone(zone).date()


def service_figures(engine: Engine, start: date, end: date, tz: str = "Europe/Paris") -> list[DayFigures]:
    """Figures from `start` to `end` included (local days), by day then channel.

    answered: taken by an agent; wait: from the request to the take; abandoned: the person left before anyone took
    it; expired: nobody took it in time. A request counts on the day it was made."""
    zone = ZoneInfo(tz)
    low = datetime.combine(start, datetime.min.time(), zone).astimezone(timezone.utc).replace(tzinfo=None)
    high = datetime.combine(end + timedelta(days=1), datetime.min.time(), zone).astimezone(timezone.utc) \
        .replace(tzinfo=None)
    table: dict[tuple[date, str], DayFigures] = {}

    def row_for(day: date, channel: str) -> DayFigures:
        return table.setdefault((day, channel), DayFigures(day, channel))

    with engine.connect() as conn:
        requests = conn.execute(select(
            requests_table.c.channel, requests_table.c.requested_at, requests_table.c.taken_at,
            requests_table.c.close_reason,
        ).where(requests_table.c.requested_at >= low, requests_table.c.requested_at < high)).all()
        callbacks = conn.execute(select(callback_outcomes_table).where(
            callback_outcomes_table.c.requested_at >= low, callback_outcomes_table.c.requested_at < high)).all()
    for request in requests:
        figures = row_for(_local_day(request.requested_at, zone), request.channel)
        figures.requests += 1
        if request.taken_at is not None:
            figures.answered += 1
            figures.waits.append((request.taken_at - request.requested_at).total_seconds())
        elif request.close_reason == USER_LEFT:
            figures.abandoned += 1
        elif request.close_reason == WAIT_TIMEOUT:
            figures.expired += 1
    for callback in callbacks:
        figures = row_for(_local_day(callback.requested_at, zone), callback.channel or "inconnu")
        figures.callbacks_done += 1
        if callback.done_at - callback.requested_at <= CALLBACK_DEADLINE:
            figures.callbacks_in_time += 1
    for (day, channel), counts in SurveyBook(engine).by_day_and_channel(start, end, tz).items():
        row_for(day, channel).survey = counts
    return [table[key] for key in sorted(table)]


def _seconds(value: float | None) -> str:
    return "" if value is None else str(round(value))


def figures_csv(rows: list[DayFigures]) -> str:
    """The rows as CSV (comma-separated, UTF-8, one line per day and channel)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for r in rows:
        writer.writerow([r.day.isoformat(), r.channel, r.requests, r.answered, r.abandoned, r.expired,
                         _seconds(r.median_wait), _seconds(r.p90_wait), r.callbacks_done, r.callbacks_in_time,
                         r.survey.asked, r.survey.yes, r.survey.partly, r.survey.no])
    return out.getvalue()


def agents_csv(results: list[AgentSatisfaction]) -> str:
    """Satisfaction per agent as CSV (for admins only)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(AGENT_CSV_COLUMNS)
    for result in results:
        c = result.counts
        writer.writerow([result.login, result.display_name, c.asked, c.answered, c.yes, c.partly, c.no])
    return out.getvalue()


def per_day(rows: list[DayFigures], start: date | None = None, end: date | None = None) -> list[DayFigures]:
    """All channels together, one row per day (every day from start to end, when given, even without requests)."""
    days: dict[date, DayFigures] = defaultdict(lambda: DayFigures(date.min, "tous"))
    if start is not None and end is not None:
        for offset in range((end - start).days + 1):
            day = start + timedelta(days=offset)
            days[day] = DayFigures(day, "tous")
    for r in rows:
        total = days[r.day]
        total.day = r.day
        _add_into(total, r)
    return [days[d] for d in sorted(days)]


def _add_into(total: DayFigures, r: DayFigures) -> None:
    """Add one row's counts to a running total."""
    total.requests += r.requests
    total.answered += r.answered
    total.abandoned += r.abandoned
    total.expired += r.expired
    total.waits += r.waits
    total.callbacks_done += r.callbacks_done
    total.callbacks_in_time += r.callbacks_in_time
    total.survey = _add_counts(total.survey, r.survey)


def _add_counts(a: SurveyCounts, b: SurveyCounts) -> SurveyCounts:
    return SurveyCounts(a.asked + b.asked, a.yes + b.yes, a.partly + b.partly, a.no + b.no)


def per_channel(rows: list[DayFigures]) -> list[DayFigures]:
    """All days together, one row per channel (the period's totals), channels in alphabetical order."""
    channels: dict[str, DayFigures] = {}
    for r in rows:
        total = channels.setdefault(r.channel, DayFigures(date.min, r.channel))
        _add_into(total, r)
    return [channels[c] for c in sorted(channels)]


def _minutes(seconds: float | None) -> str:
    return "–" if seconds is None else f"{seconds / 60:.1f}".replace(".", ",") + " min"


def _label_every(count: int, most: int = 14) -> int:
    """Write a label under every n-th bar only, so that labels never overlap (`most` labels at most)."""
    return max(1, math.ceil(count / most))


# Charts are drawn in a 480×240 box: on a 360 px phone their 14-unit text is still about 10 px high.
WIDTH, HEIGHT, LEFT, BOTTOM, TOP = 480, 240, 44, 34, 34
GREEN, AMBER, RED, BLUE, SLATE = "#1e7b34", "#8a5a00", "#a4001d", "#0b4f9c", "#5b6f8f"


def _frame(chart_id: str, title: str, description: str, top_label: str) -> list[str]:
    """The opening of a chart: accessible name and description, the axis with its 0 and its top value."""
    return [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
            f'aria-labelledby="{chart_id}-t {chart_id}-d" class="chart" id="{chart_id}" '
            'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif">',
            f'<title id="{chart_id}-t">{html.escape(title)}</title>',
            f'<desc id="{chart_id}-d">{html.escape(description)} Les chiffres exacts sont dans le tableau.</desc>',
            f'<text x="{LEFT - 4}" y="{HEIGHT - BOTTOM + 4}" text-anchor="end" font-size="13">0</text>',
            f'<text x="{LEFT - 4}" y="{TOP + 4}" text-anchor="end" font-size="13">{html.escape(top_label)}</text>',
            f'<line x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - 6}" y2="{HEIGHT - BOTTOM}" stroke="#5f6b7a"/>',
            f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}" stroke="#5f6b7a"/>']


def _legend(entries: list[tuple[str, str]]) -> str:
    parts, x = [], LEFT
    for name, colour in entries:
        parts.append(f'<rect x="{x}" y="6" width="14" height="14" fill="{colour}"/>'
                     f'<text x="{x + 18}" y="18" font-size="14">{html.escape(name)}</text>')
        x += 30 + 8 * len(name)
    return "".join(parts)


def _x_label(x: float, label: str) -> str:
    return f'<text x="{x:.1f}" y="{HEIGHT - 12}" text-anchor="middle" font-size="13">{html.escape(label)}</text>'


def stacked_chart(chart_id: str, title: str, description: str, labels: list[str],
                  series: list[tuple[str, str, list[int]]]) -> str:
    """Stacked bars, one per label, one colour per series, with a title, a description, an axis and a legend."""
    step = (WIDTH - LEFT - 8) / max(len(labels), 1)
    bar = min(40.0, step * 0.7)
    every = _label_every(len(labels), 8)
    totals = [sum(values[index] for _, _, values in series) for index in range(len(labels))]
    top = max([*totals, 1])
    scale = (HEIGHT - BOTTOM - TOP) / top
    parts = _frame(chart_id, title, description, str(top))
    for index, label in enumerate(labels):
        x, base = LEFT + 4 + index * step + (step - bar) / 2, float(HEIGHT - BOTTOM)
        for name, colour, values in series:
            value = values[index]
            if value:
                h = value * scale
                base -= h
                parts.append(f'<rect x="{x:.1f}" y="{base:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                             f'<title>{html.escape(label)} : {value} {html.escape(name)}</title></rect>')
        if index % every == 0:
            parts.append(_x_label(x + bar / 2, label))
    parts.append(_legend([(name, colour) for name, colour, _ in series]))
    parts.append("</svg>")
    return "".join(parts)


def requests_chart(days: list[DayFigures], chart_id: str = "chart-requests") -> str:
    """Stacked bars per day: answered, abandoned, expired."""
    return stacked_chart(chart_id, "Demandes par jour",
                         "Barres empilées : demandes répondues, abandonnées et expirées, par jour.",
                         [f"{d.day:%d/%m}" for d in days],
                         [("répondues", GREEN, [d.answered for d in days]),
                          ("abandonnées", AMBER, [d.abandoned for d in days]),
                          ("expirées", RED, [d.expired for d in days])])


def wait_chart(days: list[DayFigures], chart_id: str = "chart-wait") -> str:
    """Median and 90th-percentile wait per day, in minutes (paired bars)."""
    step = (WIDTH - LEFT - 8) / max(len(days), 1)
    bar = min(18.0, step * 0.35)
    every = _label_every(len(days), 8)
    top = math.ceil(max([d.p90_wait or 0 for d in days] + [60]) / 60)  # whole minutes, so the label is exact
    scale = (HEIGHT - BOTTOM - TOP) / top
    parts = _frame(chart_id, "Temps d'attente par jour",
                   "Pour chaque jour, l'attente médiane puis celle que 90 % des personnes n'ont pas dépassée, "
                   "en minutes.", str(top))
    for index, day in enumerate(days):
        x = LEFT + 4 + index * step + (step - 2 * bar) / 2
        for offset, value, colour, label in ((0, day.median_wait, BLUE, "médiane"),
                                             (bar, day.p90_wait, SLATE, "90 %")):
            if value is None:
                continue
            h = value / 60 * scale
            parts.append(f'<rect x="{x + offset:.1f}" y="{HEIGHT - BOTTOM - h:.1f}" width="{bar:.1f}" '
                         f'height="{h:.1f}" fill="{colour}"><title>{day.day:%d/%m} : {label} {_minutes(value)}'
                         "</title></rect>")
        if index % every == 0:
            parts.append(_x_label(x + bar, f"{day.day:%d/%m}"))
    parts.append(_legend([("médiane (min)", BLUE), ("90 % des personnes (min)", SLATE)]))
    parts.append("</svg>")
    return "".join(parts)


DETAIL_CAPTION = "Chiffres du service, par jour et par canal"
DETAIL_HEADERS = ("Jour", "Canal", "Demandes", "Répondues", "Abandonnées", "Expirées", "Attente médiane",
                  "Attente (90 %)", "Rappels faits", "Rappels dans les 24 h")
AGENT_HEADERS = ("Agent", "Questions posées", "Réponses", "Oui", "En partie", "Non", "Part de oui")


def detail_rows(rows: list[DayFigures]) -> list[tuple[str, ...]]:
    """The exact figures, one line per day and channel (the charts' accessible alternative): day, channel, counts."""
    return [(f"{r.day:%d/%m/%Y}", channel_in_french(r.channel), str(r.requests), str(r.answered), str(r.abandoned),
             str(r.expired), _minutes(r.median_wait), _minutes(r.p90_wait), str(r.callbacks_done),
             str(r.callbacks_in_time)) for r in rows]


def callbacks_chart(days: list[DayFigures], chart_id: str = "chart-callbacks") -> str:
    """Callbacks done per day: within 24 hours of the request, or later."""
    return stacked_chart(chart_id, "Rappels faits par jour",
                         "Barres empilées : rappels faits dans les 24 heures après la demande, puis en retard.",
                         [f"{d.day:%d/%m}" for d in days],
                         [("dans les 24 h", BLUE, [d.callbacks_in_time for d in days]),
                          ("en retard", RED, [d.callbacks_late for d in days])])


def satisfaction_chart(days: list[DayFigures], chart_id: str = "chart-satisfaction") -> str:
    """Answers to "Avez-vous obtenu l'aide dont vous aviez besoin ?" per day."""
    return stacked_chart(chart_id, "Satisfaction par jour",
                         "Barres empilées : réponses oui, en partie et non à la question « Avez-vous obtenu l'aide "
                         "dont vous aviez besoin ? », par jour.",
                         [f"{d.day:%d/%m}" for d in days],
                         [("oui", GREEN, [d.survey.yes for d in days]),
                          ("en partie", AMBER, [d.survey.partly for d in days]),
                          ("non", RED, [d.survey.no for d in days])])


def channels_chart(channels: list[DayFigures], chart_id: str = "chart-channels") -> str:
    """The period's requests per channel: answered, abandoned, expired."""
    return stacked_chart(chart_id, "Demandes par canal sur la période",
                         "Barres empilées : demandes répondues, abandonnées et expirées, pour chaque canal.",
                         [channel_in_french(c.channel) for c in channels],
                         [("répondues", GREEN, [c.answered for c in channels]),
                          ("abandonnées", AMBER, [c.abandoned for c in channels]),
                          ("expirées", RED, [c.expired for c in channels])])


def _share(part: int, whole: int) -> str:
    return "–" if not whole else f"{round(100 * part / whole)} %"


def satisfaction_summary(days: list[DayFigures]) -> str:
    """One sentence for the period: how many answered, and how."""
    total = SurveyCounts()
    for d in days:
        total = _add_counts(total, d.survey)
    if not total.asked:
        return "Aucune question de satisfaction posée sur cette période."
    return (f"{total.answered} réponse{'s' if total.answered > 1 else ''} sur {total.asked} question"
            f"{'s' if total.asked > 1 else ''} posée{'s' if total.asked > 1 else ''} : "
            f"{ANSWER_LABELS[YES].lower()} {total.yes} ({_share(total.yes, total.answered)}), "
            f"{ANSWER_LABELS[PARTLY].lower()} {total.partly} ({_share(total.partly, total.answered)}), "
            f"{ANSWER_LABELS[NO].lower()} {total.no} ({_share(total.no, total.answered)}).")


def agent_rows(results: list[AgentSatisfaction]) -> list[tuple[str, ...]]:
    """Satisfaction per agent (shown to admins only), in the order of AGENT_HEADERS."""
    return [(r.display_name, str(r.counts.asked), str(r.counts.answered), str(r.counts.yes), str(r.counts.partly),
             str(r.counts.no), _share(r.counts.yes, r.counts.answered)) for r in results]


def is_long_period(start: date, end: date) -> bool:
    """Beyond a month, the daily tables under the charts are folded (the CSV has every line)."""
    return (end - start).days + 1 > LONG_PERIOD_DAYS


@dataclass(frozen=True)
class ChartBlock:
    """One chart with its data table: what both the agents' figures page and the council's usage page show."""

    key: str
    heading: str
    title: str  # the chart's accessible name
    description: str
    svg: str
    caption: str
    headers: tuple[str, ...]
    rows: list[tuple[str, ...]]
    empty: str
    note: str = ""
    per_day: bool = True

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (the council's usage page draws the SVG as an image next to the table)."""
        return {"key": self.key, "heading": self.heading, "title": self.title, "description": self.description,
                "svg": self.svg, "caption": self.caption, "headers": list(self.headers),
                "rows": [list(row) for row in self.rows], "empty": self.empty, "note": self.note}


def chart_blocks(rows: list[DayFigures], start: date, end: date) -> list[ChartBlock]:
    """The five charts of a period (requests, wait, callbacks, satisfaction per day; requests per channel)."""
    days = per_day(rows, start, end)
    channels = per_channel(rows)
    empty = "Aucune demande sur cette période."
    labelled = [(f"{d.day:%d/%m/%Y}", d) for d in days]
    return [
        ChartBlock("requests", "Demandes", "Demandes par jour",
                   "Barres empilées : demandes répondues, abandonnées et expirées, par jour.",
                   requests_chart(days), "Demandes par jour",
                   ("Jour", "Demandes", "Répondues", "Abandonnées", "Expirées"),
                   [(label, str(d.requests), str(d.answered), str(d.abandoned), str(d.expired))
                    for label, d in labelled], empty),
        ChartBlock("wait", "Temps d'attente", "Temps d'attente par jour",
                   "Pour chaque jour, l'attente médiane puis celle que 90 % des personnes n'ont pas dépassée.",
                   wait_chart(days), "Attente par jour",
                   ("Jour", "Attente médiane", "Attente (90 %)", "Conversations prises"),
                   [(label, _minutes(d.median_wait), _minutes(d.p90_wait), str(d.answered))
                    for label, d in labelled], empty),
        ChartBlock("callbacks", "Rappels", "Rappels faits par jour",
                   "Barres empilées : rappels faits dans les 24 heures après la demande, puis en retard.",
                   callbacks_chart(days), "Rappels par jour", ("Jour", "Rappels faits", "Dans les 24 h", "En retard"),
                   [(label, str(d.callbacks_done), str(d.callbacks_in_time), str(d.callbacks_late))
                    for label, d in labelled], "Aucun rappel sur cette période."),
        ChartBlock("satisfaction", "Satisfaction", "Satisfaction par jour",
                   "Barres empilées : réponses oui, en partie et non, par jour.",
                   satisfaction_chart(days), "Satisfaction par jour",
                   ("Jour", "Questions posées", "Réponses", "Oui", "En partie", "Non"),
                   [(label, str(d.survey.asked), str(d.survey.answered), str(d.survey.yes), str(d.survey.partly),
                     str(d.survey.no)) for label, d in labelled], "Aucune question sur cette période.",
                   satisfaction_summary(days) + " Question posée à la fin d'une conversation terminée par un agent : "
                                                "« Avez-vous obtenu l'aide dont vous aviez besoin ? »"),
        ChartBlock("channels", "Par canal", "Demandes par canal sur la période",
                   "Barres empilées : demandes répondues, abandonnées et expirées, pour chaque canal.",
                   channels_chart(channels), "Totaux de la période par canal",
                   ("Canal", "Demandes", "Répondues", "Abandonnées", "Expirées", "Attente médiane",
                    "Attente (90 %)", "Rappels dans les 24 h", "Satisfaction : oui"),
                   [(channel_in_french(c.channel), str(c.requests), str(c.answered), str(c.abandoned),
                     str(c.expired), _minutes(c.median_wait), _minutes(c.p90_wait),
                     f"{c.callbacks_in_time} sur {c.callbacks_done}", f"{c.survey.yes} sur {c.survey.answered}")
                    for c in channels], empty, per_day=False),
    ]


__all__ = [
    "ChartBlock",
    "DayFigures",
    "agent_rows",
    "agents_csv",
    "callbacks_chart",
    "channels_chart",
    "chart_blocks",
    "detail_rows",
    "figures_csv",
    "is_long_period",
    "per_channel",
    "per_day",
    "requests_chart",
    "satisfaction_chart",
    "service_figures",
    "wait_chart",
]
