"""Locust users that talk to a Rasa REST channel like residents do, one conversation after another.

Run by bench.load.run from .venv-bench, which has Locust (PYTHONPATH: the project, for the conversations):

    BENCH_RECORDS=out.csv BENCH_SCENARIO=mix locust -f bench/load/locustfile.py --headless -u 20 -r 20 -t 30s \
        --host http://localhost:5005

BENCH_SCENARIO: `mix` (short conversations: procedures, places, handoff requests, SMS-style text) or `long`
(each user holds one conversation of BENCH_TURNS turns, then stops). Every reply is written to BENCH_RECORDS
as `turn,scenario,milliseconds,ok,start` so the runner can compute throughput, percentiles and the latency
per turn; Locust's own statistics are printed too.
"""

from __future__ import annotations

import csv
import itertools
import os
import random
import threading
import time
import uuid
from typing import Any

from locust import HttpUser, constant, events, task
from locust.exception import StopUser

from bench.load.conversations import CONVERSATIONS, LONG_CYCLE, WEIGHTS

_records: list[tuple[int, str, float, int, float]] = []
_records_lock = threading.Lock()
_finished = itertools.count(1)


def _record(turn: int, scenario: str, milliseconds: float, ok: bool, start: float) -> None:
    with _records_lock:
        _records.append((turn, scenario, milliseconds, int(ok), start))


@events.quitting.add_listener
def _write_records(environment: Any, **_: Any) -> None:
    path = os.environ.get("BENCH_RECORDS")
    if not path:
        return
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["turn", "scenario", "ms", "ok", "start"])
        with _records_lock:
            writer.writerows(_records)


class Resident(HttpUser):
    """One person after another on the same browser tab: a new sender id per conversation, no pause."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.scenario_kind = os.environ.get("BENCH_SCENARIO", "mix")
        self.long_turns = int(os.environ.get("BENCH_TURNS", "100"))
        self.random = random.Random(os.environ.get("BENCH_SEED", "4242") + str(id(self)))

    def say(self, sender: str, text: str, turn: int, scenario: str) -> None:
        """One turn over REST, timed from the request to the whole reply."""
        start = time.time()
        begin = time.perf_counter()
        with self.client.post("/webhooks/rest/webhook", json={"sender": sender, "message": text},
                              name=f"{scenario} message", catch_response=True, timeout=60) as response:
            ok = response.status_code == 200
            if ok:
                try:
                    ok = isinstance(response.json(), list)
                except ValueError:
                    ok = False
            if not ok:
                response.failure(f"HTTP {response.status_code}")
        _record(turn, scenario, (time.perf_counter() - begin) * 1000, ok, start)

    @task
    def conversation(self) -> None:
        sender = f"bench-{uuid.uuid4().hex[:16]}"
        if self.scenario_kind == "long":
            for turn in range(1, self.long_turns + 1):
                self.say(sender, LONG_CYCLE[(turn - 1) % len(LONG_CYCLE)], turn, "long")
            if next(_finished) >= int(os.environ.get("BENCH_USERS", "1")):  # the last one ends the run
                self.environment.runner.quit()
            raise StopUser()
        texts, scenario = self.random.choices(CONVERSATIONS, WEIGHTS)[0]
        for turn, text in enumerate(texts, start=1):
            self.say(sender, text, turn, scenario)
