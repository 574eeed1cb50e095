"""A smoke run of `make bench` on the test stack: Locust, real HTTP, long conversations.

Figures belong to the bench; here only what holds on any machine: every reply arrives, and a turn late in a
conversation costs about what an early one does (the tracker is not read, masked and replayed whole each turn).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from bench.load.run import BENCH_VENV, Bot, Phase, run_locust
from tests.stack import Stack

pytestmark = pytest.mark.stack

TURNS = 60


@pytest.fixture(scope="module")
def long_conversations(stack: Stack) -> Phase:
    if not (BENCH_VENV / "bin" / "locust").exists():
        pytest.skip("Locust's own venv .venv-bench is missing: `make test` and `make bench` install it")
    with tempfile.TemporaryDirectory(prefix="numecrivain-bench-smoke-") as workdir:
        return run_locust(Bot("Numécrivain", stack.rasa_url), Phase("long", 2, "long", 120), Path(workdir), TURNS)


def test_every_turn_of_two_long_conversations_gets_an_answer(long_conversations: Phase) -> None:
    assert len(long_conversations.records) == 2 * TURNS
    assert long_conversations.errors == 0


def test_a_late_turn_costs_less_than_three_times_an_early_one(long_conversations: Phase) -> None:
    early = long_conversations.turn_median(1, 5)
    late = long_conversations.turn_median(TURNS - 4, TURNS)
    assert late < 3 * early, f"turns 1-5: {early:.0f} ms, turns {TURNS - 4}-{TURNS}: {late:.0f} ms"
