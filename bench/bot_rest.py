"""Start the whole stack as `make run` does, then measure: time to first answer, Rasa server memory, reply time.

The time counts from the launch to the first REST answer (the services start in parallel).

Usage: .venv/bin/python -m bench.bot_rest [--messages 60]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import requests

from tests.stack import running_stack

MESSAGES = [
    "jai perdu ma carte d'identité", "comment faire une demande d'APL", "bonjour", "carte grise vendu ma voiture",
    "je cherche un médiateur numérique à Roubaix", "mot de passe impots oublié", "quand passent les poubelles",
    "je veux parler à quelqu'un", "merci", "inscription sur les listes électorales",
]


def rss_mib(pid: int) -> float:
    """Resident memory of a process and its children, in MiB (from /proc)."""
    total = 0
    children = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    pids = [pid, *map(int, children)]
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=60)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="numecrivain-bench-"))
    started = time.monotonic()
    with running_stack(workdir, timeout=300) as stack:
        rest = stack.rest_url
        while not requests.post(rest, json={"sender": "bench", "message": "bonjour"}, timeout=30).ok:
            time.sleep(0.5)
        first_answer = time.monotonic() - started
        port = stack.rasa_url.rsplit(":", 1)[1]
        rasa_pid = int(subprocess.run(["pgrep", "-f", f"bot.rasa_server --model .* --port {port} "],
                                      capture_output=True, text=True).stdout.split()[0])
        rss_loaded = rss_mib(rasa_pid)
        timings = []
        with requests.Session() as session:
            for index in range(args.messages):
                text = MESSAGES[index % len(MESSAGES)]
                begin = time.perf_counter()
                reply = session.post(rest, json={"sender": f"bench-{index % 7}", "message": text}, timeout=30)
                reply.raise_for_status()
                timings.append((time.perf_counter() - begin) * 1000)
        timings.sort()
        print(f"time from launch to first REST answer (warm install, model trained): {first_answer:.1f} s")
        print(f"Rasa server RSS after loading: {rss_loaded:.0f} MiB; "
              f"after {args.messages} messages: {rss_mib(rasa_pid):.0f} MiB")
        print(f"REST reply time over {len(timings)} messages: median {statistics.median(timings):.0f} ms, "
              f"p95 {timings[int(0.95 * (len(timings) - 1))]:.0f} ms")


if __name__ == "__main__":
    main()
