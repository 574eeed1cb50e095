"""Service figures from a scripted day of requests with fixed clocks (Monday 11 March 2024, Lille time)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from bot.handoff.callbacks import CallbackBook
from bot.handoff.figures import (
    agents_csv,
    callbacks_chart,
    channels_chart,
    figures_csv,
    per_channel,
    per_day,
    requests_chart,
    satisfaction_chart,
    service_figures,
    wait_chart,
)
from bot.handoff.store import CLOSED_BY_AGENT, USER_LEFT, WAIT_TIMEOUT, HandoffQueue
from bot.handoff.survey import NO, YES, SurveyBook
from bot.web.agents.pages import figures_context
from bot.web.templating import render
from tests.handoff.helpers import sqlite_engine

MONDAY = datetime(2024, 3, 11, 8, 0)  # 09:00 in Lille (naive UTC, as stored)


def figures_page(rows, start, end, agents=None):
    """The agents' figures page for these rows, as the portal renders it."""
    return render("agents/figures.html", **figures_context(rows, start, end, (end - start).days + 1, agents))


def scripted_day(tmp_path):
    engine = sqlite_engine(tmp_path)
    queue = HandoffQueue(engine)

    def at(minutes: float) -> datetime:
        return MONDAY + timedelta(minutes=minutes)

    answered_fast = queue.enqueue("web-a", "webchat", [], now=at(0))
    queue.take(answered_fast.id, "alice", now=at(2))  # waited 2 min
    answered_slow = queue.enqueue("web-b", "webchat", [], now=at(10))
    queue.take(answered_slow.id, "bob", now=at(20))  # waited 10 min
    left = queue.enqueue("web-c", "webchat", [], now=at(60))
    queue.close(left.id, USER_LEFT, now=at(65))  # the person left before anyone took it
    expired = queue.enqueue("sms-d", "sms", [], now=at(180))
    queue.close(expired.id, WAIT_TIMEOUT, now=at(195))
    by_sms = queue.enqueue("sms-e", "sms", [], now=at(240))
    queue.take(by_sms.id, "alice", now=at(241))  # waited 1 min
    late_evening = queue.enqueue("web-f", "webchat", [], now=at(16 * 60 + 30))  # 00:30 on Tuesday in Lille
    queue.take(late_evening.id, "bob", now=at(16 * 60 + 33))
    book = CallbackBook(engine)
    in_time = book.add("06 12 34 56 78", "webchat", "Lille", None, now=at(30))
    late = book.add("06 98 76 54 32", "sms", "Roubaix", None, now=at(35))
    book.done(in_time.id, now=at(90))
    book.done(late.id, now=at(35 + 25 * 60))  # 25 hours later
    # Satisfaction: asked when the agent ended the conversation; one yes, one no, one left unanswered.
    surveys = SurveyBook(engine)
    for request, ended, answer in ((answered_fast, 30, YES), (answered_slow, 40, None), (by_sms, 250, NO)):
        closed = queue.close(request.id, CLOSED_BY_AGENT, agent_name=queue.get(request.id).agent_name, now=at(ended))
        surveys.mark_asked(closed, now=at(ended))
        if answer is not None:
            surveys.answer(closed.sender_id, answer, now=at(ended + 1))
    return engine


def test_figures_of_a_scripted_day_per_day_and_channel(tmp_path):
    rows = service_figures(scripted_day(tmp_path), date(2024, 3, 11), date(2024, 3, 12))
    summary = [(r.day.isoformat(), r.channel, r.requests, r.answered, r.abandoned, r.expired, r.median_wait,
                r.p90_wait, r.callbacks_done, r.callbacks_in_time) for r in rows]
    assert summary == [
        ("2024-03-11", "sms", 2, 1, 0, 1, 60.0, 60.0, 1, 0),
        ("2024-03-11", "webchat", 3, 2, 1, 0, 360.0, 600.0, 1, 1),
        ("2024-03-12", "webchat", 1, 1, 0, 0, 180.0, 180.0, 0, 0),  # 00:30 in Lille counts on Tuesday
    ]
    monday = per_day(rows)[0]
    assert (monday.requests, monday.answered, monday.median_wait, monday.p90_wait) == (5, 3, 120.0, 600.0)
    week = per_day(rows, date(2024, 3, 10), date(2024, 3, 16))  # every day of the period, even empty ones
    assert [(d.day.day, d.requests) for d in week] == [(10, 0), (11, 5), (12, 1), (13, 0), (14, 0), (15, 0), (16, 0)]


