"""NLU reads at most about `max_tokens` tokens: spaCy, the featurizers and DIET get a bounded message."""

from __future__ import annotations

from typing import Any

import pytest
from rasa.engine.graph import ExecutionContext
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import SPACY_DOCS, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.spacy_featurizer import SpacyFeaturizer
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.nlu.token_cap import DEFAULT_MAX_TOKENS, TokenCap

MAX_TOKENS = 16


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """spaCy, its tokenizer, the cap and two featurizers, as config.yml chains them."""
    storage = LocalModelStorage(tmp_path_factory.mktemp("model"))
    context = ExecutionContext(graph_schema=None, model_id="token-cap")  # type: ignore[arg-type]

    def build(cls: Any, name: str, config: dict[str, Any] | None = None) -> Any:
        return cls.create({**cls.get_default_config(), **(config or {})}, storage, Resource(name), context)

    nlp = build(SpacyNLP, "nlp", {"model": "fr_core_news_md"})
    components = {
        "nlp": nlp, "model": nlp.provide(), "tokenizer": build(SpacyTokenizer, "tokenizer"),
        "cap": build(TokenCap, "cap", {"max_tokens": MAX_TOKENS}),
        "spacy_features": build(SpacyFeaturizer, "spacy_features"), "counts": build(CountVectorsFeaturizer, "counts"),
    }
    training = TrainingData([Message({TEXT: "j'ai perdu ma carte d'identité", "intent": "x"}),
                             Message({TEXT: "un conseiller svp [ ] ( )", "intent": "y"})])
    components["nlp"].process_training_data(training, components["model"])
    components["tokenizer"].process_training_data(training)
    components["counts"].train(training)
    return components


def parse(pipeline: dict[str, Any], text: str) -> Message:
    message = Message({TEXT: text})
    pipeline["cap"].process([message])
    pipeline["nlp"].process([message], pipeline["model"])
    pipeline["tokenizer"].process([message])
    pipeline["spacy_features"].process([message])
    pipeline["counts"].process([message])
    return message


@pytest.mark.parametrize("text", ["[" * 600 + "](" * 200, "1 " * 500, "je voudrais une carte grise " * 20],
                         ids=["brackets", "digits", "words"])
def test_long_message_reaches_spacy_and_the_featurizers_cut(pipeline: dict[str, Any], text: str) -> None:
    message = parse(pipeline, text)
    tokens = len(message.get(TOKENS_NAMES[TEXT]))
    assert MAX_TOKENS // 2 <= tokens <= MAX_TOKENS
    assert len(message.get(SPACY_DOCS[TEXT])) <= MAX_TOKENS
    dense, _ = message.get_dense_features(TEXT)
    sparse, _ = message.get_sparse_features(TEXT)
    assert dense is not None and sparse is not None
    assert dense.features.shape[0] == sparse.features.shape[0] == tokens


@pytest.mark.parametrize(
    "text", ["aujourd'hui j'ai 3km à faire, ok ?! " * 20, "l'école—c'est loin… [voir](https://x.fr) " * 20,
             "🙂 " * 300, "a-b-c/d_e " * 100],
    ids=["apostrophes", "punctuation_and_links", "emoji", "joined_words"])
def test_cap_never_undercounts_spacy_tokens(pipeline: dict[str, Any], text: str) -> None:
    assert len(parse(pipeline, text).get(TOKENS_NAMES[TEXT])) <= MAX_TOKENS


def test_short_message_is_left_whole(pipeline: dict[str, Any]) -> None:
    message = parse(pipeline, "j'ai perdu ma carte d'identité")
    tokens = [token.text for token in message.get(TOKENS_NAMES[TEXT])]
    assert tokens == ["j'", "ai", "perdu", "ma", "carte", "d'", "identité"]
    assert len(tokens) < MAX_TOKENS <= DEFAULT_MAX_TOKENS


def test_cap_must_keep_at_least_one_token() -> None:
    with pytest.raises(ValueError):
        TokenCap({"max_tokens": -1})
