"""Where a turn's CPU time goes: py-spy samples the Rasa and action server processes while residents talk.

Starts the stack as `make run` does (or uses --target with --pid), drives --users conversations of --turns
turns over REST, samples with py-spy (from .venv-bench) and prints the share of CPU samples of each part:
each NLU component (spaCy, the linear intent classifier, regexes), policies, tracker load and save, redaction,
the action server call, HTTP. Also writes the raw stacks and a flame graph (SVG) to results/bench/profile/.
Then one more conversation, turn after turn, gives the CPU time of each process per turn, early vs late in the
conversation (CPU time: a busy machine hardly changes it). Several Sanic workers are sampled together.

    .venv/bin/python -m bench.load.profile --users 4 --turns 40
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import requests

from bench.load.conversations import LONG_CYCLE
from bench.load.run import BENCH_STACK_ENV, BENCH_VENV, RESULTS, child_pids, children_by_service, wait_for_answer
from tests.stack import running_stack

# (label, substring of a py-spy frame "function (file:line)"), by priority: a sample counts once, for the first
# label any of its frames matches (redaction inside a save counts as redaction, a policy's tracker copies as policy).
PARTS: list[tuple[str, str]] = [
    ("action answer check (jsonschema)", "jsonschema/"),
    ("redaction (bot.privacy)", "privacy/redaction.py"),
    ("tracker save (SQL)", "save (rasa/core/tracker_store.py"),
    ("tracker save (SQL)", "save (bot/tracker_store.py"),
    ("tracker load (SQL + events)", "retrieve (rasa/core/tracker_store.py"),
    ("tracker load (SQL + events)", "_retrieve (rasa/core/tracker_store.py"),
    ("NLU: TokenCap", "bot/nlu/token_cap.py"),
    ("NLU: spaCy (SpacyNLP)", "spacy_utils.py"),
    ("NLU: SpacyTokenizer", "spacy_tokenizer.py"),
    ("NLU: SpacyFeaturizer", "spacy_featurizer.py"),
    ("NLU: RegexFeaturizer", "regex_featurizer.py"),
    ("NLU: CountVectorsFeaturizer", "count_vectors_featurizer.py"),
    ("NLU: LinearIntentClassifier", "bot/nlu/linear_classifier.py"),
    ("NLU: DIETClassifier", "diet_classifier.py"),
    ("NLU: RegexEntityExtractor", "regex_entity_extractor.py"),
    ("NLU: FallbackClassifier", "fallback_classifier.py"),
    ("policies (rules, memoization)", "rasa/core/policies/"),
    ("action server call (client side)", "rasa/core/actions/action.py"),
    ("tracker copy / replay", "rasa/shared/core/trackers.py"),
    ("graph / processor (other)", "rasa/engine/"),
    ("processor (other)", "rasa/core/processor.py"),
    ("HTTP client (aiohttp)", "aiohttp/"),
    ("project database (SQLAlchemy)", "sqlalchemy/"),
    ("HTTP server (Sanic)", "sanic/http"),
    ("HTTP server (Sanic)", "sanic/request"),
    ("HTTP server (Sanic)", "sanic/response"),
]
# Innermost frames of a thread or an event loop that waits: py-spy cannot always tell they are idle.
IDLE_LEAVES = ("_worker (concurrent/futures/thread.py", "serve (sanic/server/runners.py", "wait (threading.py",
               "select (selectors.py", "_write_forever (bot/event_broker.py", "serve_multiple (sanic/server/runners.py",
               "join (multiprocessing/")


def classify(stack: list[str]) -> str:
    """The part a sample belongs to (see PARTS)."""
    for label, needle in PARTS:
        if any(needle in frame for frame in stack):
            return label
    return "other"


def read_raw(path: Path) -> collections.Counter[str]:
    """py-spy's raw (collapsed) output: `frame;frame;... count` per line, outermost frame first."""
    counts: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines():
        stack_text, _, count = line.rpartition(" ")
        if stack_text and count.isdigit():
            frames = stack_text.split(";")
            if not frames[-1].startswith(IDLE_LEAVES):
                counts[classify(frames)] += int(count)
    return counts


