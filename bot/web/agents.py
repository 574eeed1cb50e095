"""The agents' console (/agents): login, queue, conversation, reply, close, callbacks; plus the handoff APIs.

Routes
- pages: GET /agents, GET|POST /agents/login, POST /agents/logout, static files under /agents/static/
- console API (session cookie + X-CSRF-Token on POST): /agents/api/...
- REST channel outbox (key given in the bot's handoff message): GET /api/handoff/<sender_id>/messages
- channels (Bearer NUMECRIVAIN_INTERNAL_TOKEN): POST /internal/handoff/<sender_id>/left, and
  POST /internal/handoff/<sender_id>/resident (what the person writes, or that they type, pushed by Rasa)
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import json
import logging
import secrets
import time
from collections.abc import Callable, Coroutine
from datetime import date, datetime, timedelta
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo

import aiohttp
from sanic import Sanic, response
from sanic.request import Request

from bot.db import get_engine
from bot.handoff.accounts import AgentDirectory
from bot.handoff.callbacks import CallbackBook, national
from bot.handoff.config import HandoffConfig, get_handoff_config
from bot.handoff.console import READ_FROM_RASA, HandoffDesk, epoch
from bot.handoff.figures import agents_csv, figures_csv, figures_sections, service_figures
from bot.handoff.live import (
    SSE_COMMENT_PING,
    TYPING_SHOWN_SECONDS,
    ConsoleHub,
    ConversationFeed,
    TypingGate,
    resync_seconds,
    sse_event,
)
from bot.handoff.rasa_api import RasaClient
from bot.handoff.render import channel_in_french, present_messages, topic_in_french
from bot.handoff.sessions import AgentSession, SessionStore
from bot.handoff.store import (
    AlreadyTakenError,
    ConversationClosedError,
    HandoffQueue,
    HandoffRequest,
    RequestNotFoundError,
    utcnow,
)
from bot.handoff.survey import SurveyBook, ask_after_close
from bot.handoff.tools import (
    VARIABLES,
    DeskTools,
    ToolError,
    fill_variables,
    france_services_for,
    procedure_choices,
    procedure_for_channel,
)
from bot.handoff.transcript import SYSTEM_AUTHOR
from bot.security import ratelimit

logger = logging.getLogger(__name__)

SESSION_COOKIE = "numecrivain_agent"
LOGIN_CSRF_COOKIE = "numecrivain_login_csrf"
STATIC_DIR = Path(__file__).parent / "static" / "agents"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",  # with no-referrer, Chromium sends "Origin: null" on form posts
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
}
# Login throttle: attempts per (account, client address) pair are refused past the limit; attempts on one
# account from everywhere only slow down (never a lock: nobody can lock a colleague out from elsewhere).
LOGIN_WINDOW_SECONDS = 900
MAX_LOGINS_PER_PAIR = 5
LOGINS_PER_ACCOUNT_BEFORE_SLOWDOWN = 20
LOGIN_SLOWDOWN_SECONDS = 2.0

Handler = Callable[..., Coroutine[Any, Any, response.HTTPResponse]]  # what Sanic's route decorators take


# ----- small helpers -----

def _error(message: str, status: int, **extra: Any) -> response.HTTPResponse:
    return response.json({"error": message, **extra}, status=status, headers=SECURITY_HEADERS)


def _json(body: Any, status: int = 200) -> response.HTTPResponse:
    return response.json(body, status=status, headers=SECURITY_HEADERS)


def _page(body: str, status: int = 200) -> response.HTTPResponse:
    return response.html(body, status=status, headers=SECURITY_HEADERS)


def _same_origin(request: Request) -> bool:
    """A POST must come from our own pages (SameSite=Strict already stops most cross-site requests)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    return urlsplit(origin).netloc == request.host


def _set_cookie(resp: response.HTTPResponse, name: str, value: str, config: HandoffConfig, path: str = "/") -> None:
    resp.cookies[name] = value
    cookie = resp.cookies[name]
    cookie["httponly"] = True
    cookie["samesite"] = "Strict"
    cookie["path"] = path
    if config.cookie_secure:
        cookie["secure"] = True


def _delete_cookie(resp: response.HTTPResponse, name: str, path: str = "/") -> None:
    resp.cookies[name] = ""
    resp.cookies[name]["max-age"] = 0
    resp.cookies[name]["path"] = path


def _request_summary(request: HandoffRequest, now: datetime) -> dict[str, Any]:
    return {
        "id": request.public_id,
        "channel": request.channel,
        "channel_label": channel_in_french(request.channel),
        "commune": request.commune,
        "topic": request.topic,
        "topic_label": topic_in_french(request.topic),
        "status": request.status,
        "agent": request.agent_display_name,
        "requested_at": epoch(request.requested_at),
        "taken_at": epoch(request.taken_at) if request.taken_at else None,
        "waiting_seconds": int((now - request.requested_at).total_seconds()),
    }


def _earlier_summary(request: HandoffRequest) -> dict[str, Any]:
    return {
        "requested_at": epoch(request.requested_at),
        "topic_label": topic_in_french(request.topic),
        "status": request.status,
        "close_reason": request.close_reason,
        "agent": request.agent_display_name,
    }


# Channels where the conversation id stands for one person over time (SMS pseudonym, widget session); a REST
# client chooses its own ids, so two of its conversations with the same id need not be the same person.
SAME_PERSON_CHANNELS = frozenset({"sms", "webchat"})
SSE_HEADERS = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}  # nginx must pass events on at once
RASA_RETRY_SECONDS = 5.0  # an open conversation whose tracker could not be read is tried again this often
MAX_RESIDENT_HOOK_BYTES = 16 * 1024
PRESENCE_REFRESH_SECONDS = 5.0
PING_SECONDS = 15.0
SESSION_CHECK_SECONDS = 30.0


