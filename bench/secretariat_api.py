"""Secretariat API figures: latency (median, p95) and top-1 accuracy on tests/secretariat/questions.yml.

    python bench/secretariat_api.py --url http://localhost:8080 --token sec_...   # a running portal
    python bench/secretariat_api.py --keywords-only                                # in-process, no model
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
QUESTIONS = yaml.safe_load((ROOT / "tests" / "secretariat" / "questions.yml").read_text(encoding="utf-8"))


def over_http(url: str, token: str, rounds: int) -> tuple[list[float], int, str]:
    """Latencies (ms), top-1 hits and ranking method through the real API."""
    latencies, hits, method = [], 0, "?"
    for round_number in range(rounds):
        for item in QUESTIONS:
            request = urllib.request.Request(f"{url}/api/v1/answers?q={urllib.parse.quote(item['q'])}&limit=1",
                                             headers={"Authorization": f"Bearer {token}"})
            started = time.perf_counter()
            with urllib.request.urlopen(request, timeout=30) as reply:
                body = json.loads(reply.read())
            latencies.append((time.perf_counter() - started) * 1000)
            method = body["method"]
            if round_number == 0 and body["answers"] and body["answers"][0]["procedure"]["id"] == item["expected"]:
                hits += 1
    return latencies, hits, method


def in_process(rounds: int) -> tuple[list[float], int, str]:
    """Keyword ranking alone (what the API does when the model server is down)."""
    from bot.knowledge import get_knowledge_base
    from bot.secretariat.ranking import rank_procedures

    knowledge_base = get_knowledge_base()
    latencies, hits = [], 0
    for round_number in range(rounds):
        for item in QUESTIONS:
            started = time.perf_counter()
            ranking = asyncio.run(rank_procedures(item["q"], knowledge_base, None, 1))
            latencies.append((time.perf_counter() - started) * 1000)
            if round_number == 0 and ranking.answers and ranking.answers[0].procedure.id == item["expected"]:
                hits += 1
    return latencies, hits, "keywords"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://localhost:8080")
    parser.add_argument("--token")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keywords-only", action="store_true")
    args = parser.parse_args()
    if args.keywords_only:
        latencies, hits, method = in_process(args.rounds)
    else:
        if not args.token:
            parser.error("--token is required (python -m bot.secretariat.tokens create ...)")
        latencies, hits, method = over_http(args.url, args.token, args.rounds)
    p95 = statistics.quantiles(latencies, n=20)[18]
    print(f"method: {method}; questions: {len(QUESTIONS)}; requests: {len(latencies)}")
    print(f"latency ms: median {statistics.median(latencies):.1f}, p95 {p95:.1f}")
    print(f"top-1 accuracy: {hits}/{len(QUESTIONS)} = {hits / len(QUESTIONS):.1%}")


if __name__ == "__main__":
    main()
