"""Answer a procedure question from the knowledge base."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.knowledge import get_knowledge_base
from bot.knowledge.render import render_for_channel
from bot.replies import MENU_BUTTON, Reply


class ActionAnswerProcedure(Action):
    """Renders the procedure the last intent asked for, for the user's channel."""

    def name(self) -> str:
        return "action_answer_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        procedure = get_knowledge_base().by_intent(intent)
        if procedure is None:
            reply = Reply("Je n'ai pas encore de fiche sur ce sujet. Une personne peut vous aider.", [MENU_BUTTON])
            dispatcher.utter_message(**reply.with_human_offer().as_dispatch_kwargs())
            return []
        question = tracker.latest_message.get("text") or ""
        replies = render_for_channel(procedure, tracker.get_latest_input_channel(), question)
        replies[-1] = replies[-1].with_human_offer()  # the turn ends on the offer of a person
        for reply in replies:
            dispatcher.utter_message(**reply.as_dispatch_kwargs())
        return [SlotSet("last_procedure", procedure.id)]
