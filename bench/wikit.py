"""Wikit French NLU benchmark (public yardstick): Rasa's default pipeline, ours, and TF-IDF + logistic regression.

Usage: WIKIT_DIR=/path/to/nlu-french-benchmark .venv/bin/python -m bench.wikit [--config other.yml ...] [--no-default]
       WIKIT_DIR=... .venv/bin/python -m bench.wikit --cv 4 [--config other.yml ...]   (training split only)

The two CSV files (training_dataset.csv, test_dataset.csv; columns utterance, intent) come from the public
repository wikit-ai/nlu-french-benchmark. They stay outside this repository and outside `make test`: the
script reads them from WIKIT_DIR (default /work/wikit), trains the three models in a temporary folder and
prints the test accuracies side by side. "top-1" is the best intent; "as configured" counts a fallback
(FallbackClassifier) as an error, which is what a user would get.
The test split is a yardstick, never a tuning set: `--cv N` compares candidates without reading it (N repeats
of a stratified 5-fold cross-validation of the training split, the TF-IDF baseline and the
LinearIntentClassifier of each config, trained directly on spaCy's output), so that the test split is read
once per candidate kept.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import logging
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("LOG_LEVEL", "ERROR")
os.environ.setdefault("RASA_MAX_CACHE_SIZE", "0")  # really train each time: honest training times
logging.disable(logging.WARNING)

import yaml  # noqa: E402

from bot.paths import PROJECT_ROOT  # noqa: E402

FILES = ("training_dataset.csv", "test_dataset.csv")
FALLBACK = "nlu_fallback"


def read_split(path: Path) -> list[tuple[str, str]]:
    """(utterance, intent) rows of one CSV file."""
    with path.open(encoding="utf-8", newline="") as handle:
        return [(row["utterance"].strip(), row["intent"].strip()) for row in csv.DictReader(handle)
                if row.get("utterance", "").strip()]


def write_nlu(rows: list[tuple[str, str]], names: dict[str, str], path: Path) -> None:
    """The training rows as a Rasa NLU file (intent names made safe: i0, i1...)."""
    by_intent: dict[str, list[str]] = {}
    for text, intent in rows:
        by_intent.setdefault(names[intent], []).append(" ".join(text.split()))
    blocks = [{"intent": name, "examples": "".join(f"- {text}\n" for text in texts)}
              for name, texts in sorted(by_intent.items())]
    path.write_text(yaml.safe_dump({"version": "3.1", "nlu": blocks}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")


def our_nlu_config(path: Path = PROJECT_ROOT / "config.yml") -> dict[str, Any]:
    """config.yml's (or another file's) language and NLU pipeline, without the dialogue policies."""
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {"recipe": "default.v1", "language": config["language"], "pipeline": config["pipeline"]}


def default_nlu_config() -> dict[str, Any]:
    """No pipeline: Rasa fills in its default one (DIET on word and character counts)."""
    return {"recipe": "default.v1", "language": "fr"}


async def rasa_predictions(config: dict[str, Any], nlu_file: Path, texts: list[str], work: Path,
                           name: str) -> tuple[list[str], list[str], float]:
    """Train an NLU model with this config, then (top-1, as configured) intents for the texts and seconds."""
    from rasa.core.agent import Agent
    from rasa.model_training import train_nlu
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.ERROR)  # one debug line per parsed message otherwise

    config_file = work / f"{name}.yml"
    config_file.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    started = time.perf_counter()
    model = train_nlu(str(config_file), str(nlu_file), str(work), fixed_model_name=name)
    seconds = time.perf_counter() - started
    if model is None:
        raise RuntimeError(f"training of {name} failed")
    agent = Agent.load(model)
    top1, configured = [], []
    for text in texts:
        parsed = await agent.parse_message(text)
        configured.append(parsed["intent"]["name"])
        ranking = [r["name"] for r in parsed.get("intent_ranking", []) if r["name"] != FALLBACK]
        top1.append(ranking[0] if ranking else FALLBACK)
    return top1, configured, seconds


def tfidf_predictions(train: list[tuple[str, str]], texts: list[str], analyzer: str = "char_wb"
                      ) -> tuple[list[str], float]:
    """TF-IDF + logistic regression, the usual baseline: character n-grams 2-5 (or words 1-2)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    started = time.perf_counter()
    vectorizer = (TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True) if analyzer == "char_wb"
                  else TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True))
    model = make_pipeline(vectorizer, LogisticRegression(C=10.0, max_iter=3000))
    model.fit([text for text, _ in train], [intent for _, intent in train])
    return list(model.predict(texts)), time.perf_counter() - started


