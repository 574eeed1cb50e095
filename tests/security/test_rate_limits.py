"""The shared rate limit: one count across processes, pseudonymised keys, old windows purged."""

from __future__ import annotations

import asyncio
import multiprocessing
import sqlite3
from pathlib import Path

import pytest

from bot import db
from bot.security import ratelimit


@pytest.fixture()
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'limits.db'}"
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", url)
    monkeypatch.setenv("NUMECRIVAIN_RATELIMIT_PEPPER", "test-pepper")
    return url


def _hammer(url: str, attempts: int, start: multiprocessing.synchronize.Event,
            results: multiprocessing.Queue) -> None:
    import os

    os.environ["NUMECRIVAIN_DB_URL"] = url
    os.environ["NUMECRIVAIN_RATELIMIT_PEPPER"] = "test-pepper"
    start.wait()
    allowed = sum(ratelimit.allow("handoff_ip", "203.0.113.7", 25, 3600) for _ in range(attempts))
    results.put(allowed)


def test_two_processes_share_one_count(database: str) -> None:
    db.get_engine()  # the schema exists before the services start, as the launcher does
    context = multiprocessing.get_context("spawn")
    start, results = context.Event(), context.Queue()
    workers = [context.Process(target=_hammer, args=(database, 20, start, results)) for _ in range(2)]
    for worker in workers:
        worker.start()
    start.set()
    allowed = [results.get(timeout=120) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
    # 40 attempts from two processes against one limit of 25: exactly 25 get through, whoever they were.
    assert sum(allowed) == 25
    assert all(count > 0 for count in allowed)
    # A third process (this one) sees the same count.
    assert ratelimit.allow("handoff_ip", "203.0.113.7", 25, 3600) is False


def test_limit_counts_per_key_and_bucket(database: str) -> None:
    now = 1_800_000_000.0
    assert [ratelimit.allow("login", "alice", 2, 60, now=now) for _ in range(3)] == [True, True, False]
    assert ratelimit.allow("login", "bob", 2, 60, now=now) is True
    assert ratelimit.allow("handoff", "alice", 2, 60, now=now) is True


def test_limit_frees_up_after_the_window(database: str) -> None:
    now = 1_800_000_000.0
    assert [ratelimit.allow("sms", "k", 3, 60, now=now) for _ in range(4)] == [True, True, True, False]
    # Half a window later the previous window still weighs half: 4 * 0.5 = 2, one more slot.
    assert ratelimit.allow("sms", "k", 3, 60, now=now + 90) is True
    assert ratelimit.allow("sms", "k", 3, 60, now=now + 90) is False
    # Two windows later nothing counts any more.
    assert ratelimit.allow("sms", "k", 3, 60, now=now + 200) is True


def test_keys_are_stored_pseudonymised(database: str, tmp_path: Path) -> None:
    ratelimit.allow("handoff_ip", "198.51.100.23", 5, 60)
    ratelimit.allow("callback", "+33612345678", 5, 60)
    raw = (tmp_path / "limits.db").read_bytes()
    for wal in tmp_path.glob("limits.db-wal"):
        raw += wal.read_bytes()
    assert b"198.51.100.23" not in raw and b"+33612345678" not in raw and b"612345678" not in raw
    rows = sqlite3.connect(tmp_path / "limits.db").execute("SELECT key_hash FROM rate_limit_hits").fetchall()
    assert len(rows) == 2 and all(len(key) == 64 for (key,) in rows)


def test_old_windows_are_purged(database: str) -> None:
    now = 1_800_000_000.0
    ratelimit.allow("old", "k", 5, 10, now=now)
    ratelimit.allow("recent", "k", 5, 3600, now=now)
    assert ratelimit.purge_expired(now=now + 60) == 1
    with db.get_engine().connect() as connection:
        buckets = [row.bucket for row in connection.execute(ratelimit.rate_limit_hits.select())]
    assert buckets == ["recent"]


def test_async_variant_counts_like_the_sync_one(database: str) -> None:
    async def attempts() -> list[bool]:
        return [await ratelimit.allow_async("rest", "sender", 2, 60) for _ in range(3)]

    assert asyncio.run(attempts()) == [True, True, False]


def test_nonsense_limits_are_refused(database: str) -> None:
    with pytest.raises(ratelimit.RateLimitError):
        ratelimit.allow("", "k", 1, 60)
    with pytest.raises(ratelimit.RateLimitError):
        ratelimit.allow("b", "k", 1, 0)


def test_client_address_ignores_forwarded_for_from_strangers() -> None:
    proxies = ratelimit.trusted_proxies_from("10.0.0.0/8")
    # A client talking to us directly cannot choose its address with the header.
    assert ratelimit.client_address("198.51.100.9", "203.0.113.1", proxies) == "198.51.100.9"
    # Behind our proxy, the address the proxy saw (rightmost untrusted hop) is the client.
    assert ratelimit.client_address("10.0.0.2", "203.0.113.1, 198.51.100.9", proxies) == "198.51.100.9"
    assert ratelimit.client_address("10.0.0.2", "198.51.100.9, 10.0.0.7", proxies) == "198.51.100.9"
    # Garbage in the header: the last trusted hop, never the garbage.
    assert ratelimit.client_address("10.0.0.2", "not-an-ip", proxies) == "10.0.0.2"
    assert ratelimit.client_address("10.0.0.2", None, proxies) == "10.0.0.2"
