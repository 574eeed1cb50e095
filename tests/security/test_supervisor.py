"""The launcher's supervisor: a dead service comes back after a growing wait, and a hopeless one stops it all.

Deterministic: fake processes and a fake clock (the real kill -9 is in test_supervisor_stack.py).
"""

from __future__ import annotations

import itertools
import subprocess
from typing import Any, cast

import pytest

from bot.launcher import GaveUpError, Supervisor


class FakeProcess:
    """A child process whose death the test decides."""

    _pids = itertools.count(1000)

    def __init__(self, command: list[str]) -> None:
        self.command = command
        self.pid = next(self._pids)
        self.returncode: int | None = None

    def poll(self) -> int | None:
        return self.returncode

    def die(self, code: int = -9) -> None:
        self.returncode = code


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def make_supervisor(**limits: Any) -> tuple[Supervisor, Clock, list[FakeProcess], list[str]]:
    clock, spawned, lines = Clock(), list[FakeProcess](), list[str]()

    def spawn(command: list[str], _env: dict[str, str]) -> subprocess.Popen[bytes]:
        process = FakeProcess(command)
        spawned.append(process)
        return cast("subprocess.Popen[bytes]", process)  # pid, poll() and returncode: all the supervisor reads

    supervisor = Supervisor(spawn=spawn, clock=clock, log=lines.append, **limits)
    supervisor.start("rasa", ["rasa"], {})
    supervisor.start("web", ["web"], {})
    return supervisor, clock, spawned, lines


def current(supervisor: Supervisor, name: str) -> FakeProcess:
    return cast(FakeProcess, supervisor.children[name].process)  # what make_supervisor's spawn made


def restart_at(supervisor: Supervisor) -> float:
    """When the supervisor will start rasa again (it has just seen it die)."""
    planned = supervisor.children["rasa"].restart_at
    assert planned is not None, "a restart is planned"
    return planned


def test_dead_service_is_restarted_after_its_backoff_and_the_others_keep_running() -> None:
    supervisor, clock, spawned, lines = make_supervisor(base_backoff=1.0)
    web = current(supervisor, "web")
    current(supervisor, "rasa").die()
    clock.now = 5.0
    supervisor.check()
    assert len(spawned) == 2, "no restart before the backoff has passed"
    assert "restarting it in 1 s" in lines[-1]
    clock.now = 6.0
    supervisor.check()
    assert len(spawned) == 3 and spawned[-1].command == ["rasa"]
    assert current(supervisor, "rasa") is spawned[-1]
    assert current(supervisor, "web") is web and web.poll() is None


def test_backoff_doubles_with_each_quick_death_and_is_capped() -> None:
    supervisor, clock, _, _ = make_supervisor(base_backoff=1.0, max_backoff=8.0, stable_seconds=100.0,
                                              max_quick_deaths=10)
    waits = []
    for _ in range(6):
        current(supervisor, "rasa").die()
        supervisor.check()
        waits.append(restart_at(supervisor) - clock.now)
        clock.now = restart_at(supervisor)
        supervisor.check()
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


def test_service_that_ran_long_enough_restarts_after_the_shortest_wait() -> None:
    supervisor, clock, _, _ = make_supervisor(base_backoff=1.0, stable_seconds=60.0)
    for _ in range(3):  # three quick deaths: the wait is now 4 s
        current(supervisor, "rasa").die()
        supervisor.check()
        clock.now = restart_at(supervisor)
        supervisor.check()
    clock.now += 600  # then it served ten minutes before dying
    current(supervisor, "rasa").die()
    supervisor.check()
    assert supervisor.children["rasa"].restart_at == clock.now + 1.0


def test_supervisor_gives_up_loudly_after_too_many_quick_deaths() -> None:
    supervisor, clock, spawned, lines = make_supervisor(base_backoff=1.0, stable_seconds=60.0,
                                                        max_quick_deaths=3)
    for _ in range(3):
        current(supervisor, "rasa").die(code=1)
        supervisor.check()
        clock.now = restart_at(supervisor)
        supervisor.check()
    current(supervisor, "rasa").die(code=1)
    with pytest.raises(GaveUpError, match="rasa"):
        supervisor.check()
    assert "died 4 times in a row" in lines[-1] and "Giving up" in lines[-1]
    assert len(spawned) == 2 + 3
