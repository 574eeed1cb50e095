"""The first answers after a start: time to the first "bonjour", then the first procedure and place answers.

Things loaded on first use (knowledge base, places index, directories) show here and nowhere else: the load
test warms the stack up before it measures. Starts the stack as `make run` does, with its own databases.

    .venv/bin/python -m bench.first_answer [--runs 2]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import requests

from bench.load.run import wait_for_answer
from tests.stack import running_stack

QUESTIONS = [("first procedure", "combien coute un passeport"), ("first place", "un lieu pour imprimer à Seclin"),
             ("second procedure", "combien coute une carte d'identité")]


def say(url: str, sender: str, text: str) -> float:
    """One REST turn; its time in milliseconds."""
    began = time.perf_counter()
    requests.post(f"{url}/webhooks/rest/webhook", json={"sender": sender, "message": text},
                  timeout=60).raise_for_status()
    return (time.perf_counter() - began) * 1000


def one_start() -> str:
    began = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="numecrivain-first-") as workdir, running_stack(Path(workdir)) as stack:
        wait_for_answer(stack.rasa_url, time.monotonic() + 300)
        start = time.monotonic() - began
        sender = f"first-{uuid.uuid4().hex[:8]}"
        timings = [f"{label} {say(stack.rasa_url, sender, text):.0f} ms" for label, text in QUESTIONS]
    return f"start to first answer {start:.1f} s; " + ", ".join(timings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2)
    for run in range(1, parser.parse_args(argv).runs + 1):
        print(f"start {run}: {one_start()}", flush=True)


if __name__ == "__main__":
    main()
