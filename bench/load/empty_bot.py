"""An empty Rasa bot: what Rasa 3.6 itself costs per message, the floor under any bot built on it.

The least a Rasa bot can run: whitespace tokens, a keyword classifier that knows three English greetings (so
nearly every message is a fallback), the rule policy alone, one rule answering every message with a fixed
text, an in-memory tracker, no action server. `make bench` measures it in the same run as
the two others: a throughput target that asks more than this bot does cannot be met by any Rasa bot on the
machine, and the gap between it and Numécrivain is what our understanding, tracker store and actions cost.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bench.load.trained_once import trained_once

CONFIG = """\
recipe: default.v1
assistant_id: empty_rasa_bot
language: en
pipeline:
  - name: WhitespaceTokenizer
  - name: KeywordIntentClassifier
  - name: FallbackClassifier
    threshold: 0.3
policies:
  - name: RulePolicy
"""
RULES = """\
version: "3.1"
rules:
- rule: every message gets the same answer
  steps:
  - intent: nlu_fallback
  - action: utter_greet
- rule: a greeting too
  steps:
  - intent: greet
  - action: utter_greet
"""
DOMAIN = """\
version: "3.1"
intents:
  - greet
responses:
  utter_greet:
  - text: "Bonjour !"
"""
NLU = """\
version: "3.1"
nlu:
- intent: greet
  examples: |
    - hello
    - hi
    - hey
"""
FILES = {"config.yml": CONFIG, "domain.yml": DOMAIN, "credentials.yml": "rest:\n", "data/nlu.yml": NLU,
         "data/rules.yml": RULES}


def write_project(folder: Path) -> None:
    """The empty bot's Rasa project, from scratch."""
    for name, text in FILES.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


def empty_model(folder: Path, rasa: Path) -> tuple[Path, float | None]:
    """Write and train the empty bot once, cached in ``folder``: its model and training seconds."""
    def build() -> None:
        write_project(folder)
        subprocess.run([str(rasa), "train", "--fixed-model-name", "empty"], cwd=folder, check=True,
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       env={**os.environ, "RASA_TELEMETRY_ENABLED": "false"})

    return trained_once(folder, build, "the empty Rasa bot")


def message_budget_ms(plain_throughput: float, factor: float = 5.0, workers: int = 1) -> float:
    """Milliseconds of one worker's time per message that ``factor`` × plain Rasa's throughput leaves."""
    if plain_throughput <= 0:
        return float("nan")
    return 1000 * workers / (factor * plain_throughput)
