"""Routes only our own services may call: the internal token as a Bearer, else 401 (portal hooks, channel relays)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping
from functools import wraps
from typing import Any

from sanic import response
from sanic.request import Request

from bot.service_auth import bearer_matches

Handler = Callable[..., Awaitable[response.HTTPResponse]]
Checked = Callable[..., Coroutine[Any, Any, response.HTTPResponse]]


def internal_only(secret_of: Callable[[Request], str],
                  headers: Mapping[str, str] | None = None) -> Callable[[Handler], Checked]:
    """Refuse with 401 a request whose Authorization header does not carry the secret `secret_of(request)`."""

    def decorate(handler: Handler) -> Checked:
        @wraps(handler)
        async def checked(request: Request, *args: Any, **kwargs: Any) -> response.HTTPResponse:
            if not bearer_matches(request.headers.get("Authorization"), secret_of(request)):
                return response.json({"error": "unauthorized"}, status=401, headers=dict(headers or {}))
            return await handler(request, *args, **kwargs)

        return checked

    return decorate
