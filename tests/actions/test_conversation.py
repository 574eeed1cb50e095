"""The fallback: a commune alone still finds places; otherwise likely procedures or rephrase, then a person."""

from __future__ import annotations

from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandleFallback
from tests.trackers import empty_domain, make_tracker


async def test_unsure_message_with_a_commune_goes_to_the_places_form() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("jsuis a st andré", "nlu_fallback",
                           entities=[{"entity": "commune", "value": "st andré", "start": 9, "end": 17}])
    events = await ActionHandleFallback().run(dispatcher, tracker, empty_domain())
    assert events == [{"event": "followup", "name": "places_form", "timestamp": None}]
    assert dispatcher.messages == []


async def test_first_misunderstanding_asks_to_rephrase() -> None:
    dispatcher = CollectingDispatcher()
    events = await ActionHandleFallback().run(dispatcher, make_tracker("zzkx", "nlu_fallback"), empty_domain())
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


async def test_first_misunderstanding_offers_the_likely_procedures_as_buttons() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("Témoins d'un mariage : quelles sont les règles ?", "nlu_fallback")
    tracker.latest_message["intent_ranking"] = [
        {"name": "nlu_fallback", "confidence": 0.35},
        {"name": "procedure_planning_permission", "confidence": 0.3},
        {"name": "procedure_marriage_pacs", "confidence": 0.2},
        {"name": "greet", "confidence": 0.1},
    ]
    events = await ActionHandleFallback().run(dispatcher, tracker, empty_domain())
    assert events == []
    payloads = [button["payload"] for button in dispatcher.messages[0]["buttons"]]
    assert payloads[0] == "/procedure_marriage_pacs"
    assert "/procedure_planning_permission" in payloads
    assert payloads[-2:] == ["/help_menu", "/request_human"]
    assert "démarches" in dispatcher.messages[0]["text"]


async def test_proposals_that_fail_still_ask_to_rephrase(monkeypatch) -> None:
    def broken(*args: object, **kwargs: object) -> list[str]:
        raise RuntimeError("knowledge base unavailable")

    monkeypatch.setattr("bot.understanding.proposals.propose_procedures", broken)
    dispatcher = CollectingDispatcher()
    await ActionHandleFallback().run(dispatcher, make_tracker("carte d'identité ?", "nlu_fallback"), empty_domain())
    assert "autrement" in dispatcher.messages[0]["text"]
