"""Speed-ups for the Rasa 3.6 server process, found by profiling a turn (docs/performance.md).

Each one keeps Rasa's behaviour and the model's features as they are; `install()` applies them all, before
Rasa loads the model (bot.rasa_server calls it). NUMECRIVAIN_RASA_SPEEDUPS=0 turns them off, to measure.

- Thread pools sized for a small server: TensorFlow, BLAS and OpenMP run one thread per op. A turn's tensors
  are tiny, so more threads only add hand-offs, and the server already serves many conversations at once.
- The action server's answer is checked against Rasa's JSON schema with a validator built once: Rasa's
  `jsonschema.validate` first re-checks the schema itself against the meta-schema, on every action call
  (the largest single cost of a turn in the profile).
- HTTP keep-alive to the action server (and any other endpoint): one client session per endpoint, instead
  of a new session, DNS lookup and TCP connection on every call.
- spaCy: the model is loaded once (Rasa's graph asked for it twice: twice the start-up time and memory), and
  without the pipes whose output no component reads (parser, named entities). Tokens, lemmas, tags and
  vectors are the same, so the features and the NLU results are unchanged (tests/performance/test_rasa_speedups.py).
- The policies' walk over the conversation's past states resumes where the previous turn left it, instead of
  replaying every event of the session several times per turn (`walk_past_states_once`;
  NUMECRIVAIN_PAST_STATES_WALK=0 turns it off, to measure).
- TensorFlow is not loaded when no component of the model needs it (Rasa imports it at start whatever the
  model: ~0.45 GB of memory and seconds of start-up). Rasa's modules still import it, so they get an inert
  stand-in; the model's components are checked first (`model_needs_tensorflow`), and a component that would
  compute with TensorFlow is never loaded with the stand-in. NUMECRIVAIN_SKIP_TENSORFLOW=0 keeps TensorFlow.
"""

from __future__ import annotations

import abc
import asyncio
import functools
import importlib.abc
import importlib.machinery
import json
import logging
import os
import sys
import tarfile
import threading
import types
from collections import OrderedDict
from collections.abc import Mapping, MutableMapping, Sequence
from pathlib import Path
from typing import Any

from bot.settings import RasaProcessSettings

logger = logging.getLogger(__name__)

THREAD_LIMITS = {
    "TF_INTRA_OP_PARALLELISM_THREADS": "1",
    "TF_INTER_OP_PARALLELISM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
# Pipes of fr_core_news_md that no component of config.yml reads: SpacyTokenizer wants text, lemma and tag
# (morphologizer, attribute_ruler, lemmatizer); SpacyFeaturizer wants the static vectors (no pipe at all).
UNUSED_SPACY_PIPES = ("parser", "ner", "senter")
# Shorter than Sanic's 5 s keep-alive on the action server: a connection is never reused just as it closes.
KEEPALIVE_SECONDS = 3.0
# Walks over past states kept: a few per conversation (one per set of options), ~170 conversations.
PAST_STATES_WALKS = 512


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """The speed-ups are on unless NUMECRIVAIN_RASA_SPEEDUPS=0 (to compare with plain Rasa)."""
    return RasaProcessSettings.from_environ(environ).speedups


def limit_threads(environ: MutableMapping[str, str] | None = None) -> None:
    """Defaults only: a value set in the environment wins. Must run before TensorFlow or NumPy is imported."""
    environ = os.environ if environ is None else environ
    for name, value in THREAD_LIMITS.items():
        environ.setdefault(name, value)


def validate_action_responses_with_cached_schema() -> None:
    """Same schema, same ValidationError (with Rasa's hint) on a bad answer; the schema is checked once."""
    from jsonschema import ValidationError, validators
    from rasa.core.actions.action import DOCS_BASE_URL, RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validators.validator_for(schema)
    validator_class.check_schema(schema)
    validator = validator_class(schema)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        try:
            validator.validate(result)
        except ValidationError as error:
            error.message += (
                ". Failed to validate Action server response from API, make sure your response from the "
                f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
            )
            raise
        return True

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]


