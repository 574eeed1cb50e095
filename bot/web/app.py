"""Build the portal Sanic app; each capability brings its own blueprint."""

from __future__ import annotations

import importlib
import itertools
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from sanic import Sanic, response
from sanic.request import Request

from bot.settings import Settings, get_settings

logger = logging.getLogger(__name__)
_app_numbers = itertools.count()
# The chat widget, the agents' console and the secretariat pages: each module has its own `register(app)`.
CAPABILITIES = ("bot.web.widget", "bot.web.agents", "bot.web.secretariat")

LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Sent on every response unless the route set its own. The widget is embedded with a <script> tag, not a frame,
# so no page of the portal ever needs to be framed: frame-ancestors 'none' everywhere.
DEFAULT_SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=31536000",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), payment=(), usb=(), geolocation=(self)",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
}
# The widget's files are loaded by town-hall pages on other sites.
CROSS_ORIGIN_PREFIXES = ("/widget/",)


def is_local_request(request: Request) -> bool:
    """True for plain HTTP to localhost (a laptop, a test): the only case where cookies may lack Secure."""
    if request.headers.get("X-Forwarded-Proto", "").split(",")[0].strip().lower() == "https":
        return False
    hostname = urlsplit(f"//{request.headers.get('Host', '')}").hostname or ""
    return hostname in LOOPBACK_HOSTS or hostname.startswith("127.")


def secure_response(request: Request, resp: response.HTTPResponse) -> None:
    """Security headers on every response; every cookie Secure unless the request came to localhost."""
    for name, value in DEFAULT_SECURITY_HEADERS.items():
        if name not in resp.headers:
            resp.headers[name] = value
    policy = resp.headers["Content-Security-Policy"]
    if "frame-ancestors" not in policy:
        resp.headers["Content-Security-Policy"] = f"{policy.rstrip('; ')}; frame-ancestors 'none'"
    if "Cross-Origin-Resource-Policy" not in resp.headers:
        shared = request.path.startswith(CROSS_ORIGIN_PREFIXES)
        resp.headers["Cross-Origin-Resource-Policy"] = "cross-origin" if shared else "same-origin"
    if not is_local_request(request):
        for cookie in resp.cookies.values():
            cookie["secure"] = True


def create_app(settings: Settings | None = None) -> Sanic:
    """A fresh portal app (unique name, so tests can build several in one process)."""
    settings = settings or get_settings()
    registrars = _blueprint_registrars()  # first: a capability that cannot load stops everything here
    app = Sanic(f"numecrivain_portal_{next(_app_numbers)}")
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.settings = settings

    @app.get("/healthz")
    async def healthz(_: Request) -> response.HTTPResponse:
        return response.json({"status": "ok"})

    @app.middleware("response")
    async def add_security_headers(request: Request, resp: response.HTTPResponse) -> None:
        secure_response(request, resp)

    for register in registrars:
        register(app)
    return app


class CapabilityImportError(RuntimeError):
    """A capability of the portal could not be loaded: the portal refuses to start half-built."""


def _blueprint_registrars() -> list[Callable[[Sanic], None]]:
    """The functions that attach each capability's routes; a module that fails to import stops start-up."""
    registrars = []
    for module_name in CAPABILITIES:
        try:
            module = importlib.import_module(module_name)
            registrars.append(module.register)
        except Exception as exc:  # any failure, even a missing module: agents or town halls would find no page
            logger.critical("portal capability %s could not be loaded (%s: %s): the portal does not start",
                            module_name, type(exc).__name__, exc)
            raise CapabilityImportError(f"portal capability {module_name} could not be loaded: {exc}") from exc
    return registrars
