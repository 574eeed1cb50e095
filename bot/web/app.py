"""Build the portal Sanic app; each capability brings its own blueprint."""

from __future__ import annotations

import itertools

from sanic import Sanic, response
from sanic.request import Request

from bot.settings import Settings, get_settings

_app_numbers = itertools.count()


def create_app(settings: Settings | None = None) -> Sanic:
    """A fresh portal app (unique name, so tests can build several in one process)."""
    settings = settings or get_settings()
    app = Sanic(f"numecrivain_portal_{next(_app_numbers)}")
    app.config.FALLBACK_ERROR_FORMAT = "json"
    app.ctx.settings = settings

    @app.get("/healthz")
    async def healthz(_: Request) -> response.HTTPResponse:
        return response.json({"status": "ok"})

    # Blueprints of each capability (keep one line each).
    for register in _blueprint_registrars():
        register(app)
    return app


def _blueprint_registrars() -> list:
    """The functions that attach each capability's routes (imported lazily to keep start-up light)."""
    registrars = []
    # widget (issue 5): bot.web.widget.register
    # agents console (issue 4): bot.web.agents.register
    # secretariat (issue 7): bot.web.secretariat.register
    for module_name in ("bot.web.widget", "bot.web.agents", "bot.web.secretariat"):
        try:
            module = __import__(module_name, fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        registrars.append(module.register)
    return registrars
