"""The policies' past states, walked once per new event, are exactly those Rasa computes from the first event."""

from __future__ import annotations

import random
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    ActionReverted,
    ActiveLoop,
    Event,
    Restarted,
    SessionStarted,
    SlotSet,
    UserUtteranceReverted,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot import rasa_speedups
from bot.paths import PROJECT_ROOT

ORIGINAL = Domain.states_for_tracker_history
OPTIONS = [(False, False, None), (True, False, None), (False, True, None),
           (False, True, {"slots": ["commune"], "loops": ["callback_form"]})]


@pytest.fixture
def walked(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(Domain, "states_for_tracker_history", ORIGINAL)
    rasa_speedups.walk_past_states_once()
    yield


def _conversation(domain: Domain, seed: int) -> Iterator[Event]:
    """A plausible, varied conversation: intents, actions, rule-only turns, slots, forms, reverts, a restart."""
    rng = random.Random(seed)
    actions = [name for name in domain.action_names_or_texts if not name.startswith("action_listen")]
    values: dict[str, Any] = {"commune": "Lille", "procedure": "passeport", "handoff_requested": True}
    yield SessionStarted()
    for turn in range(24):
        yield ActionExecuted("action_listen")
        intent = rng.choice(domain.intents)
        yield UserUttered(f"message {turn}", intent={"name": intent, "confidence": 0.9},
                          entities=[{"entity": "commune", "value": "Lille", "start": 0, "end": 5}]
                          if rng.random() < 0.2 else [])
        if rng.random() < 0.1:
            yield UserUtteranceReverted()
            continue
        if rng.random() < 0.2:
            yield ActiveLoop(rng.choice(list(domain.form_names)))
        for _ in range(rng.randint(1, 3)):
            yield ActionExecuted(rng.choice(actions), hide_rule_turn=rng.random() < 0.3)
            if rng.random() < 0.3:
                slot = rng.choice(sorted(values))
                yield SlotSet(slot, values[slot] if rng.random() < 0.8 else None)
        if rng.random() < 0.05:
            yield ActionReverted()
        if rng.random() < 0.2:
            yield ActiveLoop(None)
        if turn == 16:
            yield Restarted()


@pytest.mark.parametrize("seed", [1, 2])
def test_each_turn_gets_the_states_rasa_computes_from_the_first_event(walked: None, seed: int) -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    tracker = DialogueStateTracker(f"walk-{seed}", domain.slots)
    for event in _conversation(domain, seed):
        tracker.update(event)
        for omit, ignore, rule_only in OPTIONS:
            walked_states = tracker.past_states(domain, omit, ignore, rule_only)
            expected = ORIGINAL(domain, tracker, omit, ignore, rule_only)
            assert walked_states == expected, f"after {event}"
            if walked_states:  # a caller changing what it got does not change the next turn's states
                walked_states[-1].clear()
                walked_states[0].setdefault("user", {})["intent"] = "changed"


def test_a_copy_of_the_tracker_and_a_shorter_history_are_walked_right(walked: None) -> None:
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    tracker = DialogueStateTracker("walk-copy", domain.slots)
    events = list(_conversation(domain, 7))
    for event in events[:60]:
        tracker.update(event)
    tracker.past_states(domain)
    shorter = DialogueStateTracker.from_events("walk-copy", events[:20], domain.slots)
    assert shorter.past_states(domain) == ORIGINAL(domain, shorter)
    copy = tracker.copy()
    assert copy.past_states(domain) == ORIGINAL(domain, tracker)


@pytest.mark.parametrize("seed", [4, 5])
def test_a_turn_replaced_by_its_masked_copies_is_walked_from_where_the_histories_part(walked: None,
                                                                                      seed: int) -> None:
    """What the tracker store does after a turn with something masked: the older events, then copies."""
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    rng = random.Random(seed)
    tracker = DialogueStateTracker(f"walk-masked-{seed}", domain.slots)
    turn_start = 0
    for event in _conversation(domain, seed):
        if isinstance(event, ActionExecuted) and event.action_name == "action_listen":
            events = list(tracker.events)
            if rng.random() < 0.4 and turn_start < len(events):  # this turn's events stored masked, then replayed
                copies: list[Event] = []
                for stored in events[turn_start:]:
                    data = stored.as_dict()
                    if data.get("event") == "user":
                        data["text"] = "[masqué]"
                    copy = Event.from_parameters(data)
                    assert copy is not None
                    copies.append(copy)
                tracker = DialogueStateTracker.from_events(tracker.sender_id, events[:turn_start] + copies,
                                                           domain.slots)
            turn_start = len(tracker.events)
        tracker.update(event)
        for omit, ignore, rule_only in OPTIONS:
            assert tracker.past_states(domain, omit, ignore, rule_only) == ORIGINAL(domain, tracker, omit, ignore,
                                                                                    rule_only), f"after {event}"
