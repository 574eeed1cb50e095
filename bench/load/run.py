"""`make bench`: Numécrivain against a plain `rasa init` bot, side by side in one run, over real HTTP with Locust.

Both bots run at the same time and take their turn under each load (1, 20 and 100 concurrent conversations,
then a few conversations of 100 turns), so a busy machine slows both alike and the ratios hold. Prints the
table, writes results/bench/summary.json and two plots (latency vs concurrency, latency vs turn).

    .venv/bin/python -m bench.load.run                       # starts our stack as `make run` does
    .venv/bin/python -m bench.load.run --target http://host  # an already running stack (e.g. the prod one)
    .venv/bin/python -m bench.load.run --seconds 10 --long-users 2   # shorter

Locust comes from .venv-bench (bench/requirements.lock), whose pins cannot clash with Rasa's.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bench.load.empty_bot import empty_model, message_budget_ms
from bench.load.trained_once import trained_once
from bot.paths import MODELS_DIR, PROJECT_ROOT
from tests.stack import free_port, running_stack

BENCH_VENV = PROJECT_ROOT / ".venv-bench"
LOCUSTFILE = Path(__file__).with_name("locustfile.py")
PLAIN_DIR = PROJECT_ROOT / "var" / "bench" / "plain"
EMPTY_DIR = PROJECT_ROOT / "var" / "bench" / "empty"
PLAIN_NAME = "plain rasa init"
EMPTY_NAME = "empty Rasa bot"
RESULTS = PROJECT_ROOT / "results" / "bench"
TRAIN_SECONDS_FILE = PROJECT_ROOT / "var" / "train-seconds.txt"
VENV_BIN = Path(sys.executable).parent
# Load tests talk from one address, and a person sends a message every few seconds at most: the limits for the
# public would answer 429 to a 100-turn conversation held at full speed.
BENCH_STACK_ENV = {
    "NUMECRIVAIN_HANDOFF_PER_ADDRESS_PER_HOUR": "100000",
    "NUMECRIVAIN_HANDOFF_MAX_WAITING_PER_ADDRESS": "100000",
    "NUMECRIVAIN_REST_MESSAGES_PER_MINUTE": "100000",
}


@dataclass
class Bot:
    """One bot under test: where it answers, which processes are its own, what it cost to start."""

    name: str
    url: str
    pids: dict[str, int] = field(default_factory=dict)
    start_seconds: float | None = None
    train_seconds: float | None = None
    model_bytes: int | None = None
    sms: dict[str, str] = field(default_factory=dict)


def percentile(values: list[float], share: float) -> float:
    """Nearest-rank percentile (values need not be sorted); NaN when empty."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered) + 0.5) - 1))]


def rss_mib(pid: int) -> float:
    """Resident memory of one process, in MiB (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def child_pids(pid: int) -> list[int]:
    try:
        return [int(child) for task in Path(f"/proc/{pid}/task").iterdir()
                for child in (task / "children").read_text().split()]
    except OSError:
        return []


def tree_rss_mib(pid: int) -> float:
    """Resident memory of a process and its children (Rasa's Sanic workers), in MiB; pages they share count
    once per process, so this is an upper bound."""
    return rss_mib(pid) + sum(tree_rss_mib(child) for child in child_pids(pid))


def children_by_service(parent: int) -> dict[str, int]:
    """The launcher's services (rasa, actions, web, sms-gateway) by name, from /proc."""
    found: dict[str, int] = {}
    names = {"bot.rasa_server": "rasa", "bot.action_server": "actions", "bot.web": "web",
             "devtools.fake_sms_gateway": "sms-gateway"}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid != parent:
            continue
        for module, name in names.items():
            if module.encode() in cmdline:
                found[name] = int(entry.name)
    return found


def wait_for_answer(url: str, deadline: float) -> None:
    """Poll the REST channel until it answers a real message."""
    while time.monotonic() < deadline:
        try:
            if requests.post(f"{url}/webhooks/rest/webhook", json={"sender": f"warmup-{uuid.uuid4().hex[:8]}",
                                                                     "message": "bonjour"}, timeout=30).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} gave no answer")


