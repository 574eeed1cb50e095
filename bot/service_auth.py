"""Secrets between our own services: a bearer secret for the action server, a short JWT for Rasa's HTTP API.

Neither ever travels in a URL or on a command line: only in the Authorization header, read from the
environment or from a 0600 file in var/.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Mapping

import jwt

RASA_JWT_METHOD = "HS256"
RASA_JWT_LIFETIME_SECONDS = 300
RASA_API_USER = "numecrivain"
MIN_SECRET_LENGTH = 32  # HS256 wants a key of at least 256 bits (RFC 7518, 3.2)


class WeakSecretError(ValueError):
    """A shared secret too short to be trusted: the service refuses to start with it."""


def require_strong_secret(name: str, value: str) -> str:
    """The secret itself, or WeakSecretError naming the variable (never the value)."""
    if len(value) < MIN_SECRET_LENGTH:
        raise WeakSecretError(f"{name} must be at least {MIN_SECRET_LENGTH} characters long "
                              f"(e.g. python -c 'import secrets; print(secrets.token_urlsafe(32))')")
    return value


def bearer_header(secret: str) -> dict[str, str]:
    """The header that proves a caller knows a shared secret."""
    return {"Authorization": f"Bearer {secret}"}


def bearer_token(authorization: str | None) -> str | None:
    """The token of an `Authorization: Bearer <token>` header, or None for any other header (or none)."""
    scheme, _, value = (authorization or "").partition(" ")
    token = value.strip()
    return token if scheme.lower() == "bearer" and token else None


def bearer_matches(authorization: str | None, secret: str) -> bool:
    """True when the Authorization header carries exactly this secret (constant-time comparison)."""
    token = bearer_token(authorization)
    if not secret or token is None:
        return False
    return hmac.compare_digest(token.encode(), secret.encode())


def rasa_api_token(secret: str, now: float | None = None) -> str:
    """A short-lived admin JWT signed with the secret Rasa was started with (`--jwt-secret`, in-process)."""
    issued = int(time.time() if now is None else now)
    payload = {"user": {"username": RASA_API_USER, "role": "admin"}, "iat": issued,
               "exp": issued + RASA_JWT_LIFETIME_SECONDS}
    return jwt.encode(payload, secret, algorithm=RASA_JWT_METHOD)


def rasa_api_headers(secret: str) -> dict[str, str]:
    """Headers for one call to Rasa's HTTP API (a fresh JWT each time, so none outlives five minutes)."""
    return {"Authorization": f"Bearer {rasa_api_token(secret)}"}


def rasa_api_authorised(headers: Mapping[str, str], secret: str) -> bool:
    """True when a request carries a valid admin JWT for this secret (used by stand-ins of Rasa in tests)."""
    token = bearer_token(headers.get("Authorization"))
    if token is None:
        return False
    try:
        payload = jwt.decode(token, secret, algorithms=[RASA_JWT_METHOD])
    except jwt.PyJWTError:
        return False
    return (payload.get("user") or {}).get("role") == "admin"