def test_figures_export_as_csv_and_draw_as_svg_without_script(tmp_path):
    rows = service_figures(scripted_day(tmp_path), date(2024, 3, 11), date(2024, 3, 11))
    assert figures_csv(rows).splitlines() == [
        "jour,canal,demandes,repondues,abandonnees,expirees,attente_mediane_s,attente_p90_s,rappels_faits,"
        "rappels_dans_les_temps,satisfaction_questions,satisfaction_oui,satisfaction_en_partie,satisfaction_non",
        "2024-03-11,sms,2,1,0,1,60,60,1,0,1,0,0,1",
        "2024-03-11,webchat,3,2,1,0,360,600,1,1,2,1,0,0",
    ]
    days = per_day(rows)
    chart = requests_chart(days)
    assert chart.startswith("<svg") and "<script" not in chart and 'role="img"' in chart
    assert "<title>11/03 : 3 répondues</title>" in chart and "<title>11/03 : 1 expirées</title>" in chart
    assert "<title>11/03 : 90 % 10,0 min</title>" in wait_chart(days)
    assert '<th scope="row">11/03/2024</th><td class="text">chat web</td><td>3</td>' in figures_page(
        rows, date(2024, 3, 11), date(2024, 3, 17))


def test_no_request_gives_an_empty_table_not_an_error(tmp_path):
    rows = service_figures(sqlite_engine(tmp_path), date(2024, 1, 1), date(2024, 1, 7))
    assert rows == [] and "Aucune demande sur cette période." in figures_page(
        rows, date(2024, 1, 1), date(2024, 1, 7))
    assert figures_csv(rows).count("\n") == 1


def test_satisfaction_and_callbacks_per_day_and_channel_with_per_agent_results(tmp_path):
    engine = scripted_day(tmp_path)
    rows = service_figures(engine, date(2024, 3, 11), date(2024, 3, 12))
    monday = per_day(rows)[0]
    assert (monday.survey.asked, monday.survey.answered, monday.survey.yes, monday.survey.no) == (3, 2, 1, 1)
    assert (monday.callbacks_done, monday.callbacks_in_time, monday.callbacks_late) == (2, 1, 1)
    channels = per_channel(rows)
    assert [(c.channel, c.requests, c.answered, c.median_wait, c.survey.yes, c.survey.no) for c in channels] == [
        ("sms", 2, 1, 60.0, 0, 1), ("webchat", 4, 3, 180.0, 1, 0)]
    by_agent = SurveyBook(engine).by_agent(date(2024, 3, 11), date(2024, 3, 12))
    assert [(a.login, a.counts.asked, a.counts.answered, a.counts.yes, a.counts.no) for a in by_agent] == [
        ("alice", 2, 2, 1, 1), ("bob", 1, 0, 0, 0)]
    assert agents_csv(by_agent).splitlines()[1:] == ["alice,Alice,2,2,1,0,1", "bob,Bob,1,0,0,0,0"]
    days = per_day(rows)
    assert "<title>11/03 : 1 dans les 24 h</title>" in callbacks_chart(days)
    assert "<title>11/03 : 1 en retard</title>" in callbacks_chart(days)
    assert "<title>11/03 : 1 oui</title>" in satisfaction_chart(days)
    assert "<title>11/03 : 1 non</title>" in satisfaction_chart(days)
    assert "<title>chat web : 3 répondues</title>" in channels_chart(channels)


def test_every_chart_has_its_data_table_and_per_agent_results_only_when_given(tmp_path):
    engine = scripted_day(tmp_path)
    rows = service_figures(engine, date(2024, 3, 11), date(2024, 3, 17))
    page = figures_page(rows, date(2024, 3, 11), date(2024, 3, 17))
    assert page.count('role="img"') == 5 and page.count("<table") == 6 and "<script" not in page
    for caption in ("Demandes par jour", "Attente par jour", "Rappels par jour", "Satisfaction par jour",
                    "Totaux de la période par canal", "Chiffres du service, par jour et par canal"):
        assert f"<caption>{caption}</caption>" in page
    assert '<tr><th scope="row">11/03/2024</th><td>5</td><td>3</td><td>1</td><td>1</td></tr>' in page
    assert "2 réponses sur 3 questions posées : oui 1 (50 %), en partie 0 (0 %), non 1 (50 %)." in page
    assert "Satisfaction par agent" not in page and "<details>" not in page
    with_agents = figures_page(rows, date(2024, 3, 11), date(2024, 3, 17),
                               SurveyBook(engine).by_agent(date(2024, 3, 11), date(2024, 3, 17)))
    assert '<tr><th scope="row">Alice</th><td>2</td><td>2</td><td>1</td><td>0</td><td>1</td><td>50 %</td></tr>' \
        in with_agents
    year = figures_page(rows, date(2023, 3, 18), date(2024, 3, 17))
    assert year.count("<details>") == 4  # a year's daily tables are folded under their charts
