"""The Rasa speed-ups change how fast a turn runs, never what it computes."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
import yaml
from aiohttp import web
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_speedups
from bot.paths import PROJECT_ROOT


@pytest.fixture
def restore_rasa(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Whatever a speed-up replaces is put back after the test."""
    monkeypatch.setattr(RemoteAction, "_validate_action_result", RemoteAction._validate_action_result)
    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    monkeypatch.setattr(SpacyNLP, "load_model", SpacyNLP.__dict__["load_model"])
    yield


def test_thread_limits_are_defaults_that_the_environment_overrides() -> None:
    environ = {"TF_INTRA_OP_PARALLELISM_THREADS": "2"}
    rasa_speedups.limit_threads(environ)
    assert environ["TF_INTRA_OP_PARALLELISM_THREADS"] == "2"
    assert environ["TF_INTER_OP_PARALLELISM_THREADS"] == environ["OMP_NUM_THREADS"] == "1"


def test_speedups_can_be_turned_off_to_measure_without_them() -> None:
    assert rasa_speedups.enabled({}) and not rasa_speedups.enabled({"NUMECRIVAIN_RASA_SPEEDUPS": "0"})


def test_action_answers_are_still_checked_against_rasas_schema(restore_rasa: None) -> None:
    rasa_speedups.validate_action_responses_with_cached_schema()
    action = RemoteAction("action_answer_procedure", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "commune", "value": "Lille"}],
                                            "responses": [{"text": "Bonjour"}]})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "pas une liste"})


async def test_calls_to_the_action_server_reuse_one_connection(restore_rasa: None) -> None:
    peers: list[object] = []

    async def webhook(request: web.Request) -> web.Response:
        peers.append(request.transport.get_extra_info("peername") if request.transport else None)
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.add_routes([web.post("/webhook", webhook)])
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]  # the port the system chose
    try:
        rasa_speedups.keep_endpoint_sessions_alive()
        endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook", headers={"Authorization": "Bearer x"})
        for _ in range(3):
            assert await endpoint.request(json={"next_action": "x"}, method="post") == {"events": [], "responses": []}
        assert len(peers) == 3 and len(set(peers)) == 1, peers
    finally:
        await runner.cleanup()
        await asyncio.sleep(0)


def _heldout_texts(limit: int) -> list[str]:
    data = yaml.safe_load((PROJECT_ROOT / "tests/nlu/heldout.yml").read_text())
    texts = [line.strip()[2:] for item in data["nlu"] for line in str(item.get("examples", "")).splitlines()
             if line.strip().startswith("- ")]
    return texts[:limit]


def test_spacy_is_loaded_once_and_gives_the_features_rasa_reads_unchanged(restore_rasa: None) -> None:
    import numpy as np
    import spacy

    reference = spacy.load("fr_core_news_md", disable=["parser"])  # what Rasa 3.6 loads
    rasa_speedups.load_spacy_once_without_unused_pipes()
    loaded = SpacyNLP.load_model("fr_core_news_md")
    assert SpacyNLP.load_model("fr_core_news_md") is loaded
    slim = loaded.model
    assert not {"parser", "ner"} & set(slim.component_names)
    for text in _heldout_texts(40):
        for variant in (text, text.lower()):
            full, light = reference(variant), slim(variant)
            def features(doc: spacy.tokens.Doc) -> list[tuple[str, int, str, str]]:
                return [(token.text, token.idx, token.lemma_, token.tag_) for token in doc]

            assert features(full) == features(light)
            assert np.array_equal(np.asarray(full.vector), np.asarray(light.vector))  # thinc's Floats1d: an ndarray
            assert all(np.array_equal(np.asarray(a.vector), np.asarray(b.vector))
                       for a, b in zip(full, light, strict=True))
