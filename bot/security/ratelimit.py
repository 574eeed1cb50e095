"""Rate limits shared by every process through the project database, keyed by pseudonyms only.

A limit is a sliding window approximated from two fixed windows: the count of the current window plus the
previous window's count weighted by how much of it still overlaps. Each call is an atomic upsert, so two
processes (Rasa, the portal, the action server) counting the same key never both get the last slot.
Refused attempts are counted too: someone who keeps hammering stays refused, someone who waits gets back in.
Keys (an address, a conversation, a login) are stored only as a keyed hash, never in clear.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import ipaddress
import logging
import math
import threading
import time

from pydantic import Field
from sqlalchemy import BigInteger, Column, Float, Integer, String, Table, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError
from sqlalchemy.future import Engine

from bot import db
from bot.settings import EnvironmentSettings, local_secret

logger = logging.getLogger(__name__)

rate_limit_hits = Table(
    "rate_limit_hits",
    db.metadata,
    Column("bucket", String(64), primary_key=True),
    Column("key_hash", String(64), primary_key=True),
    # Start of the fixed window, in milliseconds since the epoch.
    Column("window_start", BigInteger, primary_key=True),
    Column("hits", Integer, nullable=False),
    # After this (seconds since the epoch) the row can no longer count: the purge drops it.
    Column("expires_at", Float, nullable=False, index=True),
)

PURGE_EVERY_SECONDS = 60.0
_last_purge: dict[str, float] = {}
_purge_lock = threading.Lock()


# Message metadata key where a channel puts the keyed hash of the client's address (set by the server, never
# taken from the client), so that actions can apply per-address limits without seeing the address.
CLIENT_METADATA_KEY = "numecrivain_client"


class RateLimitSettings(EnvironmentSettings):
    """The pepper of the stored keys (else generated once in var/) and the proxies whose X-Forwarded-For we believe."""

    pepper: str = Field(default="", env="NUMECRIVAIN_RATELIMIT_PEPPER")
    trusted_proxies: str = Field(default="", env="NUMECRIVAIN_TRUSTED_PROXIES")  # IPs or CIDRs, commas


class RateLimitError(Exception):
    """A limit was called with a bucket or numbers that make no sense."""


@functools.lru_cache(maxsize=4)
def _pepper_for(explicit: str) -> bytes:
    if explicit:
        return explicit.encode()
    return local_secret("NUMECRIVAIN_RATELIMIT_PEPPER").encode()


def pseudonymise_key(bucket: str, key: str) -> str:
    """The stored form of a key: HMAC-SHA256 with a secret shared by the services, never reversible."""
    pepper = _pepper_for(RateLimitSettings().pepper)
    return hmac.new(pepper, f"{bucket}\x00{key}".encode(), hashlib.sha256).hexdigest()


def client_metadata_value(address: str) -> str:
    """What a channel puts under CLIENT_METADATA_KEY: a keyed hash of the address, stable across services."""
    return "c-" + pseudonymise_key("client", address)[:32]


def trusted_proxies() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Reverse proxies whose X-Forwarded-For we believe (NUMECRIVAIN_TRUSTED_PROXIES: IPs or CIDRs, commas)."""
    return trusted_proxies_from(RateLimitSettings().trusted_proxies)


