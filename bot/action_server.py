"""The rasa-sdk action server, private: bound to localhost and answering only callers that know the secret.

rasa-sdk 3.6 has no authentication of its own, so anyone who reached port 5055 could post a forged tracker
(queue a fake handoff, relay an agent's reply elsewhere, plant a callback number). This wraps its app:
every route but /health wants `Authorization: Bearer <NUMECRIVAIN_ACTIONS_TOKEN>`, which Rasa sends on each
action call (endpoints.yml). Errors never echo the request body (it holds the conversation).

    python -m bot.action_server --port 5055        # host: ACTIONS_HOST, default 127.0.0.1
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from rasa_sdk import utils as sdk_utils
from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request

from bot.service_auth import WeakSecretError, bearer_matches, require_strong_secret
from bot.settings import ListenSettings, get_settings

logger = logging.getLogger(__name__)

PUBLIC_PATHS = frozenset({"/health"})
# A tracker with every event of a long conversation stays far below this; a bigger body is refused unread.
MAX_REQUEST_BYTES = 8 * 1024 * 1024


def warm_up() -> None:
    """Load what answers need before the first resident comes: loaded lazily, the knowledge base, the places
    index and the directories made the first procedure and place answers after each start wait half a second
    each on a quiet machine (measured: 540 -> 70 ms, 500 -> 125 ms; seconds under load)."""
    from bot.geo.addresses import get_address_index
    from bot.geo.communes import get_commune_directory
    from bot.knowledge.contacts import get_contacts
    from bot.knowledge.loader import get_knowledge_base
    from bot.places.search import get_place_index
    from bot.secretariat.ranking import keyword_index

    keyword_index(get_knowledge_base())
    get_contacts()
    get_commune_directory()
    get_address_index()
    get_place_index()


async def warm_up_before_serving(app: Sanic, _loop: object) -> None:
    """The warm-up off the event loop; the port opens once it is done. A failure (a database not up yet) only
    leaves the loading to the first message, as before: it never stops the server."""
    try:
        await asyncio.to_thread(warm_up)
    except Exception as exc:  # any failure is retried lazily by the first message
        logger.warning("action server: warm-up skipped (%s); the first message will load the data",
                       type(exc).__name__)


def create_action_app(secret: str, actions_package: str = "actions") -> Sanic:
    """rasa-sdk's app with our actions, a secret on every route but /health, and errors without the payload."""
    require_strong_secret("NUMECRIVAIN_ACTIONS_TOKEN", secret)
    app = create_app(actions_package, cors_origins="")  # only Rasa calls it: no browser, so no CORS
    app.config.REQUEST_MAX_SIZE = MAX_REQUEST_BYTES

    @app.middleware("request")
    async def require_secret(request: Request) -> response.HTTPResponse | None:
        if request.path in PUBLIC_PATHS:
            return None
        if bearer_matches(request.headers.get("Authorization"), secret):
            return None
        logger.warning("action server: %s %r refused (no valid secret)", request.method[:10], request.path[:60])
        return response.json({"error": "unauthorised"}, status=401)

    async def error_without_payload(request: Request, exception: Exception) -> response.HTTPResponse:
        # rasa-sdk's own handler returns and logs the whole request body: names, phone numbers, messages.
        status = getattr(exception, "status_code", 500)
        if status >= 500:
            logger.error("action server: %s on %s", type(exception).__name__, request.path)
        return response.json({"error": type(exception).__name__}, status=status)

    app.error_handler.add(Exception, error_without_payload)
    app.register_listener(warm_up_before_serving, "before_server_start")
    return app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Numécrivain's action server (private, authenticated)")
    listen = ListenSettings()
    parser.add_argument("--port", type=int, default=listen.actions_port)
    parser.add_argument("--host", default=listen.actions_host,
                        help="127.0.0.1 unless Rasa runs on another machine or container")
    parser.add_argument("--actions", default="actions")
    args = parser.parse_args(argv)
    sdk_utils.configure_colored_logging(listen.log_level)
    sdk_utils.update_sanic_log_level()
    try:
        app = create_action_app(get_settings().actions_token, args.actions)
    except WeakSecretError as exc:
        sys.exit(f"Numécrivain: {exc}")
    logger.info("Action server on http://%s:%d (Authorization required)", args.host, args.port)
    app.run(args.host, args.port, workers=1, access_log=False, motd=False)


if __name__ == "__main__":
    main()
