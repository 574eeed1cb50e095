"""Held-out NLU figures for a trained model: accuracy and macro-F1 at several fallback thresholds.

Usage: .venv/bin/python -m bench.nlu_eval [models/numecrivain.tar.gz]
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
logging.disable(logging.WARNING)

from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

from tests.nlu.test_heldout import heldout_examples  # noqa: E402


async def main(model: str) -> None:
    from rasa.core.agent import Agent

    agent = Agent.load(model)
    examples = heldout_examples()
    expected = [intent for _, intent in examples]
    rankings = []
    configured = []
    started = time.perf_counter()
    for text, _ in examples:
        parsed = await agent.parse_message(text)
        configured.append(parsed["intent"]["name"])
        rankings.append([(r["name"], r["confidence"]) for r in parsed["intent_ranking"] if r["name"] != "nlu_fallback"])
    per_message_ms = (time.perf_counter() - started) * 1000 / len(examples)
    print(f"{len(examples)} held-out messages, parse {per_message_ms:.1f} ms each")
    print(f"as configured (fallback threshold and ambiguity): accuracy {accuracy_score(expected, configured):.3f}, "
          f"macro-F1 {f1_score(expected, configured, average='macro', zero_division=0):.3f}, "
          f"fallbacks {configured.count('nlu_fallback')}")
    for threshold in (0.0, 0.3, 0.35, 0.4, 0.45, 0.5):
        predicted = [r[0][0] if r[0][1] >= threshold else "nlu_fallback" for r in rankings]
        print(f"threshold {threshold:.2f}: accuracy {accuracy_score(expected, predicted):.3f}, "
              f"macro-F1 {f1_score(expected, predicted, average='macro', zero_division=0):.3f}, "
              f"fallbacks {predicted.count('nlu_fallback')}")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "models/numecrivain.tar.gz"))
