"""Fallback: ask to rephrase once, then offer a person."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.conversation import consecutive_fallbacks
from bot.replies import HUMAN_BUTTON, MENU_BUTTON, SOLIDARITE_NUMERIQUE, Reply

REPHRASE = Reply(
    "Je n'ai pas bien compris. Pouvez-vous le dire autrement, en quelques mots ? "
    "Par exemple : « carte d'identité perdue » ou « aide au logement ».",
    [MENU_BUTTON, HUMAN_BUTTON],
)
OFFER_PERSON = Reply(
    "Je ne comprends toujours pas, désolé. Une personne peut vous aider : "
    f"choisissez « Parler à une personne ». Vous pouvez aussi appeler {SOLIDARITE_NUMERIQUE}.",
    [HUMAN_BUTTON, MENU_BUTTON],
)


class ActionHandleFallback(Action):
    """First misunderstanding: ask to rephrase. Second in a row: offer a person."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        reply = OFFER_PERSON if consecutive_fallbacks(tracker.events) >= 2 else REPHRASE
        dispatcher.utter_message(**reply.as_dispatch_kwargs())
        return []