def client_of(request: Request) -> str:
    """The client's address: Sanic's remote_addr when its proxy settings are on (FORWARDED_SECRET,
    PROXIES_COUNT), else the peer; X-Forwarded-For believed only from NUMECRIVAIN_TRUSTED_PROXIES."""
    return ratelimit.client_address(request.remote_addr or request.ip, request.headers.get("x-forwarded-for"))


class LoginThrottle:
    """Login attempts counted in the shared database (every portal process sees the same counts)."""

    def __init__(self, engine: Any = None) -> None:
        self.engine = engine

    async def check(self, name: str, client: str) -> bool:
        """False when this account was tried too often from this address; slows down a much-tried account."""
        pair = f"{name.lower()}|{client}"
        if not await ratelimit.allow_async("login_pair", pair, MAX_LOGINS_PER_PAIR, LOGIN_WINDOW_SECONDS,
                                           engine=self.engine):
            return False
        if not await ratelimit.allow_async("login_account", name.lower(), LOGINS_PER_ACCOUNT_BEFORE_SLOWDOWN,
                                           LOGIN_WINDOW_SECONDS, engine=self.engine):
            await asyncio.sleep(LOGIN_SLOWDOWN_SECONDS)  # a slow-down for a guessing attack, not a lock
        return True

    async def succeeded(self, name: str, client: str) -> None:
        await asyncio.to_thread(ratelimit.reset, "login_pair", f"{name.lower()}|{client}", self.engine)


# ----- pages -----

def _layout(title: str, main: str, scripts: str = "", styles: str = "") -> str:
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} – Numécrivain</title>
<link rel="stylesheet" href="/agents/static/console.css">{styles}
</head>
<body>
<a class="skip" href="#contenu">Aller au contenu</a>
<header class="top"><p class="brand">Numécrivain · Console des agents</p></header>
<main id="contenu" tabindex="-1">
{main}
</main>
{scripts}
</body>
</html>"""


def login_page(csrf: str, error: str | None = None) -> str:
    """The login form (the CSRF token is also in a cookie: double submit)."""
    alert = f'<p class="error" role="alert" id="erreur">{html.escape(error)}</p>' if error else ""
    described = ' aria-describedby="erreur"' if error else ""
    return _layout("Connexion", f"""
<h1>Connexion des agents</h1>
{alert}
<form method="post" action="/agents/login" class="login">
  <input type="hidden" name="csrf" value="{html.escape(csrf)}">
  <label for="name">Nom du compte</label>
  <input id="name" name="name" autocomplete="username" required maxlength="64" autofocus{described}>
  <label for="password">Mot de passe</label>
  <input id="password" name="password" type="password" autocomplete="current-password" required{described}>
  <button type="submit">Se connecter</button>
</form>
<p class="hint">Pas de compte ? Demandez à l'administrateur : <code>make agent NAME=prenom.nom</code>.</p>
""")


def console_page(session: AgentSession) -> str:
    """The console shell; console.js fills it from the live streams of the API."""
    name = html.escape(session.agent.public_name)
    csrf = html.escape(session.csrf_token)
    checked = " checked" if session.agent.available else ""
    return _layout("Console", f"""
<div class="bar">
  <h1>Bonjour {name}</h1>
  <p class="hint">Les usagers voient votre nom affiché : « {name} » (jamais votre nom de compte).</p>
  <div class="presence">
    <input type="checkbox" id="available"{checked}>
    <label for="available">Je suis disponible pour répondre</label>
  </div>
  <a href="/agents/figures">Chiffres du service</a>
  <form method="post" action="/agents/logout">
    <input type="hidden" name="csrf" value="{csrf}">
    <button type="submit" class="secondary">Se déconnecter</button>
  </form>
</div>
<fieldset class="alerts">
  <legend>Alertes quand une personne demande de l'aide</legend>
  <div class="presence">
    <input type="checkbox" id="sound" checked>
    <label for="sound">Jouer un son</label>
  </div>
  <button type="button" id="notify" class="secondary">Recevoir une notification sur le bureau</button>
  <p class="hint">Le nombre de personnes qui attendent s'affiche aussi dans le titre de l'onglet.</p>
