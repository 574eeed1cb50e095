"""Intent classifier for small, varied training sets: logistic regression on TF-IDF and word-vector features.

With about 15 to 40 examples per intent, a linear model on well-chosen features generalises as well as DIET
and trains in seconds (docs/nlu.md, "Linear classifier"). The features of one message:
- character n-grams (2-5 within words) of the text lowercased and with accents folded: typos, missing
  accents and capitalised acronyms ("Apa", "CNI", "cni") read alike;
- the lemmas of its content words (spaCy stop words and punctuation left out, accents folded): long
  formal questions and long stories weigh by what they are about, not by "est-ce que je peux";
- the mean spaCy vector of its content words: synonyms the training data never used;
- optionally (`sentence_encoder`), the vector of the whole message by a pretrained sentence encoder shipped in
  a package (bot/nlu/sentence_encoders.py), weighted by `encoder_weight`: paraphrases that share no word.
Each block is TF-IDF weighted (sublinear counts) and L2-normalised, then a multinomial logistic regression
(lbfgs, deterministic) gives a probability per intent. When a classifier earlier in the pipeline (DIET)
already ranked the intents, `blend_weight` mixes the two: weight x ours + (1 - weight) x theirs.
The model is stored as JSON and NumPy arrays (no pickle): loading a model runs no code from it.
"""

from __future__ import annotations

import json
import logging
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import normalize

from bot.nlu.sentence_encoders import SentenceEncoder, load_encoder
from bot.text import fold

logger = logging.getLogger(__name__)

_WORD_PATTERN = r"(?u)\b\w+\b"
_ARRAYS = "arrays.npz"
_META = "meta.json"


def content_words(message: Message) -> tuple[str, np.ndarray | None]:
    """Folded lemmas of the content words, and their mean spaCy vector (None without a spaCy doc)."""
    doc = message.get(SPACY_DOCS[TEXT])
    if doc is None:  # no SpacyNLP before this component: plain words, no vectors
        return fold(message.get(TEXT) or ""), None
    kept = [token for token in doc if not (token.is_stop or token.is_punct or token.is_space)]
    lemmas = " ".join(fold(token.lemma_ or token.text) for token in kept)
    tokens = kept or list(doc)
    if not tokens or not doc.has_vector:
        return lemmas, np.zeros(doc.vocab.vectors_length or 1, dtype=np.float32)
    return lemmas, np.mean([token.vector for token in tokens], axis=0)


def _char_vectorizer(min_ngram: int, max_ngram: int) -> TfidfVectorizer:
    return TfidfVectorizer(analyzer="char_wb", ngram_range=(min_ngram, max_ngram), sublinear_tf=True,
                           lowercase=False, dtype=np.float32)


