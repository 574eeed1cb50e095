"""The desk's pages: login and logout, the console shell, the service figures and their CSV files."""

from __future__ import annotations

import asyncio
import hmac
import logging
import secrets
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sanic import Sanic, response
from sanic.request import Request

from bot.handoff.figures import (
    AGENT_HEADERS,
    DETAIL_CAPTION,
    DETAIL_HEADERS,
    DayFigures,
    agent_rows,
    agents_csv,
    chart_blocks,
    detail_rows,
    figures_csv,
    is_long_period,
    service_figures,
)
from bot.handoff.sessions import AgentSession
from bot.handoff.survey import AgentSatisfaction
from bot.web.agents.auth import (
    LOGIN_CSRF_COOKIE,
    LOGIN_URL,
    SESSION_COOKIE,
    admin_only,
    agent_session,
    current_session,
    same_origin,
)
from bot.web.agents.context import AgentsContext, agents_of
from bot.web.agents.responses import csv_download, delete_cookie, error, page, redirect, set_cookie
from bot.web.agents.throttle import client_of

logger = logging.getLogger(__name__)

PERIODS = ((7, "7 jours"), (30, "30 jours"), (365, "un an"))
TOO_MANY_TRIES = ("Trop d'essais depuis cet appareil. Attendez 15 minutes avant de réessayer, "
                  "ou demandez à l'administrateur de vérifier votre compte.")


async def console(request: Request) -> response.HTTPResponse:
    """The console shell; console.js fills it from the live streams of the API."""
    session = await current_session(request)
    if session is None:
        return redirect(LOGIN_URL)
    await asyncio.to_thread(agents_of(request).directory.heartbeat, session.agent.id)
    return page("console.html", agent=session.agent, csrf=session.csrf_token)


def fresh_login_form(agents: AgentsContext, error_text: str | None = None, status: int = 200) -> response.HTTPResponse:
    """The login form with a new CSRF token, also set in a cookie (double submit)."""
    token = secrets.token_urlsafe(24)
    resp = page("login.html", status, csrf=token, error=error_text)
    set_cookie(resp, LOGIN_CSRF_COOKIE, token, agents.config, path=LOGIN_URL)
    return resp


async def login_form(request: Request) -> response.HTTPResponse:
    """The login form, or the console for an agent already logged in."""
    if await current_session(request) is not None:
        return redirect("/agents")
    return fresh_login_form(agents_of(request))


async def login(request: Request) -> response.HTTPResponse:
    """Check the form's token, the throttle, then the password; a session cookie on success."""
    agents = agents_of(request)
    sent, expected = request.form.get("csrf") or "", request.cookies.get(LOGIN_CSRF_COOKIE) or ""
    if not same_origin(request) or not expected or not hmac.compare_digest(sent, expected):
        return fresh_login_form(agents, "La page de connexion a expiré. Réessayez.", 403)
    name = (request.form.get("name") or "").strip()[:64]
    password = request.form.get("password") or ""
    client = client_of(request)
    if not await agents.throttle.check(name, client):
        return fresh_login_form(agents, TOO_MANY_TRIES, 429)
    agent = await asyncio.to_thread(agents.directory.authenticate, name, password)
    if agent is None:
        logger.info("Failed agent login.")
        return fresh_login_form(agents, "Nom ou mot de passe incorrect.", 401)
    await agents.throttle.succeeded(name, client)
    resp = redirect("/agents", status=303)
    set_cookie(resp, SESSION_COOKIE, await asyncio.to_thread(agents.sessions.create, agent), agents.config)
    delete_cookie(resp, LOGIN_CSRF_COOKIE, path=LOGIN_URL)
    return resp


async def logout(request: Request) -> response.HTTPResponse:
    """End the session and mark the agent unavailable (a form post, with the console's CSRF token)."""
    session = await current_session(request)
    if session is not None:
        if not same_origin(request) or not session.csrf_matches(request.form.get("csrf")):
            return error("Requête refusée (jeton de sécurité invalide). Rechargez la page.", 403)
        agents = agents_of(request)
        await asyncio.to_thread(agents.directory.set_available, session.agent.id, False)
        await asyncio.to_thread(agents.sessions.destroy, request.cookies.get(SESSION_COOKIE))
    resp = redirect(LOGIN_URL, status=303)
    delete_cookie(resp, SESSION_COOKIE)
    return resp


def figures_period(request: Request, timezone: str) -> tuple[date, date, int]:
    """The last `days` days (7 unless asked, one to 366), ending today in the service's time zone."""
    try:
        days = int(request.args.get("days") or 7)
    except ValueError:
        days = 7
    days = min(max(days, 1), 366)
    end = datetime.now(ZoneInfo(timezone)).date()
    return end - timedelta(days=days - 1), end, days


async def figures_page(request: Request) -> response.HTTPResponse:
    """The service figures: charts (SVG drawn here, no script) and the exact table; CSV to download."""
    session = await current_session(request)
    if session is None:
        return redirect(LOGIN_URL)
    agents = agents_of(request)
    start, end, days = figures_period(request, agents.config.timezone)
    rows = await asyncio.to_thread(service_figures, agents.engine, start, end, agents.config.timezone)
    per_agent = await asyncio.to_thread(agents.surveys.by_agent, start, end, agents.config.timezone) \
        if session.agent.is_admin else None  # satisfaction per agent: admins only
    return page("figures.html", **figures_context(rows, start, end, days, per_agent))


def figures_context(rows: list[DayFigures], start: date, end: date, days: int,
                    per_agent: list[AgentSatisfaction] | None) -> dict[str, Any]:
    """What figures.html shows: each chart next to its table, the detail per day and channel, per agent (admins)."""
    return {"start": start, "end": end, "days": days, "periods": PERIODS, "blocks": chart_blocks(rows, start, end),
            "fold": is_long_period(start, end), "detail_caption": DETAIL_CAPTION, "detail_headers": DETAIL_HEADERS,
            "detail": detail_rows(rows), "agent_headers": AGENT_HEADERS,
            "per_agent": agent_rows(per_agent) if per_agent is not None else None}


@agent_session
@admin_only("Seuls les comptes administrateurs voient la satisfaction par agent.")
async def agents_figures_csv(request: Request, _: AgentSession) -> response.HTTPResponse:
    """Satisfaction per agent: admins only (403 for other agents)."""
    agents = agents_of(request)
    start, end, _days = figures_period(request, agents.config.timezone)
    results = await asyncio.to_thread(agents.surveys.by_agent, start, end, agents.config.timezone)
    return csv_download(agents_csv(results), f"numecrivain-satisfaction-agents-{start}-{end}.csv")


@agent_session
async def figures_csv_export(request: Request, _: AgentSession) -> response.HTTPResponse:
    """The service figures of the period, one line per day and channel."""
    agents = agents_of(request)
    start, end, _days = figures_period(request, agents.config.timezone)
    rows = await asyncio.to_thread(service_figures, agents.engine, start, end, agents.config.timezone)
    return csv_download(figures_csv(rows), f"numecrivain-chiffres-{start}-{end}.csv")


def register(app: Sanic) -> None:
    """Attach the pages (a redirect to the login page without a session) and the figures' CSV files."""
    app.add_route(console, "/agents")
    app.add_route(login_form, LOGIN_URL)
    app.add_route(login, LOGIN_URL, methods=["POST"], name="login_post")
    app.add_route(logout, "/agents/logout", methods=["POST"])
    app.add_route(figures_page, "/agents/figures")
    app.add_route(agents_figures_csv, "/agents/figures/agents.csv")
    app.add_route(figures_csv_export, "/agents/figures.csv")
