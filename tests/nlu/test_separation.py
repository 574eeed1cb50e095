"""The evaluation sets measure understanding, not memory: no near-copy of a training example in them."""

from __future__ import annotations

from collections import Counter

import pytest
import yaml

from bot.paths import PROJECT_ROOT
from tests.nlu.evaluate import (
    NEAR_COPY_SCORE,
    TEST_SET,
    VALIDATION_SET,
    Example,
    load_examples,
    near_copies,
    normalise,
    training_examples,
)


@pytest.fixture(scope="module")
def training() -> list[Example]:
    examples = training_examples()
    assert len(examples) >= 1000, "the training data was not found"
    return examples


def _report(found: list) -> str:
    return "\n".join(f"{c.score:.0f} ({c.scorer}): {c.text!r} ~ {c.reference!r}" for c in found)


def test_normalise_folds_case_accents_punctuation_and_spaces() -> None:
    assert normalise("  Carte d'IDENTITÉ  perdue !? ") == "carte d identite perdue"
    assert normalise("Marcq-en-Barœul") == "marcq en baroeul"


def test_near_copy_detector_sees_reordered_words_and_small_edits() -> None:
    training_texts = ["demande hlm", "J'ai perdu ma carte d'identité", "quel temps fait-il"]
    found = near_copies(["HLM demande", "jai perdu ma carte d identite !", "comment voter par procuration"],
                        training_texts)
    assert [(c.text, c.reference) for c in found] == [
        ("HLM demande", "demande hlm"),
        ("jai perdu ma carte d identite !", "J'ai perdu ma carte d'identité"),
    ]
    assert found[0].scorer == "token_sort_ratio"


def test_test_set_has_no_near_copy_of_a_training_example(training: list[Example]) -> None:
    found = near_copies([e.text for e in load_examples(TEST_SET)], [e.text for e in training])
    assert not found, f"{len(found)} test sentences score >= {NEAR_COPY_SCORE} against training:\n{_report(found)}"


def test_validation_set_has_no_near_copy_of_a_training_example(training: list[Example]) -> None:
    found = near_copies([e.text for e in load_examples(VALIDATION_SET)], [e.text for e in training])
    assert not found, (f"{len(found)} validation sentences score >= {NEAR_COPY_SCORE} against training "
                       f"(a training example copied from the validation set?):\n{_report(found)}")


def test_test_set_has_no_near_copy_of_a_validation_example() -> None:
    found = near_copies([e.text for e in load_examples(TEST_SET)], [e.text for e in load_examples(VALIDATION_SET)])
    assert not found, f"{len(found)} test sentences are in the validation set:\n{_report(found)}"


def test_test_set_is_large_covers_every_intent_and_has_no_duplicate() -> None:
    examples = load_examples(TEST_SET)
    domain_intents = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))["intents"]
    per_intent = Counter(e.intent for e in examples)
    assert len(examples) >= 400
    assert set(per_intent) == set(domain_intents)
    assert {intent: n for intent, n in per_intent.items() if n < 6} == {}
    assert all(e.register for e in examples), "every block of the test set names its register"
    duplicates = [t for t, n in Counter(normalise(e.text) for e in examples).items() if n > 1]
    assert duplicates == []
