"""Who may use the desk: the session cookie, the CSRF checks, and the decorators every route shares."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from sanic import response
from sanic.request import Request

from bot.handoff.sessions import AgentSession
from bot.web.agents.context import agents_of
from bot.web.agents.responses import error

SESSION_COOKIE = "numecrivain_agent"
LOGIN_CSRF_COOKIE = "numecrivain_login_csrf"
LOGIN_URL = "/agents/login"
SESSION_EXPIRED = "Session expirée ou invalide : reconnectez-vous."

Handler = Callable[..., Coroutine[Any, Any, Any]]  # what Sanic's routes take


def same_origin(request: Request) -> bool:
    """A POST must come from our own pages (SameSite=Strict already stops most cross-site requests)."""
    origin = request.headers.get("origin") or request.headers.get("referer")
    if not origin:
        return True
    return urlsplit(origin).netloc == request.host


async def current_session(request: Request) -> AgentSession | None:
    """The agent's session from its cookie, or None (read off the event loop)."""
    return await asyncio.to_thread(agents_of(request).sessions.resolve, request.cookies.get(SESSION_COOKIE))


def session_expired() -> response.HTTPResponse:
    """The 401 the console answers by going back to the login page."""
    return error(SESSION_EXPIRED, 401, login=LOGIN_URL)


def agent_session(handler: Handler) -> Handler:
    """Reading routes (streams, CSV): 401 without a valid session; the handler gets it after the request."""
    @wraps(handler)
    async def wrapper(request: Request, *args: Any, **kwargs: Any) -> Any:
        session = await current_session(request)
        if session is None:
            return session_expired()
        return await handler(request, session, *args, **kwargs)
    return wrapper


def agent_api(handler: Handler) -> Handler:
    """JSON routes: 401 without a valid session; 403 on a POST without the CSRF token or from elsewhere."""
    @agent_session
    @wraps(handler)
    async def checked(request: Request, session: AgentSession, *args: Any, **kwargs: Any) -> Any:
        if request.method == "POST" and (
            not same_origin(request) or not session.csrf_matches(request.headers.get("x-csrf-token"))
        ):
            return error("Requête refusée (jeton de sécurité manquant ou invalide). Rechargez la page.", 403)
        await asyncio.to_thread(agents_of(request).directory.heartbeat, session.agent.id)
        return await handler(request, session, *args, **kwargs)
    return checked


def admin_only(refusal: str) -> Callable[[Handler], Handler]:
    """Under agent_api or agent_session: a 403 saying `refusal` unless the agent is an administrator."""
    def decorate(handler: Handler) -> Handler:
        @wraps(handler)
        async def wrapper(request: Request, session: AgentSession, *args: Any, **kwargs: Any) -> Any:
            if not session.agent.is_admin:
                return error(refusal, 403)
            return await handler(request, session, *args, **kwargs)
        return wrapper
    return decorate
