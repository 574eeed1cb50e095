"""Keep only the first tokens of a message for the featurizers and DIET: bounded work whatever was typed.

DIET's attention grows with the square of the number of tokens, and a message of brackets makes one token per
character. Placed right after the tokenizer, this cuts the token list (and the spaCy document the spaCy
featurizer reads, so every featurizer sees the same tokens). The channels already refuse long messages; this is
the second line. Real questions are far shorter than the cap, so answers do not change.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS, TOKENS_NAMES
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 128


def _cut_spacy_doc(doc: Any, max_tokens: int) -> Any:
    """The document up to its `max_tokens`-th token that is not blank (the tokens spaCy's featurizer keeps)."""
    kept = 0
    for index, token in enumerate(doc):
        if token.text and token.text.strip():
            kept += 1
            if kept == max_tokens:
                return doc[: index + 1].as_doc() if index + 1 < len(doc) else doc
    return doc


def cap_message(message: Message, max_tokens: int) -> bool:
    """Cut the message's text tokens (and spaCy document) to `max_tokens`; True when something was cut."""
    tokens = message.get(TOKENS_NAMES[TEXT])
    if not tokens or len(tokens) <= max_tokens:
        return False
    message.set(TOKENS_NAMES[TEXT], tokens[:max_tokens])
    doc = message.get(SPACY_DOCS[TEXT])
    if doc is not None:
        message.set(SPACY_DOCS[TEXT], _cut_spacy_doc(doc, max_tokens))
    return True


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TokenCap(GraphComponent):
    """Pipeline component `bot.nlu.token_cap.TokenCap` (option `max_tokens`), right after the tokenizer."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_tokens": DEFAULT_MAX_TOKENS}

    def __init__(self, config: dict[str, Any]) -> None:
        self.max_tokens = int(config.get("max_tokens") or DEFAULT_MAX_TOKENS)
        if self.max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")

    @classmethod
    def create(
        cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
        execution_context: ExecutionContext,
    ) -> TokenCap:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        """Cut the messages to parse."""
        for message in messages:
            if cap_message(message, self.max_tokens):
                logger.info("Message cut to %d tokens before featurization.", self.max_tokens)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Cut training examples the same way, so training and prediction see alike inputs."""
        for example in training_data.training_examples:
            cap_message(example, self.max_tokens)
        return training_data