# --- The two bots ----------------------------------------------------------------------------------------


def plain_model() -> tuple[Path, float | None]:
    """The `rasa init --no-prompt` bot, created and trained once, cached in var/bench/plain."""
    def build() -> None:
        subprocess.run([str(VENV_BIN / "rasa"), "init", "--no-prompt", "--init-dir", str(PLAIN_DIR)],
                       cwd=PLAIN_DIR.parent, check=True, stdin=subprocess.DEVNULL,
                       env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})

    return trained_once(PLAIN_DIR, build, "the plain `rasa init` bot")


@contextmanager
def rasa_bot(name: str, model: Path, train_seconds: float | None, project: Path, timeout: float) -> Iterator[Bot]:
    """`rasa run` on a stock Rasa project (plain or empty bot), in-memory tracker, no action server."""
    port = free_port()
    env = {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}
    log = open(project / "run.log", "wb")  # noqa: SIM115 - closed in finally
    began = time.monotonic()
    process = subprocess.Popen([str(VENV_BIN / "rasa"), "run", "--model", str(model), "--port", str(port),
                                "--interface", "127.0.0.1"], cwd=project, env=env, stdout=log,
                               stderr=subprocess.STDOUT, start_new_session=True)
    try:
        bot = Bot(name, f"http://localhost:{port}", {"rasa": process.pid},
                  train_seconds=train_seconds, model_bytes=model.stat().st_size)
        wait_for_answer(bot.url, time.monotonic() + timeout)
        bot.start_seconds = time.monotonic() - began
        yield bot
    finally:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        log.close()


@contextmanager
def plain_bot(timeout: float) -> Iterator[Bot]:
    """The plain `rasa init` bot, the yardstick of every ratio."""
    model, train_seconds = plain_model()
    with rasa_bot(PLAIN_NAME, model, train_seconds, PLAIN_DIR, timeout) as bot:
        yield bot


@contextmanager
def empty_bot(timeout: float, wanted: bool) -> Iterator[Bot | None]:
    """The empty Rasa bot (bench/load/empty_bot.py), Rasa's own floor; None when not wanted."""
    if not wanted:
        yield None
        return
    model, train_seconds = empty_model(EMPTY_DIR, VENV_BIN / "rasa")
    with rasa_bot(EMPTY_NAME, model, train_seconds, EMPTY_DIR, timeout) as bot:
        yield bot


@contextmanager
def our_bot(target: str | None, timeout: float) -> Iterator[Bot]:
    """Numécrivain: the stack started as `make run` does (own databases in a tmp dir), or a running one."""
    model = MODELS_DIR / "numecrivain.tar.gz"
    train_seconds = float(TRAIN_SECONDS_FILE.read_text()) if TRAIN_SECONDS_FILE.exists() else None
    if target:
        bot = Bot("Numécrivain", target.rstrip("/"), train_seconds=train_seconds, model_bytes=model.stat().st_size)
        wait_for_answer(bot.url, time.monotonic() + timeout)
        yield bot
        return
    workdir = Path(tempfile.mkdtemp(prefix="numecrivain-bench-"))
    began = time.monotonic()
    try:
        with running_stack(workdir, BENCH_STACK_ENV, timeout=timeout) as stack:
            bot = Bot("Numécrivain", stack.rasa_url, children_by_service(stack.pid), train_seconds=train_seconds,
                      model_bytes=model.stat().st_size)
            wait_for_answer(bot.url, time.monotonic() + timeout)
            bot.start_seconds = time.monotonic() - began
            bot.sms = {"webhook": f"{stack.rasa_url}/webhooks/sms/android", "gateway": stack.sms_gateway_url,
                       "key": stack.env["SMS_WEBHOOK_SIGNING_KEY"]}
            yield bot
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# --- Measures --------------------------------------------------------------------------------------------