def _word_vectorizer() -> TfidfVectorizer:
    return TfidfVectorizer(token_pattern=_WORD_PATTERN, sublinear_tf=True, lowercase=False, dtype=np.float32)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class LinearIntentClassifier(GraphComponent, IntentClassifier):
    """Pipeline component `bot.nlu.linear_classifier.LinearIntentClassifier`, after SpacyNLP (and DIET if blended)."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            "C": 100.0,  # inverse regularisation of the logistic regression
            "min_ngram": 2,
            "max_ngram": 5,
            "vector_weight": 1.0,  # weight of the word-vector block against the two TF-IDF blocks
            "blend_weight": 1.0,  # 1: this classifier alone; below 1: mixed with the earlier ranking
            "ranking_length": 10,
            "max_iter": 3000,
            # A message with no known word (no stop word, no lemma seen in training, no commune or postcode
            # found) is gibberish or another language: its confidences are scaled down so the fallback asks.
            "unknown_words_scale": 0.5,
            # None, or the name of a packaged sentence encoder (bot/nlu/sentence_encoders.py: "e5", "use")
            # whose normalised vector of the message is added to the features, times `encoder_weight`.
            "sentence_encoder": None,
            "encoder_weight": 2.0,
        }

    def __init__(self, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
                 chars: TfidfVectorizer | None = None, words: TfidfVectorizer | None = None,
                 coef: np.ndarray | None = None, intercept: np.ndarray | None = None,
                 classes: list[str] | None = None, encoder: SentenceEncoder | None = None) -> None:
        self.config = {**self.get_default_config(), **config}
        if not 0.0 <= float(self.config["blend_weight"]) <= 1.0:
            raise ValueError("blend_weight must be between 0 and 1")
        self._model_storage = model_storage
        self._resource = resource
        self.chars, self.words = chars, words
        self.coef, self.intercept = coef, intercept
        self.classes = classes or []
        self.encoder = encoder  # set by train() or load() when the model uses a sentence encoder

    @classmethod
    def create(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> LinearIntentClassifier:
        return cls(config, model_storage, resource)

    def _features(self, messages: list[Message], fit: bool = False) -> sparse.csr_matrix:
        """The three normalised blocks side by side (the vectorizers are fitted when `fit`)."""
        texts = [fold(message.get(TEXT) or "") for message in messages]
        pairs = [content_words(message) for message in messages]
        lemmas, vectors = [pair[0] for pair in pairs], [pair[1] for pair in pairs]
        if fit:
            self.chars = _char_vectorizer(int(self.config["min_ngram"]), int(self.config["max_ngram"]))
            self.words = _word_vectorizer()
            blocks = [self.chars.fit_transform(texts)]
            try:
                blocks.append(self.words.fit_transform(lemmas))
            except ValueError:  # no content word at all in the training data
                self.words = None
        elif self.chars is None:
            raise RuntimeError("LinearIntentClassifier: not trained")
        else:
            blocks = [self.chars.transform(texts)]
        if self.words is not None and len(blocks) == 1:
            blocks.append(self.words.transform(lemmas))
        encoded = None
        if self.encoder is not None:  # the whole message as typed (after TokenCap), case and accents kept
            encoded = float(self.config["encoder_weight"]) * self.encoder.encode(
                [message.get(TEXT) or "" for message in messages])
        width = 0 if fit or self.coef is None else self.coef.shape[1] - sum(block.shape[1] for block in blocks)
        width -= 0 if encoded is None or fit or self.coef is None else encoded.shape[1]
        if width > 0 or any(vector is not None for vector in vectors):
            # an empty message has no spaCy doc: its vector block is zeros of the trained width
            width = width or max(len(vector) for vector in vectors if vector is not None)
            dense = np.array([vector if vector is not None and len(vector) == width else np.zeros(width)
                              for vector in vectors], dtype=np.float32)
            blocks.append(sparse.csr_matrix(float(self.config["vector_weight"]) * normalize(dense)))
        if encoded is not None:
            blocks.append(sparse.csr_matrix(encoded))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def train(self, training_data: TrainingData) -> Resource:
        """Fit the vectorizers and the logistic regression on the intent examples."""
        examples = [example for example in training_data.intent_examples if example.get(INTENT)]
        self.classes = sorted({str(example.get(INTENT)) for example in examples})
        if len(self.classes) < 2:
            logger.warning("LinearIntentClassifier needs two intents or more; it will not classify.")
            self.classes = []
        else:
            name = self.config["sentence_encoder"]
            # loaded here, so that a missing package stops the training with its message, not a later parse
            self.encoder = load_encoder(str(name)) if name else None
            features = self._features(examples, fit=True)
            model = LogisticRegression(C=float(self.config["C"]), max_iter=int(self.config["max_iter"]))
            model.fit(features, [str(example.get(INTENT)) for example in examples])
            self.classes = [str(name) for name in model.classes_]
            self.coef, self.intercept = model.coef_.astype(np.float32), model.intercept_.astype(np.float32)
        self.persist()
        return self._resource

    def probabilities(self, messages: list[Message]) -> np.ndarray:
        """One row of intent probabilities per message (columns: self.classes)."""
        if self.coef is None or self.intercept is None:
            raise RuntimeError("LinearIntentClassifier: not trained")
        scores = self._features(messages) @ self.coef.T + self.intercept
        scores = np.asarray(scores, dtype=np.float64)
        scores -= scores.max(axis=1, keepdims=True)
        exps = np.exp(scores)
        return exps / exps.sum(axis=1, keepdims=True)

    def process(self, messages: list[Message]) -> list[Message]:
        """Set the intent and the ranking (blended with the earlier classifier's ranking when configured)."""
        if not self.classes or self.chars is None or not messages:
            return messages
        weight = float(self.config["blend_weight"])
        for message, row in zip(messages, self.probabilities(messages), strict=True):
            confidences = dict(zip(self.classes, (weight * float(p) for p in row), strict=True))
            if weight < 1.0:
                for earlier in message.get(INTENT_RANKING_KEY) or []:
                    name = earlier.get(INTENT_NAME_KEY)
                    if name in confidences:
                        confidences[name] += (1.0 - weight) * float(earlier.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            if not self.has_known_word(message):
                scale = float(self.config["unknown_words_scale"])
                confidences = {name: scale * confidence for name, confidence in confidences.items()}
            ranked = sorted(confidences.items(), key=lambda item: (-item[1], item[0]))
            ranking = [{INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
                       for name, confidence in ranked[: int(self.config["ranking_length"]) or None]]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages

    def has_known_word(self, message: Message) -> bool:
        """A stop word, a lemma of the training data, or an entity found before this component."""
        if message.get(ENTITIES) or self.words is None:
            return True
        doc = message.get(SPACY_DOCS[TEXT])
        if doc is None:
            return bool(set(fold(message.get(TEXT) or "").split()) & set(self.words.vocabulary_))
        return any(token.is_stop or fold(token.lemma_ or token.text) in self.words.vocabulary_
                   or fold(token.text) in self.words.vocabulary_ for token in doc)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data

    def persist(self) -> None:
        """Vocabularies and classes as JSON, IDF weights and coefficients as NumPy arrays."""
        with self._model_storage.write_to(self._resource) as directory:
            meta: dict[str, Any] = {"classes": self.classes}
            if self.encoder is not None:
                meta["sentence_encoder"] = {"name": self.encoder.name, "dim": self.encoder.dim,
                                            "weight": float(self.config["encoder_weight"])}
            arrays: dict[str, np.ndarray] = {}
            if self.classes and self.chars is not None and self.coef is not None and self.intercept is not None:
                meta["chars"] = {key: int(value) for key, value in self.chars.vocabulary_.items()}
                arrays.update(char_idf=self.chars.idf_, coef=self.coef, intercept=self.intercept)
                if self.words is not None:
                    meta["words"] = {key: int(value) for key, value in self.words.vocabulary_.items()}
                    arrays["word_idf"] = self.words.idf_
            (directory / _META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
            np.savez(directory / _ARRAYS, **arrays)

    @classmethod
    def load(cls, config: dict[str, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> LinearIntentClassifier:
        """Rebuild the vectorizers from their vocabulary and IDF weights (no pickle)."""
        merged = {**cls.get_default_config(), **config}
        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((directory / _META).read_text(encoding="utf-8"))
                with np.load(directory / _ARRAYS, allow_pickle=False) as stored:
                    arrays = {name: stored[name] for name in stored.files}
        except (ValueError, FileNotFoundError):
            logger.warning("LinearIntentClassifier: no trained model found, it will not classify.")
            return cls(config, model_storage, resource)
        if not meta.get("classes") or "chars" not in meta:
            return cls(config, model_storage, resource)
        chars = _char_vectorizer(int(merged["min_ngram"]), int(merged["max_ngram"]))
        chars.vocabulary = meta["chars"]
        chars.idf_ = arrays["char_idf"]
        words = None
        if "words" in meta:
            words = _word_vectorizer()
            words.vocabulary = meta["words"]
            words.idf_ = arrays["word_idf"]
        encoder, recorded = None, meta.get("sentence_encoder")
        if recorded:  # what the model was trained with, whatever the config says now
            encoder = load_encoder(str(recorded["name"]))  # a missing package fails the load, loudly
            if encoder.dim != int(recorded["dim"]):
                raise ValueError(f"sentence encoder {encoder.name!r} gives {encoder.dim} dimensions, the model "
                                 f"was trained with {recorded['dim']}: train it again")
            config = {**config, "encoder_weight": float(recorded.get("weight", merged["encoder_weight"]))}
        return cls(config, model_storage, resource, chars, words, arrays["coef"], arrays["intercept"],
                   list(meta["classes"]), encoder)
