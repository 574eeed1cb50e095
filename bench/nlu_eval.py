"""Validation figures of a trained model: accuracy, macro-F1, weakest intents, and what the proposals rescue.

Usage: .venv/bin/python -m bench.nlu_eval [MODEL] [--data tests/nlu/heldout.yml] [--json out.json]

"As configured" is what users get (FallbackClassifier included); "top-1" ignores the fallback. For the
messages the model is unsure of, "rescued" counts those whose right procedure is among the 2 or 3
choices that bot.understanding.proposals would offer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import re
import time
from collections import Counter
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
logging.disable(logging.WARNING)

import yaml  # noqa: E402
from sklearn.metrics import accuracy_score, f1_score  # noqa: E402

FALLBACK = "nlu_fallback"
DEFAULT_DATA = Path("tests/nlu/heldout.yml")


def labelled_examples(path: Path) -> list[tuple[str, str]]:
    """(text, intent) pairs of a Rasa NLU file, entity markup removed."""
    pairs = []
    for block in yaml.safe_load(path.read_text(encoding="utf-8")).get("nlu", []):
        if "intent" not in block:
            continue
        for line in str(block.get("examples") or "").splitlines():
            text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line.strip().removeprefix("- "))
            if text:
                pairs.append((text, block["intent"]))
    return pairs


def recall_by_intent(expected: list[str], predicted: list[str]) -> dict[str, float]:
    """Share of each intent's messages that got that intent."""
    totals = Counter(expected)
    hits = Counter(e for e, p in zip(expected, predicted, strict=True) if e == p)
    return {intent: hits[intent] / count for intent, count in totals.items()}


def rescued_share(cases: list[tuple[str, str, list[dict]]], limit: int = 3) -> tuple[int, int]:
    """(rescued, total) among unsure messages expecting a procedure: right one among the proposals."""
    from bot.knowledge import KnowledgeError
    from bot.understanding.proposals import propose_procedures

    total = rescued = 0
    try:
        propose_procedures("", [])
    except KnowledgeError as exc:  # the knowledge base is being edited: the NLU figures still stand
        print(f"proposals not measured, the knowledge base does not load: {str(exc)[:200]}")
        return 0, 0
    for text, intent, ranking in cases:
        if not intent.startswith("procedure_"):
            continue
        total += 1
        if intent.removeprefix("procedure_") in propose_procedures(text, ranking, limit=limit):
            rescued += 1
    return rescued, total


async def evaluate(model: str, data: Path) -> dict:
    """Parse every example with the model and compute the figures."""
    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)  # one debug line per parsed message otherwise
    agent = Agent.load(model)
    examples = labelled_examples(data)
    expected = [intent for _, intent in examples]
    configured: list[str] = []
    top1: list[str] = []
    rankings: list[list[dict]] = []
    started = time.perf_counter()
    for text, _ in examples:
        parsed = await agent.parse_message(text)
        configured.append(parsed["intent"]["name"])
        ranking = [r for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]
        rankings.append(ranking)
        top1.append(ranking[0]["name"] if ranking else FALLBACK)
    per_message_ms = (time.perf_counter() - started) * 1000 / max(len(examples), 1)
    unsure = [(t, e, r) for (t, e), p, r in zip(examples, configured, rankings, strict=True) if p == FALLBACK]
    wrong_or_unsure = [(t, e, r) for (t, e), p, r in zip(examples, configured, rankings, strict=True) if p != e]
    recalls = recall_by_intent(expected, configured)
    return {
        "model": model,
        "data": str(data),
        "examples": len(examples),
        "parse_ms": round(per_message_ms, 1),
        "accuracy": accuracy_score(expected, configured),
        "macro_f1": f1_score(expected, configured, average="macro", zero_division=0),
        "top1_accuracy": accuracy_score(expected, top1),
        "top1_macro_f1": f1_score(expected, top1, average="macro", zero_division=0),
        "fallbacks": configured.count(FALLBACK),
        "rescued_unsure": rescued_share(unsure),
        "rescued_wrong_or_unsure": rescued_share(wrong_or_unsure),
        "weakest": sorted(recalls.items(), key=lambda item: (item[1], item[0]))[:10],
        "errors": [{"text": t, "expected": e, "predicted": p}
                   for (t, e), p in zip(examples, configured, strict=True) if e != p],
        "thresholds": {
            f"{threshold:.2f}": accuracy_score(
                expected, [r[0]["name"] if r and r[0]["confidence"] >= threshold else FALLBACK for r in rankings])
            for threshold in (0.0, 0.3, 0.35, 0.4, 0.5)
        },
    }


def print_report(figures: dict) -> None:
    """The figures in a few lines."""
    rescued, unsure = figures["rescued_unsure"]
    rescued_any, wrong = figures["rescued_wrong_or_unsure"]
    print(f"{figures['examples']} messages of {figures['data']}, parse {figures['parse_ms']} ms each")
    print(f"as configured: accuracy {figures['accuracy']:.3f}, macro-F1 {figures['macro_f1']:.3f}, "
          f"fallbacks {figures['fallbacks']}")
    print(f"top-1 (no fallback): accuracy {figures['top1_accuracy']:.3f}, macro-F1 {figures['top1_macro_f1']:.3f}")
    print(f"proposals: right procedure offered for {rescued}/{unsure} unsure messages, "
          f"{rescued_any}/{wrong} wrong or unsure")
    print("accuracy by threshold: " + ", ".join(f"{k}: {v:.3f}" for k, v in figures["thresholds"].items()))
    print("weakest intents (recall): " + ", ".join(f"{name} {value:.2f}" for name, value in figures["weakest"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default="models/numecrivain.tar.gz")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--json", type=Path, help="write all figures and errors to this file")
    args = parser.parse_args()
    figures = asyncio.run(evaluate(args.model, args.data))
    print_report(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