@dataclass
class Phase:
    """One Locust run against one bot."""

    label: str
    users: int
    scenario: str
    seconds: float
    records: list[dict[str, float]] = field(default_factory=list)

    @property
    def latencies(self) -> list[float]:
        return [r["ms"] for r in self.records if r["ok"]]

    @property
    def errors(self) -> int:
        return sum(1 for r in self.records if not r["ok"])

    @property
    def throughput(self) -> float:
        """Answered messages per second over the phase (first request sent to last reply received)."""
        if not self.records:
            return 0.0
        begin = min(r["start"] for r in self.records)
        end = max(r["start"] + r["ms"] / 1000 for r in self.records)
        return len(self.latencies) / max(end - begin, 1e-6)

    def turn_median(self, first: int, last: int) -> float:
        return statistics.median([r["ms"] for r in self.records if r["ok"] and first <= r["turn"] <= last]
                                 or [float("nan")])


def run_locust(bot: Bot, phase: Phase, workdir: Path, turns: int) -> Phase:
    """Locust headless from .venv-bench; the per-request records come back as CSV."""
    records = workdir / f"{bot.name.split()[0].lower()}-{phase.label}.csv"
    env = {**os.environ, "BENCH_RECORDS": str(records), "BENCH_SCENARIO": phase.scenario,
           "BENCH_TURNS": str(turns), "BENCH_USERS": str(phase.users), "PYTHONPATH": str(PROJECT_ROOT)}
    command = [str(BENCH_VENV / "bin" / "locust"), "-f", str(LOCUSTFILE), "--headless", "--only-summary",
               "-u", str(phase.users), "-r", str(phase.users), "-t", f"{int(phase.seconds)}s", "--host", bot.url,
               "--stop-timeout", "60", "--loglevel", "WARNING"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, cwd=PROJECT_ROOT)
    if not records.exists():
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise RuntimeError(f"Locust wrote no records for {bot.name} / {phase.label}")
    with records.open() as handle:
        phase.records = [{key: float(value) for key, value in row.items() if key != "scenario"}
                         for row in csv.DictReader(handle)]
    return phase


def sms_reply_seconds(bot: Bot, count: int = 3) -> list[float]:
    """Time from a signed one-part SMS webhook to the reply reaching the (fake) gateway."""
    if not bot.sms:
        return []
    from devtools.fake_sms_gateway import android_webhook_body, android_webhook_headers

    timings = []
    for index in range(count):
        phone = f"+3361{uuid.uuid4().int % 10**7:07d}"
        body = android_webhook_body(phone, ["jai perdu ma carte vitale", "bonjour", "aide caf"][index % 3])
        began = time.monotonic()
        requests.post(bot.sms["webhook"], data=body, headers=android_webhook_headers(bot.sms["key"], body),
                      timeout=30).raise_for_status()
        deadline = began + 30
        while time.monotonic() < deadline:
            if requests.get(f"{bot.sms['gateway']}/messages", params={"phoneNumber": phone}, timeout=5).json():
                timings.append(time.monotonic() - began)
                break
            time.sleep(0.02)
    return timings


# --- Report ----------------------------------------------------------------------------------------------


def _ms(value: float) -> str:
    return "n/a" if value != value else f"{value:,.0f} ms"  # NaN check