def talk(url: str, turns: int, timings: list[float]) -> None:
    """One conversation of `turns` turns."""
    sender = f"profile-{uuid.uuid4().hex[:12]}"
    with requests.Session() as session:
        for turn in range(turns):
            began = time.perf_counter()
            session.post(f"{url}/webhooks/rest/webhook",
                         json={"sender": sender, "message": LONG_CYCLE[turn % len(LONG_CYCLE)]}, timeout=60)
            timings.append((time.perf_counter() - began) * 1000)


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children still running (Sanic workers), in seconds."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0
    return own + sum(cpu_seconds(child) for child in child_pids(pid))


def cpu_per_turn(url: str, pids: dict[str, int], turns: int, window: int = 10) -> dict[str, tuple[float, float]]:
    """One conversation, one turn at a time: CPU ms per turn of each process, first `window` turns vs last.

    CPU time, not wall time: what other jobs on a shared machine do changes it little, so the growth of a turn's
    cost with the length of the conversation shows even on a loaded machine.
    """
    sender = f"cpu-{uuid.uuid4().hex[:12]}"
    spent: dict[str, list[float]] = {name: [] for name in pids}
    with requests.Session() as session:
        for turn in range(turns):
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            session.post(f"{url}/webhooks/rest/webhook",
                         json={"sender": sender, "message": LONG_CYCLE[turn % len(LONG_CYCLE)]}, timeout=60)
            time.sleep(0.05)  # the turn's last writes (event broker, access log) land in this turn's count
            for name, pid in pids.items():
                spent[name].append((cpu_seconds(pid) - before[name]) * 1000)
    return {name: (statistics.mean(values[:window]), statistics.mean(values[-window:]))
            for name, values in spent.items()}


def profile(url: str, pids: dict[str, int], users: int, turns: int, out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    spy = str(BENCH_VENV / "bin" / "py-spy")
    recorders = {}
    for name in ("rasa", "actions"):
        if name in pids:
            for fmt, suffix in (("raw", "txt"), ("flamegraph", "svg")):
                recorders[(name, fmt)] = subprocess.Popen(
                    [spy, "record", "--pid", str(pids[name]), "--rate", "100", "--format", fmt, "--subprocesses",
                     "--output", str(out / f"{name}.{suffix}"), "--nonblocking"],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(2)
    timings: list[float] = []
    threads = [threading.Thread(target=talk, args=(url, turns, timings)) for _ in range(users)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    for process in recorders.values():
        process.send_signal(2)  # SIGINT: py-spy writes its output and stops
    for process in recorders.values():
        process.wait(timeout=60)
    timings.sort()
    print(f"{users} x {turns} turns in {elapsed:.1f} s: {len(timings) / elapsed:.1f} msg/s, "
          f"median {timings[len(timings) // 2]:.0f} ms")
    for name in ("rasa", "actions"):
        raw = out / f"{name}.txt"
        if not raw.exists():
            continue
        counts = read_raw(raw)
        total = sum(counts.values()) or 1
        print(f"\n{name}: {total} CPU samples at 100 Hz ({total / 100 / len(timings) * 1000:.0f} ms CPU per message)")
        for label, count in counts.most_common():
            print(f"  {label:<40} {100 * count / total:5.1f} %  {count / 100 / len(timings) * 1000:6.1f} ms/msg")
    print(f"\nflame graphs: {out}/rasa.svg, {out}/actions.svg")
    services = {name: pid for name, pid in pids.items() if name in ("rasa", "actions")}
    if services:
        print(f"\nCPU per turn, one conversation of {turns} turns (mean of the first 10 turns / of the last 10):")
        for name, (first, last) in cpu_per_turn(url, services, turns).items():
            print(f"  {name:<8} {first:6.1f} ms / {last:6.1f} ms  (x{last / first if first else float('nan'):.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=4)
    parser.add_argument("--turns", type=int, default=40)
    parser.add_argument("--target", help="URL of a running Rasa (then --pid is its process id)")
    parser.add_argument("--pid", type=int)
    parser.add_argument("--out", type=Path, default=RESULTS / "profile")
    args = parser.parse_args(argv)
    if args.target:
        profile(args.target, {"rasa": args.pid} if args.pid else {}, args.users, args.turns, args.out)
        return 0
    with tempfile.TemporaryDirectory(prefix="numecrivain-profile-") as workdir, \
            running_stack(Path(workdir), BENCH_STACK_ENV) as stack:
        wait_for_answer(stack.rasa_url, time.monotonic() + 300)
        profile(stack.rasa_url, children_by_service(stack.pid), args.users, args.turns, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