</fieldset>
<p id="status" role="status" aria-live="polite" class="status"></p>
<p id="link" class="hint link" aria-live="polite"></p>
<div class="columns">
  <section aria-labelledby="queue-title" class="panel">
    <h2 id="queue-title">File d'attente</h2>
    <p class="hint">La personne qui attend depuis le plus longtemps est en haut.</p>
    <ul id="queue" class="cards"></ul>
    <h2 id="mine-title">Mes conversations</h2>
    <ul id="mine" class="cards"></ul>
    <h2 id="callbacks-title">Rappels à faire</h2>
    <ul id="callbacks" class="cards"></ul>
  </section>
  <section aria-labelledby="conversation-title" class="panel conversation">
    <h2 id="conversation-title" tabindex="-1">Conversation</h2>
    <p id="conversation-info" class="hint">Prenez une conversation dans la file d'attente.</p>
    <p id="resident" class="resident" hidden></p>
    <details id="earlier" class="earlier" hidden>
      <summary id="earlier-title">Conversations précédentes</summary>
      <ul id="earlier-list"></ul>
    </details>
    <div role="log" aria-live="polite" aria-label="Messages de la conversation">
      <ol id="transcript" class="transcript" tabindex="0" aria-label="Messages (faites défiler avec les flèches)"></ol>
    </div>
    <form id="reply-form" class="reply" hidden>
      <label for="reply">Votre réponse</label>
      <textarea id="reply" name="reply" rows="3" maxlength="2000" required></textarea>
      <div class="actions">
        <button type="submit">Envoyer</button>
        <button type="button" id="close" class="secondary">Terminer la conversation</button>
      </div>
    </form>
    <div id="tools" class="tools" hidden>
      <h3>Outils</h3>
      <div class="tool">
        <label for="canned">Réponse type</label>
        <select id="canned"></select>
        <button type="button" id="insert-canned" class="secondary">Insérer la réponse type</button>
      </div>
      <div class="tool">
        <label for="procedure">Démarche (résumé, site officiel, sans Internet)</label>
        <select id="procedure"></select>
        <button type="button" id="insert-procedure" class="secondary">Insérer la démarche</button>
      </div>
      <p class="hint">Le texte inséré va dans « Votre réponse » : relisez-le avant d'envoyer.</p>
      <div class="tool">
        <label for="note">Note interne (jamais envoyée à la personne)</label>
        <textarea id="note" rows="2" maxlength="2000"></textarea>
        <button type="button" id="add-note" class="secondary">Enregistrer la note</button>
      </div>
      <div class="tool">
        <label for="transfer-to">Transférer la conversation</label>
        <select id="transfer-to"><option value="queue">Remettre dans la file d'attente</option></select>
        <button type="button" id="transfer" class="secondary">Transférer</button>
      </div>
    </div>
  </section>
</div>
<section id="admin" class="panel admin" aria-labelledby="admin-title" hidden>
  <h2 id="admin-title">Réponses types de l'équipe (administration)</h2>
  <p class="hint">Variables possibles : <code>{{commune}}</code>, <code>{{france_services}}</code> (l'espace France
  Services le plus proche de la commune de la personne), <code>{{agent}}</code> (votre nom affiché).</p>
  <form id="canned-form" class="canned-form">
    <label for="canned-title">Titre</label>
    <input id="canned-title" maxlength="80" required>
    <label for="canned-text">Texte</label>
    <textarea id="canned-text" rows="3" maxlength="1500" required></textarea>
    <button type="submit">Ajouter la réponse type</button>
  </form>
  <ul id="canned-list" class="cards"></ul>
</section>
<span id="csrf" data-token="{csrf}" hidden></span>
""", '<script src="/agents/static/console.js" defer></script>')


def figures_page_html(rows: list[Any], start: date, end: date, days: int, agents: list[Any] | None = None) -> str:
    """The figures page: period links, each SVG chart next to its table, the CSV links (per agent: admins only)."""
    current_mark = ' aria-current="page"'
    periods = " · ".join(
        f'<a href="/agents/figures?days={n}"{current_mark if n == days else ""}>{label}</a>'
        for n, label in ((7, "7 jours"), (30, "30 jours"), (365, "un an")))
    agents_link = (f'<p><a href="/agents/figures/agents.csv?days={days}" download>Télécharger la satisfaction par '
                   'agent (CSV, administrateurs)</a></p>') if agents is not None else ""
    return _layout("Chiffres du service", f"""
