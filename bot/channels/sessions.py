"""Web chat session ids the server issues and signs, so no one can pick, guess or keep another person's session.

A session token is `<conversation>.<expires>.<signature>`: 128 random bits, an expiry (seconds since the
epoch) and an HMAC-SHA256 of both with a server secret. The Rasa conversation id is `web:<conversation>`.
The server renews the expiry whenever the person writes; a token unused for `SESSION_TTL_SECONDS` is refused
and a new conversation starts. The secret is NUMECRIVAIN_SESSION_SECRET, else one derived from the internal
token shared by the services (never in the repo).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass

from bot.settings import RasaProcessSettings, get_settings

SENDER_PREFIX = "web:"
SESSION_TTL_SECONDS = 60 * 60
MAX_TOKEN_CHARS = 128
_TOKEN = re.compile(r"([0-9a-f]{32})\.([0-9]{1,12})\.([0-9a-f]{64})")


def session_secret() -> bytes:
    """The key that signs session tokens."""
    explicit = RasaProcessSettings().session_secret
    if explicit:
        return explicit.encode()
    internal = get_settings().internal_token.encode()
    return hmac.new(internal, b"numecrivain web chat session ids", hashlib.sha256).digest()


@dataclass(frozen=True)
class WebSession:
    """A verified session: the Rasa conversation it opens and the token the widget keeps."""

    conversation: str
    expires_at: int
    token: str

    @property
    def sender_id(self) -> str:
        """The Rasa conversation id, in the web chat's own namespace."""
        return f"{SENDER_PREFIX}{self.conversation}"


class SessionSigner:
    """Issues, renews and checks session tokens."""

    def __init__(self, secret: bytes | None = None, ttl_seconds: int = SESSION_TTL_SECONDS) -> None:
        self.secret = secret if secret is not None else session_secret()
        self.ttl_seconds = ttl_seconds

    def _signature(self, conversation: str, expires_at: int) -> str:
        return hmac.new(self.secret, f"{conversation}.{expires_at}".encode(), hashlib.sha256).hexdigest()

    def _make(self, conversation: str, now: float | None) -> WebSession:
        expires_at = int((time.time() if now is None else now) + self.ttl_seconds)
        token = f"{conversation}.{expires_at}.{self._signature(conversation, expires_at)}"
        return WebSession(conversation, expires_at, token)

    def issue(self, now: float | None = None) -> WebSession:
        """A new session for a new conversation."""
        return self._make(secrets.token_hex(16), now)

    def renew(self, session: WebSession, now: float | None = None) -> WebSession:
        """The same conversation with a later expiry."""
        return self._make(session.conversation, now)

    def verify(self, token: object, now: float | None = None) -> WebSession | None:
        """The session a token proves, or None when it is forged, malformed or expired."""
        if not isinstance(token, str) or len(token) > MAX_TOKEN_CHARS:
            return None
        match = _TOKEN.fullmatch(token)
        if match is None:
            return None
        conversation, expires, signature = match.group(1), int(match.group(2)), match.group(3)
        if not hmac.compare_digest(signature, self._signature(conversation, expires)):
            return None
        if expires < (time.time() if now is None else now):
            return None
        return WebSession(conversation, expires, token)