class _BorrowedSession:
    """`async with endpoint.session() as session` without closing the shared session at the end."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_: Any) -> None:
        return None


def keep_endpoint_sessions_alive() -> None:
    """One aiohttp session per endpoint and event loop, with its connection pool and DNS cache."""
    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    sessions: dict[tuple[int, int], aiohttp.ClientSession] = {}
    original = EndpointConfig.session

    def session(self: EndpointConfig) -> Any:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return original(self)  # outside the server's loop: Rasa's own, closed after use
        key = (id(self), id(loop))
        kept = sessions.get(key)
        if kept is None or kept.closed:
            auth = (aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
                    if self.basic_auth else None)
            kept = aiohttp.ClientSession(
                headers=self.headers, auth=auth, timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS, ttl_dns_cache=300),
            )
            sessions[key] = kept
        return _BorrowedSession(kept)

    EndpointConfig.session = session  # type: ignore[method-assign]


def load_spacy_once_without_unused_pipes() -> None:
    """SpacyNLP.load_model memoised per model name, loading without the pipes nobody reads."""
    from rasa.nlu.utils.spacy_utils import SpacyNLP

    original = SpacyNLP.load_model

    @functools.lru_cache(maxsize=4)
    def load_model(spacy_model_name: str) -> Any:
        import spacy

        real_load = spacy.load

        def load_excluding(name: Any, *args: Any, **kwargs: Any) -> Any:
            excluded = set(kwargs.pop("exclude", ()) or ()) | set(kwargs.pop("disable", ()) or ())
            return real_load(name, *args, exclude=sorted(excluded | set(UNUSED_SPACY_PIPES)), **kwargs)

        spacy.load = load_excluding
        try:
            return original(spacy_model_name)
        finally:
            spacy.load = real_load

    SpacyNLP.load_model = staticmethod(load_model)  # type: ignore[method-assign]


class _StatesWalk:
    """Rasa's walk over a conversation's past states (Domain.states_for_tracker_history), kept where it stopped."""

    def __init__(self, domain: Any, tracker: Any, omit_unset_slots: bool, ignore_rule_only_turns: bool,
                 rule_only_data: dict[str, Any] | None) -> None:
        self.domain, self.tracker = domain, tracker.init_copy()
        self.omit_unset_slots, self.ignore_rule_only_turns = omit_unset_slots, ignore_rule_only_turns
        self.rule_only_data = rule_only_data
        self.events: list[Any] = []
        self.states: list[dict[str, Any]] = []
        self.last_ml_action_sub_state: Any = None
        self.turn_was_hidden = False
        # Before each action walked: its index in the events, the states kept and the loop's variables then.
        self.marks: list[tuple[int, int, Any, bool]] = []

    def align(self, applied: list[Any]) -> bool:
        """Make the walk a prefix of `applied` (the very same event objects); False when nothing can be kept.

        When the histories part (a turn's events replaced by their masked copies, a revert), the walk goes back
        to the last action both share: the states before it hold, the tracker is rebuilt by applying the shared
        events (cheap next to computing states).
        """
        common = 0
        for walked, event in zip(self.events, applied, strict=False):
            if walked is not event:
                break
            common += 1
        if common == len(self.events):
            return True
        while self.marks and self.marks[-1][0] > common:
            self.marks.pop()
        if not self.marks:
            return False
        index, kept, self.last_ml_action_sub_state, self.turn_was_hidden = self.marks.pop()
        del self.states[kept:]
        self.tracker = self.tracker.init_copy()
        for event in applied[:index]:
            self.tracker.update(event)
        self.events = list(applied[:index])
        return True

    def state(self, hide_rule_turn: bool, keep: bool) -> dict[str, Any] | None:
        """One step of Rasa's loop, on the tracker as it is now; `keep` records it (a past turn, not the last)."""
        from rasa.shared.core.constants import PREVIOUS_ACTION

        tracker, domain = self.tracker, self.domain
        last_ml, hidden = self.last_ml_action_sub_state, self.turn_was_hidden
        state: dict[str, Any] | None = None
        if self.ignore_rule_only_turns:
            if not hidden:
                last_ml = domain._get_prev_action_sub_state(tracker)
            if not tracker.followup_action and tracker.latest_action_name != tracker.active_loop_name:
                hidden = hide_rule_turn
        if not (self.ignore_rule_only_turns and hidden):
            state = domain.get_active_state(tracker, omit_unset_slots=self.omit_unset_slots)
            if self.ignore_rule_only_turns:
                domain._remove_rule_only_features(state, self.rule_only_data)
                if self.states:
                    domain._substitute_rule_only_user_input(state, self.states[-1])
                if last_ml:
                    state[PREVIOUS_ACTION] = last_ml
            state = domain._clean_state(state)
        if keep:
            self.last_ml_action_sub_state, self.turn_was_hidden = last_ml, hidden
            if state is not None:
                self.states.append(state)
        return state

    def walk_to(self, applied: list[Any]) -> list[dict[str, Any]]:
        """Walk the events not walked yet; the states, as copies the caller may change."""
        from rasa.shared.core.events import ActionExecuted

        for index in range(len(self.events), len(applied)):
            event = applied[index]
            if isinstance(event, ActionExecuted):
                self.marks.append((index, len(self.states), self.last_ml_action_sub_state, self.turn_was_hidden))
                self.state(event.hide_rule_turn, keep=True)
            self.tracker.update(event)
        self.events = list(applied)
        last = self.state(False, keep=False)
        states = self.states if last is None else [*self.states, last]
        return [{kind: dict(sub_state) for kind, sub_state in state.items()} for state in states]


def walk_past_states_once() -> None:
    """Domain.states_for_tracker_history resumed from the previous turn's walk instead of from the first event.

    The rule and memoization policies ask for the states of the whole conversation several times per turn;
    Rasa replays every event each time (a cost that grows with the conversation). Here the walk of each
    conversation is kept (per domain and options) and only the new events are walked; when the history
    changed (a turn's events replaced by their masked copies, a revert), the walk resumes from the last action
    both histories share; another conversation starts a new walk. Same states, same order.
    """
    from rasa.shared.core.domain import Domain

    walks: OrderedDict[tuple[Any, ...], _StatesWalk] = OrderedDict()
    lock = threading.Lock()

    def states_for_tracker_history(self: Domain, tracker: Any, omit_unset_slots: bool = False,
                                   ignore_rule_only_turns: bool = False,
                                   rule_only_data: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        key = (id(self), tracker.sender_id, omit_unset_slots, ignore_rule_only_turns,
               json.dumps(rule_only_data, sort_keys=True, default=str))
        applied = tracker.applied_events()
        with lock:
            walk = walks.pop(key, None)
        if walk is None or walk.domain is not self or not walk.align(applied):
            walk = _StatesWalk(self, tracker, omit_unset_slots, ignore_rule_only_turns, rule_only_data)
        states = walk.walk_to(applied)
        with lock:
            walks[key] = walk
            while len(walks) > PAST_STATES_WALKS:
                walks.popitem(last=False)
        return states

    Domain.states_for_tracker_history = states_for_tracker_history  # type: ignore[method-assign]


# Rasa's own components that compute with TensorFlow; any other component must be Rasa's or ours (`bot.`).
TENSORFLOW_COMPONENTS = frozenset({
    "rasa.nlu.classifiers.diet_classifier.DIETClassifier",
    "rasa.nlu.selectors.response_selector.ResponseSelector",
    "rasa.nlu.featurizers.dense_featurizer.convert_featurizer.ConveRTFeaturizer",
    "rasa.nlu.featurizers.dense_featurizer.lm_featurizer.LanguageModelFeaturizer",
    "rasa.core.policies.ted_policy.TEDPolicy",
    "rasa.core.policies.unexpected_intent_policy.UnexpecTEDIntentPolicy",
})
TENSORFLOW_PACKAGES = ("tensorflow", "tensorflow_addons", "tensorflow_hub", "tensorflow_text", "keras")
# What libraries probe to decide whether TensorFlow is usable: these must fail, as if it were not installed.
TENSORFLOW_PROBES = ("tensorflow.experimental.dlpack",)


def model_components(model: Path) -> set[str]:
    """The classes a trained model runs at prediction time (from its metadata.json)."""
    with tarfile.open(model) as archive:
        member = archive.extractfile("metadata.json")
        if member is None:
            raise KeyError("metadata.json")
        metadata = json.load(member)
    return {node["uses"] for node in metadata["predict_schema"]["nodes"].values()}


def model_needs_tensorflow(components: set[str]) -> bool:
    """True unless every component is known to be free of TensorFlow (Rasa's others, and the project's own)."""
    return any(name in TENSORFLOW_COMPONENTS or not name.startswith(("rasa.", "bot."))
               for name in components)


class _InertMeta(abc.ABCMeta):
    """Class-level attribute access gives another inert class: `tf.keras.layers.Layer` can be subclassed."""

    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _inert_class(f"{cls.__name__}.{name}")


class _Inert(metaclass=_InertMeta):
    """Stands for any TensorFlow object while Rasa's modules are imported; does nothing, holds nothing."""

    def __init__(self, *_args: Any, **_kwargs: Any) -> None:
        pass

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _inert_class(name)

    def __call__(self, *_args: Any, **_kwargs: Any) -> Any:
        return _Inert()

    def __len__(self) -> int:
        return 0

    def __iter__(self) -> Any:
        return iter(())


@functools.cache
def _inert_class(name: str) -> type:
    return _InertMeta(name.rsplit(".", 1)[-1], (_Inert,), {"__module__": "numecrivain_inert_tensorflow"})


class _InertModule(types.ModuleType):
    __version__: str  # set by the loader: probes read it

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return _inert_class(f"{self.__name__}.{name}")


class _InertTensorFlowFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports of TensorFlow's packages give inert modules; probes for a usable TensorFlow fail."""

    def find_spec(self, fullname: str, path: Sequence[str] | None, target: Any = None) -> Any:
        if fullname in TENSORFLOW_PROBES:
            raise ImportError(f"{fullname}: TensorFlow is not loaded in this process")
        if fullname.split(".", 1)[0] in TENSORFLOW_PACKAGES:
            return importlib.machinery.ModuleSpec(fullname, self, is_package=True)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _InertModule(spec.name)
        module.__path__ = []
        module.__version__ = "0.0.0"
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def skip_tensorflow(model: Path | None, environ: Mapping[str, str] | None = None) -> bool:
    """Give Rasa an inert TensorFlow when the model runs no TensorFlow component; True when done."""
    if not RasaProcessSettings.from_environ(environ).skip_tensorflow or model is None:
        return False
    if any(name.split(".", 1)[0] in TENSORFLOW_PACKAGES for name in sys.modules):
        return False  # already imported: too late, and nothing to save
    try:
        components = model_components(model)
    except (OSError, KeyError, ValueError, tarfile.TarError) as exc:
        logger.info("TensorFlow kept: the model's components could not be read (%s).", type(exc).__name__)
        return False
    if model_needs_tensorflow(components):
        return False
    sys.meta_path.insert(0, _InertTensorFlowFinder())
    refuse_models_that_need_tensorflow()
    logger.info("TensorFlow not loaded: no component of the model needs it.")
    return True


class TensorFlowNotLoadedError(RuntimeError):
    """A model that needs TensorFlow was asked of a server started without it."""


def refuse_models_that_need_tensorflow() -> None:
    """A model swapped in later (Rasa's `PUT /model`) must not run with the inert TensorFlow: refuse it clearly."""
    from rasa.core.agent import Agent

    original = Agent.load_model

    def load_model(self: Agent, model_path: Any, fingerprint: str | None = None) -> None:
        try:
            needs = model_needs_tensorflow(model_components(Path(model_path)))
        except (OSError, KeyError, ValueError, tarfile.TarError):
            needs = True
        if needs:
            raise TensorFlowNotLoadedError(
                f"{model_path}: this Rasa server was started without TensorFlow, which this model needs; "
                "restart it with this model (or with NUMECRIVAIN_SKIP_TENSORFLOW=0)")
        original(self, model_path, fingerprint)

    Agent.load_model = load_model  # type: ignore[method-assign]


def model_option(argv: Sequence[str]) -> Path | None:
    """The file given to `rasa run --model` (a folder or nothing: Rasa picks the model, and TF is kept)."""
    for index, option in enumerate(argv):
        value = None
        if option in ("-m", "--model") and index + 1 < len(argv):
            value = argv[index + 1]
        elif option.startswith("--model="):
            value = option.split("=", 1)[1]
        if value is not None:
            path = Path(value)
            return path if path.is_file() else None
    return None


def install(argv: Sequence[str] = ()) -> None:
    """All of the above, unless NUMECRIVAIN_RASA_SPEEDUPS=0; `argv` are the options of `rasa run`."""
    if not enabled():
        logger.info("Rasa speed-ups off (NUMECRIVAIN_RASA_SPEEDUPS=0)")
        return
    limit_threads()
    skip_tensorflow(model_option(argv))
    validate_action_responses_with_cached_schema()
    keep_endpoint_sessions_alive()
    load_spacy_once_without_unused_pipes()
    if RasaProcessSettings().past_states_walk:
        walk_past_states_once()