def cross_validation(train: list[tuple[str, str]], configs: list[tuple[str, Path]], repeats: int) -> None:
    """Mean top-1 accuracy (and its standard error) over repeated stratified 5-fold splits of the training rows."""
    import numpy as np
    import spacy
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.constants import SPACY_DOCS
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData
    from sklearn.model_selection import StratifiedKFold

    from bot.nlu.linear_classifier import LinearIntentClassifier

    texts, labels = [" ".join(text.split()) for text, _ in train], np.array([intent for _, intent in train])
    docs = list(spacy.load("fr_core_news_md").pipe([text.lower() for text in texts]))  # as SpacyNLP: lowercased
    options = []
    for label, path in configs:
        steps = yaml.safe_load(path.read_text(encoding="utf-8"))["pipeline"]
        step = next((s for s in steps if s["name"].endswith("LinearIntentClassifier")), None)
        if step is None:
            print(f"{label}: no LinearIntentClassifier, left out of the cross-validation")
            continue
        options.append((label, {key: value for key, value in step.items() if key != "name"}))
    scores: dict[str, list[float]] = {"TF-IDF (char 2-5) + log. regression": []}
    scores.update({label: [] for label, _ in options})
    for repeat in range(repeats):
        folds = StratifiedKFold(5, shuffle=True, random_state=repeat).split(np.zeros(len(labels)), labels)
        for fit, held in folds:
            predicted, _ = tfidf_predictions([(texts[i], labels[i]) for i in fit], [texts[i] for i in held])
            scores["TF-IDF (char 2-5) + log. regression"].append(float(np.mean(np.array(predicted) == labels[held])))
            for label, config in options:
                with tempfile.TemporaryDirectory(prefix="wikit-cv-") as tmp:
                    classifier = LinearIntentClassifier.create(
                        {**LinearIntentClassifier.get_default_config(), **config}, LocalModelStorage(Path(tmp)),
                        Resource("cv"), ExecutionContext(GraphSchema({}), "cv"))

                    def message(index: int, with_intent: bool) -> Message:
                        data = {TEXT: texts[index], **({INTENT: labels[index]} if with_intent else {})}
                        built = Message(data=data)
                        built.set(SPACY_DOCS[TEXT], docs[index])
                        return built

                    classifier.train(TrainingData([message(i, True) for i in fit]))
                    rows = classifier.probabilities([message(i, False) for i in held])
                    guessed = np.array(classifier.classes)[rows.argmax(axis=1)]
                    scores[label].append(float(np.mean(guessed == labels[held])))
    print(f"cross-validation of the training split: {repeats} x 5 folds (test split not read)")
    print(f"{'model':36} {'top-1':>7} {'std. error':>11}")
    for label, values in scores.items():
        print(f"{label:36} {np.mean(values):7.3f} {np.std(values) / np.sqrt(len(values)):11.3f}")


def accuracy(expected: list[str], predicted: list[str]) -> float:
    """Share of right intents."""
    return sum(e == p for e, p in zip(expected, predicted, strict=True)) / max(len(expected), 1)


async def run(folder: Path, others: list[Path] | None = None, default: bool = True, cv: int = 0) -> None:
    """Train and test the baselines, Rasa's default pipeline and ours (and other configs), print the accuracies."""
    missing = [name for name in FILES if not (folder / name).is_file()]
    if missing:
        sys.exit(f"Wikit files missing in {folder} (set WIKIT_DIR): {', '.join(missing)}")
    train, test = (read_split(folder / name) for name in FILES)
    if cv:
        configs = [("Numécrivain pipeline (config.yml)", PROJECT_ROOT / "config.yml")]
        cross_validation(train, configs + [(path.name, path) for path in others or []], cv)
        return
    names = {intent: f"i{index}" for index, intent in enumerate(sorted({i for _, i in train + test}))}
    texts = [text for text, _ in test]
    expected = [names[intent] for _, intent in test]
    print(f"Wikit: {len(train)} training / {len(test)} test sentences, {len(names)} intents ({folder})")
    results: list[tuple[str, float, float | None, float]] = []
    for analyzer, label in (("char_wb", "TF-IDF (char 2-5) + log. regression"),
                            ("word", "TF-IDF (words 1-2) + log. regression")):
        predicted, seconds = tfidf_predictions([(t, names[i]) for t, i in train], texts, analyzer)
        results.append((label, accuracy(expected, predicted), None, seconds))
    with tempfile.TemporaryDirectory(prefix="wikit-") as tmp:
        work = Path(tmp)
        nlu_file = work / "nlu.yml"
        write_nlu(train, names, nlu_file)
        models = [("Rasa default pipeline", default_nlu_config(), "default")] if default else []
        models.append(("Numécrivain pipeline (config.yml)", our_nlu_config(), "ours"))
        models += [(path.name, our_nlu_config(path), f"other{index}") for index, path in enumerate(others or [])]
        for label, config, name in models:
            top1, configured, seconds = await rasa_predictions(config, nlu_file, texts, work, name)
            results.append((label, accuracy(expected, top1), accuracy(expected, configured), seconds))
    print(f"{'model':36} {'top-1':>7} {'as configured':>14} {'training':>9}")
    for label, top1_accuracy, configured_accuracy, seconds in results:
        shown = "" if configured_accuracy is None else f"{configured_accuracy:.3f}"
        print(f"{label:36} {top1_accuracy:7.3f} {shown:>14} {seconds:8.0f}s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, action="append", default=[],
                        help="also train and test this config file's pipeline (repeatable)")
    parser.add_argument("--no-default", action="store_true", help="skip Rasa's default pipeline (the slowest)")
    parser.add_argument("--cv", type=int, default=0, metavar="N",
                        help="cross-validate on the training split only (N repeats of 5 folds), test split not read")
    args = parser.parse_args()
    asyncio.run(run(Path(os.environ.get("WIKIT_DIR", "/work/wikit")), args.config, not args.no_default, args.cv))


if __name__ == "__main__":
    main()
