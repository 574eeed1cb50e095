"""Read only the first tokens of a message: bounded NLU work whatever was typed.

spaCy's parser and DIET's attention grow faster than the length of a message, and a message of brackets makes
one token per character: 30,000 brackets took minutes of spaCy and 24 GB in DIET. Placed first in the pipeline,
this cuts the text after `max_tokens` tokens, counted so as never to undercount spaCy's tokenizer (each run of
letters or digits is one token, each other visible character one more). spaCy, the featurizers and DIET then
see at most about `max_tokens` tokens. The channels already refuse messages over 1,000 characters; this is the
second line. Real questions are far shorter than the cap, so answers do not change; the conversation keeps the
whole text (only what NLU reads is cut).
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

DEFAULT_MAX_TOKENS = 128


def cut_to_tokens(text: str, max_tokens: int) -> str:
    """The text up to its `max_tokens`-th token (runs of letters or digits, and single other visible characters)."""
    count, in_word = 0, False
    for index, char in enumerate(text):
        if char.isalnum():
            if not in_word:
                count, in_word = count + 1, True
        else:
            in_word = False
            if not char.isspace():
                count += 1
        if count > max_tokens:
            return text[:index]
    return text


def cap_message(message: Message, max_tokens: int) -> bool:
    """Cut the text NLU reads; True when something was cut."""
    text = message.get(TEXT)
    if not isinstance(text, str):
        return False
    cut = cut_to_tokens(text, max_tokens)
    if len(cut) == len(text):
        return False
    message.set(TEXT, cut)
    return True


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=False)
class TokenCap(GraphComponent):
    """Pipeline component `bot.nlu.token_cap.TokenCap` (option `max_tokens`), first in the pipeline."""

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
                logger.info("Message cut to %d tokens before NLU.", self.max_tokens)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Cut training examples the same way, so training and prediction see alike inputs."""
        for example in training_data.training_examples:
            cap_message(example, self.max_tokens)
        return training_data
