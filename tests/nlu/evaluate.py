"""Shared code of the NLU evaluation: reading labelled sets, near-copy detection, scores and reports.

Two labelled sets are scored: the validation set (tests/nlu/heldout.yml, used to choose features,
architecture and thresholds) and the frozen test set (tests/nlu/test_set.yml, never used to tune anything).

`python -m tests.nlu.evaluate table results/test` turns Rasa's intent_report.json (written by
`rasa test nlu --out results/test`) into a Markdown table next to it; `make eval` calls it.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rapidfuzz import fuzz, process
from sklearn.metrics import precision_recall_fscore_support

from bot.paths import PROJECT_ROOT

VALIDATION_SET = PROJECT_ROOT / "tests" / "nlu" / "heldout.yml"
TEST_SET = PROJECT_ROOT / "tests" / "nlu" / "test_set.yml"
TRAINING_DIR = PROJECT_ROOT / "data" / "nlu"
RESULTS_DIR = PROJECT_ROOT / "results"
FALLBACK_INTENT = "nlu_fallback"
# rapidfuzz score (0-100) from which two normalised sentences count as the same example.
NEAR_COPY_SCORE = 90.0

_MARKUP = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})


@dataclass(frozen=True)
class Example:
    """One labelled message; register says how it was written (test set only)."""

    text: str
    intent: str
    register: str = ""
    source: str = ""


def strip_markup(text: str) -> str:
    """The message as a user typed it: entity annotations [Lille](commune) become Lille."""
    return _MARKUP.sub(r"\1", text)


def _block_texts(examples: Any) -> Iterable[str]:
    """Example texts of one intent block, in either of Rasa's two YAML shapes."""
    if isinstance(examples, str):
        for line in examples.splitlines():
            line = line.strip()
            if line.startswith("- "):
                yield line[2:].strip()
    elif isinstance(examples, list):
        for item in examples:
            if isinstance(item, dict) and item.get("text"):
                yield str(item["text"]).strip()


