"""The agents' console (/agents): login, queue, conversation, reply, close, callbacks; plus the handoff APIs.

Routes
- pages: GET /agents, GET|POST /agents/login, POST /agents/logout, static files under /agents/static/
- console API (session cookie + X-CSRF-Token on POST): /agents/api/...
- REST channel outbox (key given in the bot's handoff message): GET /api/handoff/<sender_id>/messages
- channels (Bearer NUMECRIVAIN_INTERNAL_TOKEN): POST /internal/handoff/<sender_id>/left
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import html
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import datetime
from functools import wraps
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import aiohttp
from sanic import Sanic, response
from sanic.request import Request

from bot.db import get_engine
from bot.handoff.accounts import AgentDirectory
from bot.handoff.callbacks import CallbackBook, national
from bot.handoff.config import HandoffConfig, get_handoff_config
from bot.handoff.console import HandoffDesk, epoch
from bot.handoff.rasa_api import RasaClient
from bot.handoff.sessions import AgentSession, SessionStore
from bot.handoff.store import (
    AlreadyTakenError,
    ConversationClosedError,
    HandoffQueue,
    HandoffRequest,
    RequestNotFoundError,
    utcnow,
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

Handler = Callable[..., Awaitable[response.HTTPResponse]]


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
        "commune": request.commune,
        "topic": request.topic,
        "status": request.status,
        "agent": request.agent_display_name,
        "requested_at": epoch(request.requested_at),
        "waiting_seconds": int((now - request.requested_at).total_seconds()),
    }


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

def _layout(title: str, main: str, scripts: str = "") -> str:
    return f"""<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)} – Numécrivain</title>
<link rel="stylesheet" href="/agents/static/console.css">
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
    """The console shell; console.js fills it from the API."""
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
  <form method="post" action="/agents/logout">
    <input type="hidden" name="csrf" value="{csrf}">
    <button type="submit" class="secondary">Se déconnecter</button>
  </form>
</div>
<p id="status" role="status" aria-live="polite" class="status"></p>
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
    <div role="log" aria-live="polite" aria-label="Messages de la conversation">
      <ol id="transcript" class="transcript"></ol>
    </div>
    <form id="reply-form" class="reply" hidden>
      <label for="reply">Votre réponse</label>
      <textarea id="reply" name="reply" rows="3" maxlength="2000" required></textarea>
      <div class="actions">
        <button type="submit">Envoyer</button>
        <button type="button" id="close" class="secondary">Terminer la conversation</button>
      </div>
    </form>
  </section>
</div>
<span id="csrf" data-token="{csrf}" hidden></span>
""", '<script src="/agents/static/console.js" defer></script>')


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
    app.ctx.handoff_queue = queue
    app.static("/agents/static", str(STATIC_DIR), name="agents_static")

    async def start_desk(app_: Sanic, _loop: Any) -> None:
        settings = app_.ctx.settings
        app_.ctx.handoff_http = aiohttp.ClientSession()
        client = RasaClient(app_.ctx.handoff_http, settings.rasa_url, settings.rasa_api_token, settings.internal_token)
        app_.ctx.handoff_desk = HandoffDesk(queue, client, config)
        app_.ctx.handoff_watchdog = asyncio.get_running_loop().create_task(_watchdog(app_.ctx.handoff_desk, config))

    async def stop_desk(app_: Sanic, _loop: Any) -> None:
        app_.ctx.handoff_watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await app_.ctx.handoff_watchdog
        await app_.ctx.handoff_http.close()

    app.register_listener(start_desk, "after_server_start")
    app.register_listener(stop_desk, "before_server_stop")

    def desk() -> HandoffDesk:
        return app.ctx.handoff_desk

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

    @app.get("/agents/api/queue")
    @agent_api
    async def queue_view(_: Request, session: AgentSession) -> response.HTTPResponse:
        now = utcnow()
        return _json({
            "waiting": [_request_summary(r, now) for r in queue.waiting()],
            "mine": [_request_summary(r, now) for r in queue.taken_by(session.agent.name)],
            "callbacks": len(callbacks.pending()),
        })

    not_found = "Cette conversation n'existe pas, ou elle n'est plus dans la file ni à vous."

    async def internal_id(public_id: str) -> int | None:
        try:
            return (await asyncio.to_thread(queue.by_public_id, public_id)).id
        except RequestNotFoundError:
            return None

    @app.get("/agents/api/requests/<public_id:str>")
    @agent_api
    async def conversation(_: Request, session: AgentSession, public_id: str) -> response.HTTPResponse:
        """Only a waiting conversation, or one this agent holds now; every read is logged (ids only)."""
        try:
            handoff = await asyncio.to_thread(queue.readable_by, public_id, session.agent.name)
        except RequestNotFoundError:
            return _error(not_found, 404)
        await asyncio.to_thread(queue.log_read, handoff.id, session.agent.id)
        logger.info("Agent %s read handoff %s.", session.agent.id, handoff.public_id)
        return _json({"request": _request_summary(handoff, utcnow()), **await desk().transcript(handoff)})

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
        return _json({"id": message.id, "delivery": message.delivery}, status=201)

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
        return _json({"request": _request_summary(handoff, utcnow()), "resumed": handoff.resumed_at is not None})

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
