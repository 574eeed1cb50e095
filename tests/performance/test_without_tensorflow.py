"""Rasa runs without TensorFlow when no component of the model needs it, and still answers the same way."""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest
import requests

from bench.load.run import children_by_service
from bot import rasa_speedups
from bot.paths import MODELS_DIR, PROJECT_ROOT
from tests.stack import Stack

MODEL = MODELS_DIR / "numecrivain.tar.gz"


def test_the_trained_model_needs_no_tensorflow() -> None:
    components = rasa_speedups.model_components(MODEL)
    assert "bot.nlu.linear_classifier.LinearIntentClassifier" in components
    assert not rasa_speedups.model_needs_tensorflow(components)


def test_a_tensorflow_component_or_an_unknown_one_keeps_tensorflow() -> None:
    ours = {"rasa.nlu.utils.spacy_utils.SpacyNLP", "bot.nlu.token_cap.TokenCap"}
    assert rasa_speedups.model_needs_tensorflow(ours | {"rasa.core.policies.ted_policy.TEDPolicy"})
    assert rasa_speedups.model_needs_tensorflow(ours | {"rasa.nlu.classifiers.diet_classifier.DIETClassifier"})
    assert rasa_speedups.model_needs_tensorflow(ours | {"acme.components.NeuralThing"})


def test_tensorflow_is_kept_when_asked_or_when_the_model_cannot_be_read(tmp_path: Path) -> None:
    broken = tmp_path / "model.tar.gz"
    with tarfile.open(broken, "w:gz"):
        pass
    assert not rasa_speedups.skip_tensorflow(MODEL, {"NUMECRIVAIN_SKIP_TENSORFLOW": "0"})
    assert not rasa_speedups.skip_tensorflow(None, {})
    assert not rasa_speedups.skip_tensorflow(broken, {})


def test_the_model_is_found_among_rasa_run_options(tmp_path: Path) -> None:
    assert rasa_speedups.model_option(["--port", "5005", "--model", str(MODEL)]) == MODEL
    assert rasa_speedups.model_option([f"--model={MODEL}"]) == MODEL
    assert rasa_speedups.model_option(["--model", str(tmp_path)]) is None  # a folder: Rasa picks, TF is kept
    assert rasa_speedups.model_option([]) is None


PROBE = """
import json, sys
from bot import rasa_speedups
rasa_speedups.install(["--model", sys.argv[1]])
import rasa.__main__, rasa.core.agent, rasa.engine.recipes.default_components, rasa.core.run  # what `rasa run` loads
import spacy, thinc.compat
tf = sys.modules.get("tensorflow")
try:  # a model that needs TensorFlow, swapped in later (PUT /model), is refused
    rasa.core.agent.Agent().load_model(sys.argv[2])
    refused = False
except rasa_speedups.TensorFlowNotLoadedError:
    refused = True
print(json.dumps({"inert": type(tf).__name__ == "_InertModule",
                  "thinc_sees_tensorflow": thinc.compat.has_tensorflow, "diet_model_refused": refused}))
"""


def _model_with(tmp_path: Path, component: str) -> Path:
    """A model archive whose metadata names one component (all a server reads before loading it)."""
    metadata = tmp_path / "metadata.json"
    metadata.write_text(json.dumps({"predict_schema": {"nodes": {"run": {"uses": component}}}}))
    model = tmp_path / "other.tar.gz"
    with tarfile.open(model, "w:gz") as archive:
        archive.add(metadata, arcname="metadata.json")
    return model


def test_everything_rasa_run_imports_loads_without_tensorflow(tmp_path: Path) -> None:
    diet = _model_with(tmp_path, "rasa.nlu.classifiers.diet_classifier.DIETClassifier")
    result = subprocess.run([sys.executable, "-c", PROBE, str(MODEL), str(diet)], cwd=PROJECT_ROOT,
                            capture_output=True,
                            text=True, timeout=120, env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin",
                                                        "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "inert": True, "thinc_sees_tensorflow": False, "diet_model_refused": True}


@pytest.mark.stack
def test_the_rasa_server_maps_no_tensorflow_library_and_answers(stack: Stack) -> None:
    rasa = children_by_service(stack.pid)["rasa"]
    maps = Path(f"/proc/{rasa}/maps").read_text()
    assert "site-packages/tensorflow" not in maps
    reply = requests.post(f"{stack.rasa_url}/webhooks/rest/webhook",
                          json={"sender": "no-tensorflow", "message": "bonjour"}, timeout=60)
    assert reply.ok and reply.json() and reply.json()[0].get("text")
