"""Shared fixtures: the real stack (Rasa + actions + portal over real HTTP) started once per session."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.paths import MODELS_DIR
from tests.stack import Stack, free_port, running_stack

__all__ = ["Stack", "free_port"]

# Handoff: a person may answer at any hour of the test run (still only when an agent is logged in
# and available); a fast watchdog so expiry and resume are seen within a test.
TEST_ENV = {
    "NUMECRIVAIN_SERVICE_HOURS": "24/7",
    "NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS": "1",
    # The console re-reads no conversation from Rasa: what the person writes can only reach it pushed.
    "NUMECRIVAIN_CONSOLE_RESYNC_SECONDS": "0",
    # The portal's retention purge runs every 3 s, so its effect is seen within a test.
    "NUMECRIVAIN_PURGE_INTERVAL_MINUTES": "0.05",
    # Every test client is 127.0.0.1: room for the whole suite's requests for a person, while the cap on
    # requests waiting from one address stays low enough to be shown by tests/security.
    "NUMECRIVAIN_HANDOFF_PER_ADDRESS_PER_HOUR": "200",
    "NUMECRIVAIN_HANDOFF_MAX_WAITING_PER_ADDRESS": "5",
    # As behind nginx: Rasa's Sanic takes the client's address from X-Forwarded-For (one proxy hop). Requests
    # without that header (most tests) have no known address, so only per-conversation limits apply to them.
    "SANIC_PROXIES_COUNT": "1",
    # The benchmark's smoke run (tests/bench) holds a 60-turn conversation at full speed.
    "NUMECRIVAIN_REST_MESSAGES_PER_MINUTE": "600",
}


@contextmanager
def started_stack(workdir: Path) -> Iterator[Stack]:
    """Bot, action server and portal on free ports with their own databases in workdir, as the tests run them."""
    if not (MODELS_DIR / "numecrivain.tar.gz").exists():
        pytest.fail("models/numecrivain.tar.gz is missing: run 'make train' (make test does it)")
    with running_stack(workdir, TEST_ENV) as running:
        yield running


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Start bot, action server and portal on free ports with their own databases; stop them after."""
    with started_stack(tmp_path_factory.mktemp("stack")) as running:
        yield running
