"""Shared fixtures: the real stack (Rasa + actions + portal over real HTTP) started once per session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.paths import MODELS_DIR
from tests.stack import Stack, free_port, running_stack

__all__ = ["Stack", "free_port"]

# Handoff (issue 4): a person may answer at any hour of the test run (still only when an agent is logged in
# and available); a fast watchdog so expiry and resume are seen within a test.
TEST_ENV = {
    "NUMECRIVAIN_TEST_MODE": "1",
    "NUMECRIVAIN_SERVICE_HOURS": "24/7",
    "NUMECRIVAIN_HANDOFF_WATCHDOG_SECONDS": "1",
}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """Start bot, action server and portal on free ports with their own databases; stop them after."""
    if not (MODELS_DIR / "numecrivain.tar.gz").exists():
        pytest.fail("models/numecrivain.tar.gz is missing: run 'make train' (make test does it)")
    with running_stack(tmp_path_factory.mktemp("stack"), TEST_ENV) as running:
        yield running
