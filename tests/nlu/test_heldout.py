"""Held-out intent accuracy of the trained model (messages never used for training)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import requests
import yaml
from sklearn.metrics import accuracy_score, f1_score

from bot.paths import PROJECT_ROOT

pytestmark = pytest.mark.stack
HELDOUT = Path(__file__).parent / "heldout.yml"
MIN_ACCURACY = 0.90


def heldout_examples() -> list[tuple[str, str]]:
    """(text, intent) pairs of the held-out file, entity markup removed."""
    pairs = []
    for block in yaml.safe_load(HELDOUT.read_text(encoding="utf-8"))["nlu"]:
        for line in block["examples"].splitlines():
            text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", line.strip().removeprefix("- "))
            if text:
                pairs.append((text, block["intent"]))
    return pairs


def test_heldout_intent_accuracy_is_at_least_90_percent(stack) -> None:  # type: ignore[no-untyped-def]
    examples = heldout_examples()
    assert len(examples) >= 150
    predicted = []
    with requests.Session() as session:
        for text, _ in examples:
            response = session.post(f"{stack.rasa_url}/model/parse", params={"token": stack.rasa_token},
                                     json={"text": text}, timeout=30)
            response.raise_for_status()
            predicted.append(response.json()["intent"]["name"])
    expected = [intent for _, intent in examples]
    accuracy = accuracy_score(expected, predicted)
    macro_f1 = f1_score(expected, predicted, average="macro", zero_division=0)
    errors = [(t, e, p) for (t, e), p in zip(examples, predicted, strict=True) if e != p]
    out = PROJECT_ROOT / "results"
    out.mkdir(exist_ok=True)
    (out / "heldout-summary.json").write_text(
        json.dumps({"examples": len(examples), "accuracy": accuracy, "macro_f1": macro_f1,
                    "errors": [{"text": t, "expected": e, "predicted": p} for t, e, p in errors]},
                   ensure_ascii=False, indent=2),
        encoding="utf-8",
    )
    print(f"\nheld-out: {len(examples)} messages, accuracy {accuracy:.3f}, macro-F1 {macro_f1:.3f}")
    assert accuracy >= MIN_ACCURACY, errors[:20]