def trusted_proxies_from(text: str) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Parse a comma-separated list of proxy addresses or networks; bad entries are skipped."""
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for item in text.split(","):
        item = item.strip()
        if item:
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                logger.warning("NUMECRIVAIN_TRUSTED_PROXIES: ignored an entry that is not an address")
    return networks


def _is_trusted(address: str, proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in proxies)


def client_address(peer: str, forwarded_for: str | None,
                   proxies: list[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = None) -> str:
    """The client's address: the socket peer, unless it is a configured proxy; then X-Forwarded-For read from
    the right, skipping our own proxies. A client cannot pick its address by sending the header itself."""
    proxies = trusted_proxies() if proxies is None else proxies
    address = (peer or "").strip()
    if not forwarded_for or not _is_trusted(address, proxies):
        return address
    for hop in reversed(forwarded_for[:2000].split(",")):
        hop = hop.strip()
        try:
            ipaddress.ip_address(hop)
        except ValueError:
            return address  # garbage in the header: keep the last hop we could trust
        address = hop
        if not _is_trusted(hop, proxies):
            return hop
    return address


def _upsert(engine: Engine) -> type[postgresql.Insert] | type[sqlite.Insert]:
    dialect = engine.dialect.name
    if dialect == "postgresql":
        return postgresql.insert
    if dialect == "sqlite":
        return sqlite.insert
    raise RateLimitError(f"rate limits need SQLite or PostgreSQL, not {dialect}")


def _check(bucket: str, limit: int, per_seconds: float) -> None:
    if not bucket or len(bucket) > 64:
        raise RateLimitError("a bucket name has 1 to 64 characters")
    if limit < 0 or per_seconds <= 0:
        raise RateLimitError("a limit needs limit >= 0 and per_seconds > 0")


def allow(bucket: str, key: str, limit: int, per_seconds: float, *, engine: Engine | None = None,
          now: float | None = None) -> bool:
    """Count one attempt of `key` in `bucket`; True while it stays within `limit` per `per_seconds`."""
    _check(bucket, limit, per_seconds)
    engine = engine or db.get_engine()
    now = time.time() if now is None else now
    window_ms = max(1, int(per_seconds * 1000))
    now_ms = int(now * 1000)
    current = now_ms - now_ms % window_ms
    previous = current - window_ms
    key_hash = pseudonymise_key(bucket, key)
    insert = _upsert(engine)
    statement = insert(rate_limit_hits).values(
        bucket=bucket, key_hash=key_hash, window_start=current, hits=1,
        expires_at=(current + 2 * window_ms) / 1000.0,
    )
    # sqlalchemy2-stubs type SQLite's on_conflict_do_update as returning None; it returns the new statement.
    statement = statement.on_conflict_do_update(  # type: ignore[assignment]
        index_elements=["bucket", "key_hash", "window_start"],
        set_={"hits": rate_limit_hits.c.hits + 1},
    )
    windows = select(rate_limit_hits.c.window_start, rate_limit_hits.c.hits).where(
        rate_limit_hits.c.bucket == bucket, rate_limit_hits.c.key_hash == key_hash,
        rate_limit_hits.c.window_start.in_([previous, current]),
    )
    try:
        # The upsert takes the row's write lock, so the read below sees every attempt counted before ours.
        with engine.begin() as connection:
            connection.execute(statement)
            counts = {int(start): int(hits) for start, hits in connection.execute(windows)}
    except DBAPIError as error:
        # A limit must never turn a request into a 500: without the database, let it through and say so.
        logger.warning("rate limit %s unavailable (%s); request allowed", bucket, type(error).__name__)
        return True
    overlap = 1.0 - (now_ms - current) / window_ms
    estimate = counts.get(current, 1) + math.floor(counts.get(previous, 0) * overlap)
    _maybe_purge(engine, now)
    if estimate > limit:
        logger.info("rate limit %s reached (limit %d per %g s)", bucket, limit, per_seconds)
        return False
    return True


async def allow_async(bucket: str, key: str, limit: int, per_seconds: float, *,
                      engine: Engine | None = None) -> bool:
    """allow() off the event loop, for Sanic handlers and rasa-sdk actions."""
    return await asyncio.to_thread(allow, bucket, key, limit, per_seconds, engine=engine)


def purge_expired(engine: Engine | None = None, now: float | None = None) -> int:
    """Delete the windows that can no longer count; returns how many rows went."""
    engine = engine or db.get_engine()
    now = time.time() if now is None else now
    with engine.begin() as connection:
        result = connection.execute(delete(rate_limit_hits).where(rate_limit_hits.c.expires_at < now))
    return int(result.rowcount or 0)


def _maybe_purge(engine: Engine, now: float) -> None:
    url = str(engine.url)
    with _purge_lock:
        if now - _last_purge.get(url, 0.0) < PURGE_EVERY_SECONDS:
            return
        _last_purge[url] = now
    try:
        purge_expired(engine, now)
    except DBAPIError as error:
        logger.warning("rate limit purge failed (%s)", type(error).__name__)


def reset(bucket: str, key: str, engine: Engine | None = None) -> None:
    """Forget the attempts of one key (e.g. a login that just succeeded)."""
    engine = engine or db.get_engine()
    with engine.begin() as connection:
        connection.execute(delete(rate_limit_hits).where(
            rate_limit_hits.c.bucket == bucket, rate_limit_hits.c.key_hash == pseudonymise_key(bucket, key)))


__all__ = [
    "CLIENT_METADATA_KEY", "RateLimitError", "allow", "allow_async", "client_address", "client_metadata_value",
    "pseudonymise_key", "purge_expired", "reset",
]