def summarise(bots: list[Bot], phases: dict[str, dict[str, Phase]], rss: dict[str, dict[str, float]],
              sms: list[float]) -> dict[str, Any]:
    """The figures of the table, per bot (Numécrivain first), as JSON-ready data."""
    summary: dict[str, Any] = {}
    for bot in bots:
        mine = phases[bot.name]
        long_phase = mine.get("long")
        row: dict[str, Any] = {
            "start_to_first_answer_s": bot.start_seconds, "train_s": bot.train_seconds,
            "model_mib": (bot.model_bytes or 0) / 2**20, "rss_mib": rss.get(bot.name, {}),
        }
        for label, phase in mine.items():
            row[label] = {
                "users": phase.users, "messages": len(phase.records), "errors": phase.errors,
                "throughput": phase.throughput, "p50": percentile(phase.latencies, 0.50),
                "p95": percentile(phase.latencies, 0.95), "p99": percentile(phase.latencies, 0.99),
            }
        if long_phase is not None:
            row["turn_1_ms"] = long_phase.turn_median(1, 1)
            row["turns_1_5_ms"] = long_phase.turn_median(1, 5)
            row["turn_100_ms"] = long_phase.turn_median(100, 100)
            row["turns_96_100_ms"] = long_phase.turn_median(96, 100)
            last_turn = max((int(r["turn"]) for r in long_phase.records), default=0)
            row["last_turn"] = last_turn
            row["last_5_turns_ms"] = long_phase.turn_median(last_turn - 4, last_turn)
            row["per_turn_ms"] = {str(turn): long_phase.turn_median(turn, turn)
                                  for turn in sorted({int(r["turn"]) for r in long_phase.records})}
            last = max(int(r["turn"]) for r in long_phase.records) if long_phase.records else 0
            row["per_5_turns_ms"] = {str(first): long_phase.turn_median(first, first + 4)
                                     for first in range(1, last + 1, 5)}
        summary[bot.name] = row
    summary[bots[0].name]["sms_reply_s"] = sms
    return summary


def cell(row: dict[str, Any], *path: str) -> float:
    """A figure of a bot's summary row by its keys (NaN when it was not measured)."""
    value: Any = row
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return float("nan") if value is None else float(value)


def print_table(summary: dict[str, Any], ours: str, plain: str) -> None:
    """The side-by-side table, ratios last (>1 means Numécrivain does better, for every row)."""
    a, b = summary[ours], summary[plain]
    last = cell(a, "last_turn")  # medians of the last 5 turns and of turns 1-5
    rows: list[tuple[str, float, float, str, bool]] = []  # name, ours, plain, unit, higher is better
    for label in ("1", "20", "100"):
        rows.append((f"throughput, {label} concurrent (msg/s)", cell(a, label, "throughput"),
                     cell(b, label, "throughput"), "{:.1f}", True))
    for label in ("1", "20", "100"):
        for pct in ("p50", "p95", "p99"):
            rows.append((f"{pct} reply, {label} concurrent (ms)", cell(a, label, pct), cell(b, label, pct),
                         "{:,.0f}", False))
    for label in ("1", "20", "100", "long"):
        rows.append((f"errors, {label}", cell(a, label, "errors"), cell(b, label, "errors"), "{:.0f}", False))
    rows += [
        ("turn 1 median, long conversations (ms)", cell(a, "turns_1_5_ms"), cell(b, "turns_1_5_ms"), "{:,.0f}", False),
        (f"turn {last:.0f} median, long conversations (ms)", cell(a, "last_5_turns_ms"), cell(b, "last_5_turns_ms"),
         "{:,.0f}", False),
        (f"turn {last:.0f} / turn 1", cell(a, "last_5_turns_ms") / cell(a, "turns_1_5_ms"),
         cell(b, "last_5_turns_ms") / cell(b, "turns_1_5_ms"), "{:.2f}", False),
        ("Rasa server RSS after load (MiB)", cell(a, "rss_mib", "rasa"), cell(b, "rss_mib", "rasa"), "{:,.0f}", False),
        ("start to first answer (s)", cell(a, "start_to_first_answer_s"), cell(b, "start_to_first_answer_s"),
         "{:.1f}", False),
        ("training time (s)", cell(a, "train_s"), cell(b, "train_s"), "{:.0f}", False),
        ("model size (MiB)", cell(a, "model_mib"), cell(b, "model_mib"), "{:.1f}", False),
    ]
    print(f"\n{'measure':<46} {'Numécrivain':>12} {'plain rasa':>12} {'ratio':>7}")
    print("-" * 80)
    for name, mine, theirs, fmt, higher_better in rows:
        def show(value: float, fmt: str = fmt) -> str:
            return "n/a" if value != value else fmt.format(value)
        usable = bool(mine and theirs) and mine == mine and theirs == theirs
        ratio = (mine / theirs if higher_better else theirs / mine) if usable else float("nan")
        print(f"{name:<46} {show(mine):>12} {show(theirs):>12} {show(ratio, '{:.2f}'):>7}")
    print("(ratio: how many times better Numécrivain does; < 1 means worse)")
    print("\nRSS of each Numécrivain process after load (MiB): "
          + ", ".join(f"{name} {value:,.0f}" for name, value in a.get("rss_mib", {}).items()))
    sms = a.get("sms_reply_s") or []
    if sms:
        print(f"SMS reply, one-part message, webhook to gateway: median {statistics.median(sms):.2f} s "
              f"(of {len(sms)}: {', '.join(f'{s:.2f}' for s in sms)})")
    if EMPTY_NAME in summary:
        print_floor(summary, ours, plain)