<p><a href="/agents">Retour à la console</a></p>
<h1>Chiffres du service : du {start:%d/%m/%Y} au {end:%d/%m/%Y}</h1>
<p>Période : {periods}</p>
<p class="hint">Attente : du moment où la personne demande quelqu'un à celui où un agent prend la conversation.
Abandonnée : la personne est partie avant. Expirée : personne n'a pu répondre à temps.</p>
<p><a href="/agents/figures.csv?days={days}" download>Télécharger ces chiffres (CSV)</a></p>
{agents_link}
<div class="figure-list">{figures_sections(rows, start, end, agents)}</div>
""", styles='\n<link rel="stylesheet" href="/agents/static/figures.css">')


# ----- registration -----

def register(app: Sanic) -> None:
    """Attach the console, its API, the REST outbox and the internal routes to the portal."""
    config = get_handoff_config()
    engine = get_engine(app.ctx.settings.database_url)
    queue = HandoffQueue(engine)
    directory = AgentDirectory(engine)
    sessions = SessionStore(engine, config.session_hours, config.session_idle_minutes)
    callbacks = CallbackBook(engine)
    throttle = LoginThrottle(engine)
    tools = DeskTools(engine)
    surveys = SurveyBook(engine)
    typing_gate = TypingGate()  # per agent and conversation
    app.static("/agents/static", str(STATIC_DIR), name="agents_static")

    async def start_desk(app_: Sanic, _loop: Any) -> None:
        settings = app_.ctx.settings
        app_.ctx.handoff_http = aiohttp.ClientSession()
        client = RasaClient(app_.ctx.handoff_http, settings.rasa_url, settings.rasa_api_token, settings.internal_token)
        app_.ctx.handoff_desk = HandoffDesk(queue, client, config)
        app_.ctx.handoff_watchdog = asyncio.get_running_loop().create_task(_watchdog(app_.ctx.handoff_desk, config))
        app_.ctx.console_hub = ConsoleHub(lambda: (queue.change_marker(), callbacks.pending_count()))
        app_.ctx.console_hub.start()

    async def stop_desk(app_: Sanic, _loop: Any) -> None:
        await app_.ctx.console_hub.stop()
        app_.ctx.handoff_watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await app_.ctx.handoff_watchdog
        await app_.ctx.handoff_http.close()

    app.register_listener(start_desk, "after_server_start")
    app.register_listener(stop_desk, "before_server_stop")

    def desk() -> HandoffDesk:
        return app.ctx.handoff_desk

    def hub() -> ConsoleHub:
        return app.ctx.console_hub

    def current_session(request: Request) -> AgentSession | None:
        return sessions.resolve(request.cookies.get(SESSION_COOKIE))

    def agent_api(handler: Handler) -> Handler:
        """JSON routes: 401 without a valid session; 403 on a POST without the CSRF token or from elsewhere."""
        @wraps(handler)
        async def wrapper(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
            session = current_session(request)
            if session is None:
                return _error("Session expirée ou invalide : reconnectez-vous.", 401, login="/agents/login")
            if request.method == "POST" and (
                not _same_origin(request) or not session.csrf_matches(request.headers.get("x-csrf-token"))
            ):
                return _error("Requête refusée (jeton de sécurité manquant ou invalide). Rechargez la page.", 403)
            directory.heartbeat(session.agent.id)
            return await handler(request, session, *args, **kwargs)
        return wrapper

    # ----- pages -----

    @app.get("/agents")
    async def agents_home(request: Request) -> response.HTTPResponse:
        session = current_session(request)
        if session is None:
            return response.redirect("/agents/login", headers=SECURITY_HEADERS)
        directory.heartbeat(session.agent.id)
        return _page(console_page(session))

    def fresh_login_form(error: str | None = None, status: int = 200) -> response.HTTPResponse:
        token = secrets.token_urlsafe(24)
        resp = _page(login_page(token, error), status)
        _set_cookie(resp, LOGIN_CSRF_COOKIE, token, config, path="/agents/login")
        return resp

    def figures_period(request: Request) -> tuple[date, date, int]:
        try:
            days = int(request.args.get("days") or 7)
        except ValueError:
            days = 7
        days = min(max(days, 1), 366)
        end = datetime.now(ZoneInfo(config.timezone)).date()
        return end - timedelta(days=days - 1), end, days

    @app.get("/agents/figures")
    async def figures_page(request: Request) -> response.HTTPResponse:
        """The service figures: charts (SVG drawn here, no script) and the exact table; CSV to download."""
        session = current_session(request)
        if session is None:
            return response.redirect("/agents/login", headers=SECURITY_HEADERS)
        start, end, days = figures_period(request)
        rows = await asyncio.to_thread(service_figures, engine, start, end, config.timezone)
        agents = await asyncio.to_thread(surveys.by_agent, start, end, config.timezone) \
            if session.agent.is_admin else None  # satisfaction per agent: admins only
        return _page(figures_page_html(rows, start, end, days, agents))

    @app.get("/agents/figures/agents.csv")
    async def agents_figures_csv(request: Request) -> response.HTTPResponse:
        """Satisfaction per agent: admins only (403 for other agents)."""
        session = current_session(request)
        if session is None:
            return _error("Session expirée ou invalide : reconnectez-vous.", 401, login="/agents/login")
        if not session.agent.is_admin:
            return _error("Seuls les comptes administrateurs voient la satisfaction par agent.", 403)
        start, end, _ = figures_period(request)
        results = await asyncio.to_thread(surveys.by_agent, start, end, config.timezone)
        return response.text(agents_csv(results), content_type="text/csv; charset=utf-8", headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="numecrivain-satisfaction-agents-{start}-{end}.csv"'})

    @app.get("/agents/figures.csv")
    async def figures_csv_export(request: Request) -> response.HTTPResponse:
        if current_session(request) is None:
            return _error("Session expirée ou invalide : reconnectez-vous.", 401, login="/agents/login")
        start, end, _ = figures_period(request)
        rows = await asyncio.to_thread(service_figures, engine, start, end, config.timezone)
        return response.text(figures_csv(rows), content_type="text/csv; charset=utf-8", headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'attachment; filename="numecrivain-chiffres-{start}-{end}.csv"'})

    @app.get("/agents/login")
    async def login_form(request: Request) -> response.HTTPResponse:
        if current_session(request) is not None:
            return response.redirect("/agents", headers=SECURITY_HEADERS)
        return fresh_login_form()

    @app.post("/agents/login")
    async def login(request: Request) -> response.HTTPResponse:
        sent, expected = request.form.get("csrf") or "", request.cookies.get(LOGIN_CSRF_COOKIE) or ""
        if not _same_origin(request) or not expected or not hmac.compare_digest(sent, expected):
            return fresh_login_form("La page de connexion a expiré. Réessayez.", 403)
        name = (request.form.get("name") or "").strip()[:64]
        password = request.form.get("password") or ""
        client = client_of(request)
        if not await throttle.check(name, client):
            return fresh_login_form(
                "Trop d'essais depuis cet appareil. Attendez 15 minutes avant de réessayer, "
                "ou demandez à l'administrateur de vérifier votre compte.", 429)
        agent = await asyncio.get_running_loop().run_in_executor(None, directory.authenticate, name, password)
        if agent is None:
            logger.info("Failed agent login.")
            return fresh_login_form("Nom ou mot de passe incorrect.", 401)
        await throttle.succeeded(name, client)
        resp = response.redirect("/agents", status=303, headers=SECURITY_HEADERS)
        _set_cookie(resp, SESSION_COOKIE, sessions.create(agent), config)
        _delete_cookie(resp, LOGIN_CSRF_COOKIE, path="/agents/login")
        return resp

    @app.post("/agents/logout")
    async def logout(request: Request) -> response.HTTPResponse:
        session = current_session(request)
        if session is not None:
            if not _same_origin(request) or not session.csrf_matches(request.form.get("csrf")):
                return _error("Requête refusée (jeton de sécurité invalide). Rechargez la page.", 403)
            directory.set_available(session.agent.id, False)
            sessions.destroy(request.cookies.get(SESSION_COOKIE))
        resp = response.redirect("/agents/login", status=303, headers=SECURITY_HEADERS)
        _delete_cookie(resp, SESSION_COOKIE)
        return resp

    # ----- console API -----

    @app.get("/agents/api/me")
    @agent_api
    async def me(_: Request, session: AgentSession) -> response.HTTPResponse:
        return _json({"name": session.agent.name, "display_name": session.agent.public_name,
                      "available": session.agent.available})

    @app.post("/agents/api/presence")
    @agent_api
    async def presence(request: Request, session: AgentSession) -> response.HTTPResponse:
        available = (request.json or {}).get("available") if isinstance(request.json, dict) else None
        if not isinstance(available, bool):
            return _error("« available » doit valoir true ou false.", 400)
        directory.set_available(session.agent.id, available)
        return _json({"available": available})

    def queue_snapshot(agent_name: str) -> dict[str, Any]:
        now = utcnow()
        return {
            "now": epoch(now),
            "waiting": [_request_summary(r, now) for r in queue.waiting()],
            "mine": [_request_summary(r, now) for r in queue.taken_by(agent_name)],
            "callbacks": callbacks.pending_count(),
        }

    @app.get("/agents/api/queue")
    @agent_api
    async def queue_view(_: Request, session: AgentSession) -> response.HTTPResponse:
        return _json(await asyncio.to_thread(queue_snapshot, session.agent.name))

    async def open_stream(request: Request) -> Any:
        stream = await request.respond(content_type="text/event-stream; charset=utf-8", headers=SSE_HEADERS)
        await stream.send("retry: 2000\n\n")  # the browser reconnects by itself 2 s after a cut
        return stream

    @app.get("/agents/api/stream")
    async def queue_stream(request: Request) -> Any:
        """The queue, mine and the callback count, sent again whenever they change (server-sent events)."""
        session = current_session(request)
        if session is None:
            return _error("Session expirée ou invalide : reconnectez-vous.", 401, login="/agents/login")
        stream = await open_stream(request)
        with hub().watching():
            await queue_updates(request, session, stream)
        await stream.eof()

    async def queue_updates(request: Request, session: AgentSession, stream: Any) -> None:
        last_sent, last_ping, last_check = "", time.monotonic(), time.monotonic()
        generation = -1
        while True:
            snapshot = await asyncio.to_thread(queue_snapshot, session.agent.name)
            key = json.dumps([[r["id"], r["status"], r["agent"]] for r in snapshot["waiting"] + snapshot["mine"]]
                             + [snapshot["callbacks"]])
            if key != last_sent:
                await stream.send(sse_event("queue", snapshot))
                last_sent, last_ping = key, time.monotonic()
            generation = await hub().wait(generation, PING_SECONDS)
            moment = time.monotonic()
            if moment - last_check > SESSION_CHECK_SECONDS:
                last_check = moment
                checked = await asyncio.to_thread(current_session, request)
                if checked is None:
                    await stream.send(sse_event("session", {"login": "/agents/login"}))
                    return
                await asyncio.to_thread(directory.heartbeat, session.agent.id)  # the console is open: present
            if moment - last_ping > PING_SECONDS:
                await stream.send(SSE_COMMENT_PING)
                last_ping = moment

    not_found = "Cette conversation n'existe pas, ou elle n'est plus dans la file ni à vous."

    async def internal_id(public_id: str) -> int | None:
        try:
            return (await asyncio.to_thread(queue.by_public_id, public_id)).id
        except RequestNotFoundError:
            return None

    async def conversation_view(handoff: HandoffRequest, online: bool | None,
                                events: list[dict[str, Any]] | object | None = READ_FROM_RASA) -> dict[str, Any]:
        transcript = await desk().transcript(handoff, events)
        notes = await asyncio.to_thread(tools.notes, handoff.id)
        transcript["messages"] += [{"role": "note", "agent": n.author, "text": n.text, "timestamp": epoch(n.created_at)}
                                   for n in notes]
        transcript["messages"].sort(key=lambda m: m.get("timestamp") or 0)
        earlier: list[HandoffRequest] = []
        if handoff.channel in SAME_PERSON_CHANNELS:
            earlier = await asyncio.to_thread(queue.earlier_requests, handoff.sender_id, handoff.id)
        return {
            "request": _request_summary(handoff, utcnow()),
            "live": transcript["live"],
            "messages": present_messages(transcript["messages"]),
            "online": online,
            "earlier": [_earlier_summary(r) for r in earlier],
        }

    async def readable(public_id: str, session: AgentSession) -> HandoffRequest | None:
        try:
            return await asyncio.to_thread(queue.readable_by, public_id, session.agent.name)
        except RequestNotFoundError:
            return None

    @app.get("/agents/api/requests/<public_id:str>")
    @agent_api
    async def conversation(_: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
        """Only a waiting conversation, or one this agent holds now; every read is logged (ids only)."""
        handoff = await readable(public_id, session)
        if handoff is None:
            return _error(not_found, 404)
        await asyncio.to_thread(queue.log_read, handoff.id, session.agent.id)
        logger.info("Agent %s read handoff %s.", session.agent.id, handoff.public_id)
        online = await desk().rasa.presence(handoff.channel, handoff.sender_id)
        return _json(await conversation_view(handoff, online))

    @app.get("/agents/api/requests/<public_id:str>/stream")
    async def conversation_stream(request: Request, public_id: str) -> Any:
        """The conversation, sent again as soon as the person or an agent writes (server-sent events)."""
        session = current_session(request)
        if session is None:
            return _error("Session expirée ou invalide : reconnectez-vous.", 401, login="/agents/login")
        handoff = await readable(public_id, session)
        if handoff is None:
            return _error(not_found, 404)
        await asyncio.to_thread(queue.log_read, handoff.id, session.agent.id)
        logger.info("Agent %s read handoff %s (live).", session.agent.id, handoff.public_id)
        stream = await open_stream(request)
        with hub().watching(), hub().subscribe(handoff.sender_id) as feed:
            await conversation_updates(request, session, stream, handoff, public_id, feed)
        await stream.eof()

    async def conversation_updates(request: Request, session: AgentSession, stream: Any, handoff: HandoffRequest,
                                   public_id: str, feed: ConversationFeed) -> None:
        """Rasa's tracker is read once, then the person's messages come pushed through `feed` (see
        bot.handoff.resident_push); a slow resync (NUMECRIVAIN_CONSOLE_RESYNC_SECONDS) only catches a lost push."""
        last_sent, last_ping, last_check, last_presence = "", time.monotonic(), time.monotonic(), -PING_SECONDS
        online: bool | None = None
        generation = hub().generation
        events, last_read = await desk().read_events(handoff), time.monotonic()
        resync = resync_seconds()
        while True:
            moment = time.monotonic()
            if moment - last_presence > PRESENCE_REFRESH_SECONDS:
                online, last_presence = await desk().rasa.presence(handoff.channel, handoff.sender_id), moment
            typing: bool | None = None
            for item in feed.take():
                if item.get("kind") == "typing":
                    typing = True
                elif item.get("kind") == "message" and isinstance(item.get("event"), dict):
                    typing = False  # the message ends the "is typing" shown
                    if events is not None and not any(
                            e.get("event") == "user" and e.get("timestamp") == item["event"].get("timestamp")
                            and e.get("text") == item["event"].get("text") for e in events[-20:]):
                        events.append(item["event"])
            stale = events is None and moment - last_read > RASA_RETRY_SECONDS
            if feed.overflowed or stale or (resync and moment - last_read > resync):
                feed.overflowed = False
                events, last_read = await desk().read_events(handoff), moment
            view = await conversation_view(handoff, online, events)
            key = json.dumps([view["request"]["status"], view["live"], view["online"], view["messages"]])
            if key != last_sent:
                await stream.send(sse_event("conversation", view))
                last_sent, last_ping = key, moment
            if typing is not None:
                await stream.send(sse_event("typing", {"active": typing, "seconds": TYPING_SHOWN_SECONDS}))
            generation = await hub().wait(generation, min(PRESENCE_REFRESH_SECONDS, RASA_RETRY_SECONDS), feed)
            if moment - last_check > SESSION_CHECK_SECONDS:
                last_check = moment
                if await asyncio.to_thread(current_session, request) is None:
                    await stream.send(sse_event("session", {"login": "/agents/login"}))
                    return
            refreshed = await readable(public_id, session)
            if refreshed is None:
                await stream.send(sse_event("gone", {"error": not_found}))
                return
            handoff = refreshed
            if time.monotonic() - last_ping > PING_SECONDS:
                await stream.send(SSE_COMMENT_PING)
                last_ping = time.monotonic()

    @app.post("/agents/api/requests/<public_id:str>/take")
    @agent_api
    async def take(_: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
        request_id = await internal_id(public_id)
        if request_id is None:
            return _error(not_found, 404)
        try:
            handoff = queue.take(request_id, session.agent.name, display_name=session.agent.public_name)
        except AlreadyTakenError:
            current = queue.get(request_id)
            if current.status != "taken":
                return _error("Cette conversation n'attend plus : elle est terminée ou a expiré.", 409,
                              state=current.status)
            return _error(f"Trop tard : cette conversation a déjà été prise par {current.agent_display_name}.", 409,
                          state=current.status)
        hub().notify()
        await desk().announce_agent(handoff)
        hub().notify()
        return _json({"request": _request_summary(handoff, utcnow())})

    @app.post("/agents/api/requests/<public_id:str>/messages")
    @agent_api
    async def reply(request: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
        text = (request.json or {}).get("text") if isinstance(request.json, dict) else None
        if not isinstance(text, str) or not text.strip():
            return _error("Écrivez un message avant d'envoyer.", 400)
        request_id = await internal_id(public_id)
        if request_id is None:
            return _error(not_found, 404)
        try:
            message = await desk().reply(request_id, session.agent.name, text)
        except RequestNotFoundError:
            return _error("Cette conversation n'existe pas.", 404)
        except ConversationClosedError:
            return _error(
                "Cette conversation est terminée (ou n'est pas la vôtre) : votre message n'a pas été envoyé.", 409
            )
        hub().notify()
        return _json({"id": message.id, "delivery": message.delivery}, status=201)

    @app.post("/agents/api/requests/<public_id:str>/typing")
    @agent_api
    async def agent_typing(_: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
        """The agent is typing: the person's web chat shows "<name> écrit…" (only the fact, never the text)."""
        handoff = await asyncio.to_thread(held_by, public_id, session)
        if handoff is None:
            return _error("Cette conversation n'est pas à vous (ou elle est terminée).", 409)
        if not typing_gate.allow(f"{session.agent.id}:{handoff.id}"):
            return _error("Un signal « écrit… » toutes les 2 secondes au plus.", 429)
        return _json({"sent": await desk().agent_typing(handoff)}, status=202)

    @app.post("/agents/api/requests/<public_id:str>/close")
    @agent_api
    async def close(_: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
        request_id = await internal_id(public_id)
        if request_id is None:
            return _error(not_found, 404)
        try:
            handoff = await desk().close(request_id, session.agent.name)
        except RequestNotFoundError:
            return _error("Cette conversation n'existe pas.", 404)
        except ConversationClosedError:
            return _error("Cette conversation est déjà terminée (ou n'est pas la vôtre).", 409)
        hub().notify()
        if handoff.resumed_at is not None:  # after the goodbye: the optional satisfaction question
            await ask_after_close(desk().rasa, surveys, handoff)
        return _json({"request": _request_summary(handoff, utcnow()), "resumed": handoff.resumed_at is not None})

    # ----- tools: canned answers, procedures, notes, transfer -----

    def held_by(public_id: str, session: AgentSession) -> HandoffRequest | None:
        """The conversation if this agent holds it now."""
        try:
            handoff = queue.by_public_id(public_id)
        except RequestNotFoundError:
            return None
        return handoff if handoff.status == "taken" and handoff.agent_name == session.agent.name else None

    def json_field(request: Request, name: str) -> Any:
        return (request.json or {}).get(name) if isinstance(request.json, dict) else None

    @app.get("/agents/api/tools")
    @agent_api
    async def tool_list(_: Request, session: AgentSession) -> response.HTTPResponse:
        canned = await asyncio.to_thread(tools.canned_answers)
        return _json({
            "is_admin": session.agent.is_admin,
            "variables": VARIABLES,
            "canned": [{"id": c.id, "title": c.title, "text": c.text, "updated_by": c.updated_by} for c in canned],
            "procedures": [{"id": pid, "title": title} for pid, title in await asyncio.to_thread(procedure_choices)],
        })

    @app.get("/agents/api/colleagues")
    @agent_api
    async def colleagues(_: Request, session: AgentSession) -> response.HTTPResponse:
        present = await asyncio.to_thread(directory.available_agents, utcnow(), config.presence_minutes)
        return _json({"colleagues": [{"id": a.id, "name": a.public_name} for a in present
                                     if a.id != session.agent.id]})

    @app.get("/agents/api/requests/<public_id:str>/canned/<canned_id:int>")
    @agent_api
    async def canned_for(_: Request, session: AgentSession, public_id: str, canned_id: int) -> response.HTTPResponse:
        """A canned answer with this conversation's commune and France Services filled in."""
        handoff = await asyncio.to_thread(held_by, public_id, session)
        canned = await asyncio.to_thread(tools.canned, canned_id)
        if handoff is None or canned is None:
            return _error("Réponse type ou conversation introuvable.", 404)
        nearby = await asyncio.to_thread(france_services_for, handoff.commune) if "{france_services}" in canned.text \
            else None
        return _json({"text": fill_variables(canned.text, handoff.commune, session.agent.public_name, nearby)})

    @app.get("/agents/api/requests/<public_id:str>/procedure/<procedure_id:str>")
    @agent_api
    async def procedure_for(_: Request, session: AgentSession, public_id: str,
                            procedure_id: str) -> response.HTTPResponse:
        """A procedure in a few lines, in the format of the person's channel (GSM-7 by SMS)."""
        handoff = await asyncio.to_thread(held_by, public_id, session)
        text = await asyncio.to_thread(procedure_for_channel, procedure_id[:64], handoff.channel) if handoff else None
        if handoff is None or text is None:
            return _error("Démarche ou conversation introuvable.", 404)
        return _json({"text": text, "channel": handoff.channel})

    @app.post("/agents/api/requests/<public_id:str>/notes")
    @agent_api
    async def add_note(request: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
        """A note for the team, never sent to the person."""
        handoff = await asyncio.to_thread(held_by, public_id, session)
        text = json_field(request, "text")
        if handoff is None:
            return _error("Cette conversation n'est pas à vous (ou elle est terminée).", 409)
        if not isinstance(text, str):
            return _error("Écrivez la note avant de l'enregistrer.", 400)
        try:
            note = await asyncio.to_thread(tools.add_note, handoff.id, session.agent.public_name, text)
        except ToolError as exc:
            return _error(str(exc), 400)
        hub().notify()
        return _json({"id": note.id}, status=201)

    @app.post("/agents/api/requests/<public_id:str>/transfer")
    @agent_api
    async def transfer(request: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
        """To an available colleague ({"to": id}) or back to the queue ({"to": null})."""
        target = json_field(request, "to")
        if target is not None and (not isinstance(target, int) or isinstance(target, bool)):
            return _error("« to » doit être l'identifiant d'une ou d'un collègue, ou null pour la file.", 400)
        handoff = await asyncio.to_thread(held_by, public_id, session)
        if handoff is None:
            return _error("Cette conversation n'est pas à vous (ou elle est terminée).", 409)
        colleague = None
        if target is not None:
            present = await asyncio.to_thread(directory.available_agents, utcnow(), config.presence_minutes)
            colleague = next((a for a in present if a.id == target and a.id != session.agent.id), None)
            if colleague is None:
                return _error("Cette personne n'est pas disponible en ce moment : choisissez quelqu'un d'autre, "
                              "ou remettez la conversation dans la file.", 409)
        try:
            moved = await desk().transfer(handoff.id, session.agent.name, colleague.name if colleague else None,
                                          colleague.public_name if colleague else None)
        except ConversationClosedError:
            return _error("Cette conversation n'est pas à vous (ou elle est terminée).", 409)
        hub().notify()
        return _json({"request": _request_summary(moved, utcnow()),
                      "to": colleague.public_name if colleague else None})

    # ----- canned answers, kept by admins -----

    def admin_only(session: AgentSession) -> response.HTTPResponse | None:
        if not session.agent.is_admin:
            return _error("Seuls les comptes administrateurs gèrent les réponses types.", 403)
        return None

    @app.post("/agents/api/canned")
    @agent_api
    async def canned_add(request: Request, session: AgentSession) -> response.HTTPResponse:
        refused = admin_only(session)
        if refused:
            return refused
        title, text = json_field(request, "title"), json_field(request, "text")
        if not isinstance(title, str) or not isinstance(text, str):
            return _error("Donnez un titre et un texte à la réponse type.", 400)
        try:
            canned = await asyncio.to_thread(tools.save_canned, title, text, session.agent.public_name)
        except ToolError as exc:
            return _error(str(exc), 400)
        return _json({"id": canned.id if canned else None}, status=201)

    @app.post("/agents/api/canned/<canned_id:int>/delete")
    @agent_api
    async def canned_delete(_: Request, session: AgentSession, canned_id: int) -> response.HTTPResponse:
        refused = admin_only(session)
        if refused:
            return refused
        if not await asyncio.to_thread(tools.delete_canned, canned_id):
            return _error("Cette réponse type n'existe plus.", 404)
        return _json({"deleted": True})

    @app.get("/agents/api/callbacks")
    @agent_api
    async def callback_list(_: Request, __: AgentSession) -> response.HTTPResponse:
        return _json({"callbacks": [
            {"id": c.id, "phone": national(c.phone), "commune": c.commune, "topic": c.topic,
             "channel": c.channel, "requested_at": epoch(c.created_at)}
            for c in callbacks.pending()
        ]})

    @app.post("/agents/api/callbacks/<callback_id:int>/done")
    @agent_api
    async def callback_done(_: Request, __: AgentSession, callback_id: int) -> response.HTTPResponse:
        if not callbacks.done(callback_id):
            return _error("Ce rappel a déjà été traité.", 409)
        return _json({"deleted": True})

    # ----- REST channel outbox and channel notifications -----

    @app.get("/api/handoff/<sender_id:str>/messages")
    async def outbox(request: Request, sender_id: str) -> response.HTTPResponse:
        """What agents wrote to a REST user; the key comes with the bot's 'a person will answer' message."""
        handoff = queue.latest_request_for(unquote(sender_id))  # ids such as "rest:…" arrive quoted
        key = request.args.get("key") or ""
        if handoff is None or not hmac.compare_digest(key, handoff.outbox_key):
            return _error("Aucune demande en cours pour cette conversation, ou clé invalide.", 404)
        try:
            after = max(0, int(request.args.get("after") or 0))
        except ValueError:
            after = 0
        return _json({
            "status": handoff.status,
            "messages": [
                {"id": m.id, "text": m.text, "agent": m.agent_name or SYSTEM_AUTHOR, "from": m.author,
                 "created_at": epoch(m.created_at)}
                for m in queue.messages(handoff.id, after)
            ],
        })

    @app.post("/internal/handoff/<sender_id:str>/left")
    async def user_left(request: Request, sender_id: str) -> response.HTTPResponse:
        """A channel tells us the user has gone (web chat closed for good, SMS STOP): the request expires."""
        expected = f"Bearer {app.ctx.settings.internal_token}"
        if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected.encode()):
            return _error("unauthorized", 401)
        handoff = await desk().user_left(unquote(sender_id))
        return _json({"expired": handoff is not None})

    @app.post("/internal/handoff/<sender_id:str>/resident")
    async def resident_pushed(request: Request, sender_id: str) -> response.HTTPResponse:
        """The Rasa process pushes what the person in a handoff writes ({"kind": "message", "text", "timestamp"})
        or that they are typing ({"kind": "typing"}): the agent's console shows it at once."""
        expected = f"Bearer {app.ctx.settings.internal_token}"
        if not hmac.compare_digest(request.headers.get("authorization", "").encode(), expected.encode()):
            return _error("unauthorized", 401)
        if len(request.body or b"") > MAX_RESIDENT_HOOK_BYTES:
            return _error("body too large", 413)
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        kind = body.get("kind") if isinstance(body, dict) else None
        text = body.get("text") if isinstance(body, dict) else None
        if kind not in ("message", "typing") or (kind == "message" and (not isinstance(text, str) or not text.strip())):
            return _error('{"kind": "typing"} or {"kind": "message", "text": "..."} is expected', 400)
        sender = unquote(sender_id)
        handoff = await asyncio.to_thread(queue.open_request_for, sender)
        if handoff is None:
            return _error("no open handoff for this conversation", 404)
        if kind == "typing":
            await hub().publish(sender, {"kind": "typing"})
        elif isinstance(text, str):  # always so here (checked above): tells the type checker
            event = await asyncio.to_thread(desk().resident_wrote, handoff, text[:4000], body.get("timestamp"))
            await hub().publish(sender, {"kind": "message", "event": event})
        return _json({"delivered": True, "watching": hub().watchers(sender)}, status=202)


async def _watchdog(desk: HandoffDesk, config: HandoffConfig) -> None:
    """Every few seconds: expire, resume, redeliver (see HandoffDesk.watchdog_tick)."""
    while True:
        try:
            counts = await desk.watchdog_tick()
            if any(counts.values()):
                logger.info("Handoff watchdog: %s", counts)
        except asyncio.CancelledError:
            raise
        except Exception:  # the watchdog must survive a database or network hiccup
            logger.exception("Handoff watchdog tick failed; retrying.")
        await asyncio.sleep(config.watchdog_seconds)
