"""Fallback: ask to rephrase once; the second misunderstanding in a row hands over to a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import start_handoff
from actions.places import has_location_entity
from bot.conversation import fallback_starts_handoff
from bot.replies import HUMAN_BUTTON, MENU_BUTTON, Reply

REPHRASE = Reply(
    "Je n'ai pas bien compris. Pouvez-vous le dire autrement, en quelques mots ? "
    "Par exemple : « carte d'identité perdue » ou « aide au logement ».",
    [MENU_BUTTON, HUMAN_BUTTON],
)
HANDOFF_INTRO = "Je ne comprends toujours pas, désolé. Une personne va prendre le relais."


class ActionHandleFallback(Action):
    """First misunderstanding: ask to rephrase. Second in a row: hand over to a person (or say who can help)."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        if has_location_entity(tracker):
            # "jsuis a st andré": the model is unsure, but a commune or postcode was recognised.
            return [FollowupAction("places_form")]
        if fallback_starts_handoff(tracker.events):
            return start_handoff(dispatcher, tracker, intro=HANDOFF_INTRO)
        dispatcher.utter_message(**REPHRASE.as_dispatch_kwargs())
        return []
