"""The linear intent classifier: it learns, survives a save and a load without pickle, and blends with DIET."""

from __future__ import annotations

from pathlib import Path

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.linear_classifier import LinearIntentClassifier, fold

EXAMPLES = {
    "procedure_passport": ["je veux faire un passeport", "renouveler mon passeport", "passeport perdu que faire",
                           "délai pour obtenir un passeport"],
    "procedure_apa": ["demande d'APA pour ma mère", "allocation personnalisée d'autonomie", "l'apa est suspendue",
                      "révision de l'apa de mon père"],
    "greet": ["bonjour", "salut", "bonsoir madame", "coucou"],
}


def train(tmp_path: Path, **config: float) -> tuple[LinearIntentClassifier, LocalModelStorage, Resource]:
    storage = LocalModelStorage(tmp_path)
    resource = Resource("linear")
    context = ExecutionContext(GraphSchema({}), "test")
    classifier = LinearIntentClassifier.create({**LinearIntentClassifier.get_default_config(), **config},
                                               storage, resource, context)
    messages = [Message(data={TEXT: text, INTENT: intent}) for intent, texts in EXAMPLES.items() for text in texts]
    classifier.train(TrainingData(messages))
    return classifier, storage, resource


def parse(classifier: LinearIntentClassifier, text: str, earlier: list[dict] | None = None) -> Message:
    message = Message(data={TEXT: text})
    if earlier is not None:
        message.set(INTENT_RANKING_KEY, earlier)
    classifier.process([message])
    return message


def test_fold_lowercases_and_removes_accents_and_ligatures() -> None:
    assert fold("Écrire à l'ŒUVRE, Révision") == "ecrire a l'oeuvre, revision"


def test_acronyms_read_alike_whatever_their_case(tmp_path: Path) -> None:
    classifier, _, _ = train(tmp_path)
    answers = {text: parse(classifier, text).get(INTENT)["name"] for text in ("APA suspendue", "Apa suspendue",
                                                                            "apa suspendue")}
    assert set(answers.values()) == {"procedure_apa"}


def test_a_saved_model_gives_the_same_ranking_after_loading(tmp_path: Path) -> None:
    classifier, storage, resource = train(tmp_path)
    loaded = LinearIntentClassifier.load(LinearIntentClassifier.get_default_config(), storage, resource,
                                         ExecutionContext(GraphSchema({}), "test"))
    before = parse(classifier, "mon passeport est perdu").get(INTENT_RANKING_KEY)
    after = parse(loaded, "mon passeport est perdu").get(INTENT_RANKING_KEY)
    assert [r["name"] for r in after] == [r["name"] for r in before]
    assert after[0]["name"] == "procedure_passport"
    assert after[0]["confidence"] == pytest.approx(before[0]["confidence"], abs=1e-5)
    stored = sorted(path.name for path in (tmp_path / "linear").iterdir())
    assert stored == ["arrays.npz", "meta.json"]  # no pickle: loading runs no code


def test_blending_mixes_the_earlier_ranking_by_its_weight(tmp_path: Path) -> None:
    classifier, _, _ = train(tmp_path, blend_weight=0.5)
    (tmp_path / "alone").mkdir()
    alone, _, _ = train(tmp_path / "alone")
    text = "bonjour"
    ours = {r["name"]: r["confidence"] for r in parse(alone, text).get(INTENT_RANKING_KEY)}
    earlier = [{"name": "procedure_passport", "confidence": 1.0}]
    blended = {r["name"]: r["confidence"] for r in parse(classifier, text, earlier).get(INTENT_RANKING_KEY)}
    assert blended["procedure_passport"] == pytest.approx(0.5 * ours["procedure_passport"] + 0.5, abs=1e-5)
    assert blended["greet"] == pytest.approx(0.5 * ours["greet"], abs=1e-5)
    assert sum(blended.values()) == pytest.approx(1.0, abs=1e-5)


def test_a_blend_weight_outside_zero_to_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="blend_weight"):
        train(tmp_path, blend_weight=1.5)