def print_floor(summary: dict[str, Any], ours: str, plain: str) -> None:
    """Rasa's own floor: what the empty bot does, and the time per message a 5× target leaves."""
    columns = [summary[name] for name in (EMPTY_NAME, ours, plain)]
    rows = [(f"throughput, {level} concurrent (msg/s)", level, "throughput", "{:.1f}") for level in ("1", "20", "100")]
    rows += [("p50 reply, 1 concurrent (ms)", "1", "p50", "{:,.0f}"),
             ("p95 reply, 20 concurrent (ms)", "20", "p95", "{:,.0f}")]
    print(f"\n{'Rasa itself (same run)':<40} {'empty bot':>12} {'Numécrivain':>12} {'plain rasa':>12}")
    print("-" * 79)
    for label, level, key, fmt in rows:
        if level in summary[EMPTY_NAME]:
            print(f"{label:<40} " + " ".join(f"{fmt.format(cell(row, level, key)):>12}" for row in columns))
    plain_20, empty_20 = cell(summary[plain], "20", "throughput"), cell(summary[EMPTY_NAME], "20", "throughput")
    if plain_20 > 0 and empty_20 > 0:
        print(f"5 x plain at 20 concurrent = {5 * plain_20:.0f} msg/s, i.e. {message_budget_ms(plain_20):.1f} ms of "
              f"one Rasa worker per message; the empty bot alone takes {1000 / empty_20:.1f} ms "
              f"(Rasa's ceiling here: {empty_20 / plain_20:.1f} x plain).")


