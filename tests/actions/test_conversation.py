"""The fallback: a commune alone still finds places; otherwise rephrase, then a person."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandleFallback
from tests.trackers import make_tracker


async def test_unsure_message_with_a_commune_goes_to_the_places_form() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("jsuis a st andré", "nlu_fallback",
                           entities=[{"entity": "commune", "value": "st andré", "start": 9, "end": 17}])
    events = await ActionHandleFallback().run(dispatcher, tracker, {})
    assert events == [{"event": "followup", "name": "places_form", "timestamp": None}]
    assert dispatcher.messages == []


async def test_first_misunderstanding_asks_to_rephrase() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandleFallback().run(dispatcher, make_tracker("zzkx", "nlu_fallback"), {})
    assert events == []
    assert "autrement" in dispatcher.messages[0]["text"]
    assert any(b["payload"] == "/request_human" for b in dispatcher.messages[0]["buttons"])


def test_a_place_named_with_low_confidence_is_not_a_misunderstanding() -> None:
    from bot.conversation import consecutive_fallbacks
    from tests.trackers import user_event

    place = user_event("jsuis a st andré", "nlu_fallback", [{"entity": "commune", "value": "st andré"}])
    unclear = user_event("ouvert samedi", "nlu_fallback")
    assert consecutive_fallbacks([place, unclear]) == 1
    assert consecutive_fallbacks([unclear, unclear]) == 2