def load_examples(path: Path) -> list[Example]:
    """Intent examples of a Rasa NLU YAML file (lookup tables, synonyms and regexes left out)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    found = []
    for block in data.get("nlu") or []:
        if not isinstance(block, dict) or "intent" not in block:
            continue
        register = str((block.get("metadata") or {}).get("register", ""))
        for text in _block_texts(block.get("examples")):
            cleaned = strip_markup(text)
            if cleaned:
                found.append(Example(cleaned, str(block["intent"]), register, path.name))
    return found


def training_examples(directory: Path = TRAINING_DIR) -> list[Example]:
    """Every intent example the model is trained on (all YAML files under data/nlu)."""
    found = []
    for path in sorted(directory.rglob("*.yml")) + sorted(directory.rglob("*.yaml")):
        found.extend(load_examples(path))
    return found


def normalise(text: str) -> str:
    """Lower case, accents folded, punctuation removed, spaces collapsed: "Hlm, demande !" -> "hlm demande"."""
    folded = unicodedata.normalize("NFKD", text.lower().translate(_LIGATURES))
    folded = "".join(char for char in folded if not unicodedata.combining(char))
    return _NOT_WORD.sub(" ", folded).strip()


@dataclass(frozen=True)
class NearCopy:
    """A sentence that is (almost) a sentence of the reference set."""

    text: str
    reference: str
    score: float
    scorer: str


def near_copies(texts: Sequence[str], references: Sequence[str], threshold: float = NEAR_COPY_SCORE) -> list[NearCopy]:
    """Texts whose normalised form scores >= threshold against a reference (character ratio or word order)."""
    if not texts or not references:
        return []
    queries = [normalise(t) for t in texts]
    choices = [normalise(r) for r in references]
    best: dict[int, NearCopy] = {}
    for name, scorer in (("ratio", fuzz.ratio), ("token_sort_ratio", fuzz.token_sort_ratio)):
        matrix = process.cdist(queries, choices, scorer=scorer, score_cutoff=threshold, workers=1)
        for row, columns in enumerate(matrix):
            column = int(columns.argmax())
            score = float(columns[column])
            if score >= threshold and (row not in best or score > best[row].score):
                best[row] = NearCopy(texts[row], references[column], score, name)
    return [best[row] for row in sorted(best)]


@dataclass(frozen=True)
class IntentScore:
    """Precision, recall and F1 of one intent on one set."""

    intent: str
    support: int
    precision: float
    recall: float
    f1: float


@dataclass(frozen=True)
class SetScores:
    """What the model gets on one labelled set, with the fallback as configured."""

    name: str
    examples: int
    accuracy: float
    macro_f1: float
    intents: list[IntentScore]
    by_register: dict[str, float]
    errors: list[dict[str, str]]

    def weakest(self, count: int = 8) -> list[IntentScore]:
        """The intents with the lowest recall, then lowest F1."""
        return sorted(self.intents, key=lambda s: (s.recall, s.f1, s.intent))[:count]


def score_set(name: str, examples: Sequence[Example], predicted: Sequence[str]) -> SetScores:
    """Accuracy, macro-F1 over the intents of the set (a fallback counts as a miss) and per-intent figures."""
    expected = [e.intent for e in examples]
    labels = sorted(set(expected))
    precision, recall, f1, support = precision_recall_fscore_support(
        expected, list(predicted), labels=labels, zero_division=0)
    intents = [IntentScore(label, int(s), float(p), float(r), float(f))
               for label, p, r, f, s in zip(labels, precision, recall, f1, support, strict=True)]
    hits = [e == p for e, p in zip(expected, predicted, strict=True)]
    totals: Counter[str] = Counter(e.register for e in examples)
    correct: defaultdict[str, int] = defaultdict(int)
    for example, hit in zip(examples, hits, strict=True):
        correct[example.register] += hit
    return SetScores(
        name=name,
        examples=len(examples),
        accuracy=sum(hits) / len(hits) if hits else 0.0,
        macro_f1=sum(s.f1 for s in intents) / len(intents) if intents else 0.0,
        intents=intents,
        by_register={register or "-": correct[register] / total for register, total in sorted(totals.items())},
        errors=[{"text": e.text, "expected": e.intent, "predicted": p, "register": e.register}
                for e, p, hit in zip(examples, predicted, hits, strict=True) if not hit],
    )


def intent_table(rows: Iterable[tuple[str, int, float, float, float]]) -> str:
    """A Markdown table: intent, support, precision, recall, F1 (weakest recall first)."""
    lines = ["| intent | support | precision | recall | F1 |", "| --- | ---: | ---: | ---: | ---: |"]
    for intent, support, precision, recall, f1 in sorted(rows, key=lambda r: (r[3], r[4], r[0])):
        lines.append(f"| {intent} | {support} | {precision:.2f} | {recall:.2f} | {f1:.2f} |")
    return "\n".join(lines) + "\n"


def write_results(scores: SetScores, extra: dict[str, Any] | None = None, out: Path = RESULTS_DIR) -> Path:
    """results/<name>-summary.json (figures and errors) and results/<name>-intents.md (per-intent table)."""
    out.mkdir(parents=True, exist_ok=True)
    summary = {
        "set": scores.name,
        "examples": scores.examples,
        "accuracy": round(scores.accuracy, 4),
        "macro_f1": round(scores.macro_f1, 4),
        "accuracy_by_register": {k: round(v, 4) for k, v in scores.by_register.items()},
        "weakest": [{"intent": s.intent, "recall": round(s.recall, 3), "f1": round(s.f1, 3)}
                    for s in scores.weakest()],
        "intents": [{"intent": s.intent, "support": s.support, "precision": round(s.precision, 3),
                     "recall": round(s.recall, 3), "f1": round(s.f1, 3)} for s in scores.intents],
        "errors": scores.errors,
        **(extra or {}),
    }
    path = out / f"{scores.name}-summary.json"
    path.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    header = (f"# {scores.name}: {scores.examples} messages, accuracy {scores.accuracy:.3f}, "
              f"macro-F1 {scores.macro_f1:.3f} (fallback as configured)\n\n")
    table = intent_table((s.intent, s.support, s.precision, s.recall, s.f1) for s in scores.intents)
    (out / f"{scores.name}-intents.md").write_text(header + table, encoding="utf-8")
    return path


def rasa_report_table(report_dir: Path) -> Path:
    """intent_report.json of `rasa test nlu` -> intent_report.md in the same folder."""
    report = json.loads((report_dir / "intent_report.json").read_text(encoding="utf-8"))
    rows = [(intent, int(v["support"]), float(v["precision"]), float(v["recall"]), float(v["f1-score"]))
            for intent, v in report.items() if isinstance(v, dict) and "support" in v
            and intent not in {"micro avg", "macro avg", "weighted avg"}]
    accuracy = report.get("accuracy")
    macro = report.get("macro avg", {}).get("f1-score")
    header = f"# {report_dir.name} (Rasa's report, classifier before the fallback)\n\n"
    if accuracy is not None and macro is not None:
        header += f"accuracy {float(accuracy):.3f}, macro-F1 {float(macro):.3f}\n\n"
    path = report_dir / "intent_report.md"
    path.write_text(header + intent_table(rows), encoding="utf-8")
    return path


def main(argv: Sequence[str]) -> int:
    """Command line: `table DIR...` writes DIR/intent_report.md from DIR/intent_report.json."""
    if len(argv) < 2 or argv[0] != "table":
        print("usage: python -m tests.nlu.evaluate table results/validation [results/test ...]", file=sys.stderr)
        return 2
    written = 0
    for folder in map(Path, argv[1:]):
        if not (folder / "intent_report.json").exists():
            print(f"{folder}: no intent_report.json, skipped", file=sys.stderr)
            continue
        print(rasa_report_table(folder))
        written += 1
    return 0 if written else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
