"""Fallback: offer the likely procedures (or ask to rephrase) once; the second in a row hands over to a person."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import start_handoff
from actions.places import has_location_entity
from actions.procedures import answer_follow_up
from bot.conversation import fallback_starts_handoff
from bot.replies import HUMAN_BUTTON, MENU_BUTTON, Reply
from bot.understanding.proposals import proposals_reply, propose_procedures

REPHRASE = Reply(
    "Je n'ai pas bien compris. Pouvez-vous le dire autrement, en quelques mots ? "
    "Par exemple : « carte d'identité perdue » ou « aide au logement ».",
    [MENU_BUTTON, HUMAN_BUTTON],
)
HANDOFF_INTRO = "Je ne comprends toujours pas, désolé. Une personne va prendre le relais."
logger = logging.getLogger(__name__)


def first_fallback_reply(tracker: Tracker) -> Reply:
    """The likely procedures as choices when some stand out, otherwise the request to rephrase."""
    latest = tracker.latest_message or {}
    try:
        reply = proposals_reply(propose_procedures(latest.get("text") or "", latest.get("intent_ranking") or []))
    except Exception as exc:  # the proposals are a help: never let them break the answer
        logger.warning("No proposals for an unsure message (%s).", type(exc).__name__)
        reply = None
    return reply or REPHRASE


class ActionHandleFallback(Action):
    """First misunderstanding: offer likely procedures or ask to rephrase. Second in a row: hand over to a person."""

    def name(self) -> str:
        return "action_handle_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        if has_location_entity(tracker):
            # "jsuis a st andré": the model is unsure, but a commune or postcode was recognised.
            return [FollowupAction("places_form")]
        follow_up = answer_follow_up(dispatcher, tracker)  # « et les documents ? » after a procedure answer
        if follow_up is not None:
            return follow_up
        if fallback_starts_handoff(tracker.events):
            return start_handoff(dispatcher, tracker, intro=HANDOFF_INTRO)
        # The keyword index is built on first use: off the event loop, so other conversations are not held up.
        reply = await asyncio.to_thread(first_fallback_reply, tracker)
        dispatcher.utter_message(**reply.as_dispatch_kwargs())
        return []
