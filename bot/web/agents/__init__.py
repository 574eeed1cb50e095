"""The agents' desk (/agents): login, queue, conversation, reply, close, callbacks; plus the handoff APIs.

One module per concern, each with its own `register(app)`:
- pages.py: GET /agents, GET|POST /agents/login, POST /agents/logout, /agents/figures (+ CSV);
- api.py and desk_tools.py: the console's JSON API (session cookie + X-CSRF-Token on POST), /agents/api/...;
- streams.py: the live queue and conversation (server-sent events);
- internal.py: the REST channel's outbox (GET /api/handoff/<sender_id>/messages) and the hooks of the channels
  and of Rasa (Bearer NUMECRIVAIN_INTERNAL_TOKEN): POST /internal/handoff/<sender_id>/left and /resident;
- auth.py: session, CSRF and the decorators `agent_api`, `agent_session`, `admin_only`; throttle.py: logins;
- context.py: the stores every route shares (on app.ctx.agents) and the desk started with the server;
- watchdog.py: the task that expires, resumes and redelivers. Pages are templates in templates/agents/.
"""

from __future__ import annotations

from pathlib import Path

from sanic import Sanic

from bot.web.agents import api, desk_tools, internal, pages, streams
from bot.web.agents.context import AgentsContext, start_desk, stop_desk

STATIC_DIR = Path(__file__).parent.parent / "static" / "agents"


def register(app: Sanic) -> None:
    """Attach the console, its API, the REST outbox and the internal routes to the portal."""
    app.ctx.agents = AgentsContext.open(app.ctx.settings.database_url)
    app.static("/agents/static", str(STATIC_DIR), name="agents_static")
    app.register_listener(start_desk, "after_server_start")
    app.register_listener(stop_desk, "before_server_stop")
    for routes in (pages, api, desk_tools, streams, internal):
        routes.register(app)


__all__ = ["register"]