def _bins_of_five(per_turn: dict[str, float]) -> dict[str, float]:
    """Median of the per-turn medians, five turns at a time (for a summary.json written without the bins)."""
    bins: dict[str, list[float]] = {}
    for turn, value in per_turn.items():
        bins.setdefault(str((int(turn) - 1) // 5 * 5 + 1), []).append(value)
    return {first: statistics.median(values) for first, values in bins.items()}


def plot(summary: dict[str, Any], out: Path) -> list[Path]:
    """Latency against concurrency, and against the turn of a long conversation, for both bots."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    figure, axis = plt.subplots(figsize=(7, 4.5))
    for name, row in summary.items():
        for pct, style in (("p50", "-o"), ("p95", "--s")):
            levels = [label for label in ("1", "20", "100") if label in row]
            axis.plot([int(level) for level in levels], [row[level][pct] for level in levels], style,
                      label=f"{name} {pct}")
    axis.set(xscale="log", xlabel="concurrent conversations", ylabel="reply time (ms)",
             title="Reply time against concurrency (REST)")
    paths.append(_save(figure, axis, out / "latency_vs_concurrency.png"))

    figure, axis = plt.subplots(figsize=(7, 4.5))
    for name, row in summary.items():
        per_turns = row.get("per_5_turns_ms") or _bins_of_five(row.get("per_turn_ms") or {})
        if per_turns:
            axis.plot([int(turn) + 2 for turn in per_turns], list(per_turns.values()), "-o", label=name)
    axis.set(xlabel="turn of the conversation", ylabel="median reply time, 5 turns (ms)",
             title="Reply time against conversation length")
    axis.set_ylim(bottom=0)
    paths.append(_save(figure, axis, out / "latency_vs_turn.png"))
    return paths


def _save(figure: Any, axis: Any, path: Path) -> Path:
    """Grid, legend, tight layout, written as PNG, then closed."""
    import matplotlib.pyplot as plt

    axis.grid(True, alpha=0.3)
    axis.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target", help="URL of an already running Numécrivain (default: start one)")
    parser.add_argument("--seconds", type=float, default=25, help="length of each throughput phase")
    parser.add_argument("--levels", default="1,20,100", help="concurrent conversations of the throughput phases")
    parser.add_argument("--long-users", type=int, default=4, help="conversations of --turns turns held at once")
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--start-timeout", type=float, default=300)
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--workers", type=int, default=int(os.environ.get("SANIC_WORKERS", 1)),
                        help="Sanic workers of our Rasa server (SANIC_WORKERS; the plain bot keeps 1: its lock "
                             "store is in memory)")
    parser.add_argument("--no-empty", action="store_true",
                        help="leave out the empty Rasa bot (Rasa's own floor, bench/load/empty_bot.py)")
    args = parser.parse_args(argv)
    BENCH_STACK_ENV["SANIC_WORKERS"] = str(args.workers)
    if not (BENCH_VENV / "bin" / "locust").exists():
        print("Locust is missing: `make bench` installs .venv-bench from bench/requirements.lock", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="numecrivain-locust-"))
    plan = [Phase(level, int(level), "mix", args.seconds) for level in args.levels.split(",")]
    plan.append(Phase("long", args.long_users, "long", 600))
    phases: dict[str, dict[str, Phase]] = {}
    rss: dict[str, dict[str, float]] = {}
    with (our_bot(args.target, args.start_timeout) as ours, plain_bot(args.start_timeout) as plain,
          empty_bot(args.start_timeout, not args.no_empty) as empty):
        bots = [ours, plain] + ([empty] if empty else [])
        print(f"Numécrivain ({args.workers} Sanic worker(s)) at {ours.url}, plain rasa init at {plain.url}"
              + (f", empty Rasa bot at {empty.url}" if empty else "")
              + f". Phases: {', '.join(p.label for p in plan)} (each bot in turn).", flush=True)
        sms = sms_reply_seconds(ours)
        for template in plan:
            for bot in bots:
                phase = Phase(template.label, template.users, template.scenario, template.seconds)
                run_locust(bot, phase, workdir, args.turns)
                phases.setdefault(bot.name, {})[phase.label] = phase
                print(f"  {bot.name:<16} {phase.label:>5}: {len(phase.records):5d} messages, "
                      f"{phase.throughput:6.1f} msg/s, p50 {_ms(percentile(phase.latencies, .5))}, "
                      f"p95 {_ms(percentile(phase.latencies, .95))}, errors {phase.errors}", flush=True)
        for bot in bots:
            rss[bot.name] = {name: tree_rss_mib(pid) for name, pid in bot.pids.items()}
        sms += sms_reply_seconds(ours, 2)
    summary = summarise(bots, phases, rss, sms)
    summary[ours.name]["sanic_workers"] = args.workers
    print_table(summary, ours.name, plain.name)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    for path in plot(summary, args.out):
        print(f"plot: {path.relative_to(PROJECT_ROOT) if path.is_relative_to(PROJECT_ROOT) else path}")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
