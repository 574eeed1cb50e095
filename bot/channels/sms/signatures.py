"""Webhook signatures of both gateways: compute (fake gateway, tests) and verify (constant time, no replay)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from collections.abc import Mapping
from urllib.parse import urlsplit, urlunsplit


class SignatureError(Exception):
    """A webhook whose origin cannot be trusted; answered with 401 and never processed."""


# --- SMS Gateway for Android: hex HMAC-SHA256 of (raw body + X-Timestamp) -------------------------------


def android_signature(signing_key: str, body: bytes, timestamp: str) -> str:
    """The X-Signature the Android gateway puts on a webhook."""
    return hmac.new(signing_key.encode(), body + timestamp.encode(), hashlib.sha256).hexdigest()


def verify_android(
    signing_key: str,
    body: bytes,
    timestamp: str | None,
    signature: str | None,
    *,
    window_seconds: int,
    now: float | None = None,
) -> None:
    """Raise SignatureError unless the signature matches and the timestamp is inside the window."""
    if not signing_key:
        raise SignatureError("no signing key configured")
    if not timestamp or not signature:
        raise SignatureError("missing X-Timestamp or X-Signature")
    try:
        sent_at = int(timestamp)
    except ValueError as exc:
        raise SignatureError("X-Timestamp is not a Unix time") from exc
    expected = android_signature(signing_key, body, timestamp)
    if not hmac.compare_digest(expected.encode(), signature.strip().lower().encode()):
        raise SignatureError("bad signature")
    current = time.time() if now is None else now
    if abs(current - sent_at) > window_seconds:
        raise SignatureError("stale timestamp")


# --- Twilio: base64 HMAC-SHA1 of (URL + sorted POST parameters) ------------------------------------------


def twilio_signature(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    """The X-Twilio-Signature Twilio puts on a form-encoded webhook."""
    payload = url + "".join(f"{key}{params[key]}" for key in sorted(params))
    digest = hmac.new(auth_token.encode(), payload.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


def _url_variants(url: str) -> list[str]:
    """The URL as received, without and with the default port (Twilio signs what it was given)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    default_port = 443 if parts.scheme == "https" else 80
    without_port = urlunsplit(parts._replace(netloc=host))
    with_port = urlunsplit(parts._replace(netloc=f"{host}:{parts.port or default_port}"))
    return list(dict.fromkeys([url, without_port, with_port]))


def verify_twilio(auth_token: str, url: str, params: Mapping[str, str], signature: str | None) -> None:
    """Raise SignatureError unless X-Twilio-Signature matches the URL and parameters."""
    if not auth_token:
        raise SignatureError("no Twilio auth token configured")
    if not signature:
        raise SignatureError("missing X-Twilio-Signature")
    given = signature.strip().encode()
    matches = [hmac.compare_digest(twilio_signature(auth_token, candidate, params).encode(), given)
               for candidate in _url_variants(url)]
    if not any(matches):
        raise SignatureError("bad signature")


# --- Replays ---------------------------------------------------------------------------------------------


class ReplayGuard:
    """Remembers signatures seen within the window, so a captured webhook cannot be played twice."""

    def __init__(self, window_seconds: int, max_entries: int = 100_000) -> None:
        self.window_seconds = window_seconds
        self.max_entries = max_entries
        self._seen: dict[str, float] = {}

    def check_and_remember(self, signature: str, now: float | None = None) -> None:
        """Raise SignatureError when this signature was already accepted within the window."""
        current = time.monotonic() if now is None else now
        if len(self._seen) > self.max_entries or len(self._seen) % 256 == 0:
            self._forget_older_than(current - self.window_seconds * 2)
        key = signature.strip().lower()
        seen_at = self._seen.get(key)
        if seen_at is not None and current - seen_at <= self.window_seconds * 2:
            raise SignatureError("replayed webhook")
        self._seen[key] = current

    def _forget_older_than(self, limit: float) -> None:
        self._seen = {key: at for key, at in self._seen.items() if at >= limit}
