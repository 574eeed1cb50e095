"""At most `max_tokens` tokens reach the featurizers and DIET, and every featurizer sees the same ones."""

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
    pipeline["nlp"].process([message], pipeline["model"])
    pipeline["tokenizer"].process([message])
    pipeline["cap"].process([message])
    pipeline["spacy_features"].process([message])
    pipeline["counts"].process([message])
    return message


@pytest.mark.parametrize("text", ["[" * 600 + "](" * 200, "1 " * 500, "je voudrais une carte grise " * 20],
                         ids=["brackets", "digits", "words"])
def test_long_message_reaches_the_featurizers_cut_to_the_same_tokens(pipeline: dict[str, Any], text: str) -> None:
    message = parse(pipeline, text)
    assert len(message.get(TOKENS_NAMES[TEXT])) == MAX_TOKENS
    dense, _ = message.get_dense_features(TEXT)
    sparse, _ = message.get_sparse_features(TEXT)
    assert dense is not None and sparse is not None
    assert dense.features.shape[0] == sparse.features.shape[0] == MAX_TOKENS
    assert len([t for t in message.get(SPACY_DOCS[TEXT]) if t.text.strip()]) == MAX_TOKENS


def test_short_message_is_left_whole(pipeline: dict[str, Any]) -> None:
    message = parse(pipeline, "j'ai perdu ma carte d'identité")
    tokens = [token.text for token in message.get(TOKENS_NAMES[TEXT])]
    assert tokens == ["j'", "ai", "perdu", "ma", "carte", "d'", "identité"]
    assert len(tokens) < MAX_TOKENS <= DEFAULT_MAX_TOKENS


def test_cap_must_keep_at_least_one_token() -> None:
    with pytest.raises(ValueError):
        TokenCap({"max_tokens": -1})
