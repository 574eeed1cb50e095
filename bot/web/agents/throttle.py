"""Login attempts counted in the shared database, so every portal process sees the same counts."""

from __future__ import annotations

import asyncio

from sanic.request import Request
from sqlalchemy.future import Engine

from bot.security import ratelimit

# Attempts per (account, client address) pair are refused past the limit; attempts on one account from
# everywhere only slow down (never a lock: nobody can lock a colleague out from elsewhere).
LOGIN_WINDOW_SECONDS = 900
MAX_LOGINS_PER_PAIR = 5
LOGINS_PER_ACCOUNT_BEFORE_SLOWDOWN = 20
LOGIN_SLOWDOWN_SECONDS = 2.0


def client_of(request: Request) -> str:
    """The client's address: Sanic's remote_addr when its proxy settings are on (FORWARDED_SECRET,
    PROXIES_COUNT), else the peer; X-Forwarded-For believed only from NUMECRIVAIN_TRUSTED_PROXIES."""
    return ratelimit.client_address(request.remote_addr or request.ip, request.headers.get("x-forwarded-for"))


class LoginThrottle:
    """Counts and slows down login attempts; every database call leaves the event loop."""

    def __init__(self, engine: Engine | None = None) -> None:
        self.engine = engine

    async def check(self, name: str, client: str) -> bool:
        """False when this account was tried too often from this address; slows down a much-tried account."""
        if not await ratelimit.allow_async("login_pair", _pair(name, client), MAX_LOGINS_PER_PAIR,
                                           LOGIN_WINDOW_SECONDS, engine=self.engine):
            return False
        if not await ratelimit.allow_async("login_account", name.lower(), LOGINS_PER_ACCOUNT_BEFORE_SLOWDOWN,
                                           LOGIN_WINDOW_SECONDS, engine=self.engine):
            await asyncio.sleep(LOGIN_SLOWDOWN_SECONDS)  # a slow-down for a guessing attack, not a lock
        return True

    async def succeeded(self, name: str, client: str) -> None:
        """A good password clears this address's count for the account."""
        await asyncio.to_thread(ratelimit.reset, "login_pair", _pair(name, client), self.engine)


def _pair(name: str, client: str) -> str:
    return f"{name.lower()}|{client}"
