"""Fallback: offer the likely procedures (or ask to rephrase) once; the second in a row hands over to a person."""

from __future__ import annotations

import asyncio

from rasa_sdk.events import EventType, FollowupAction

from actions.handoff import hand_over
from actions.procedures import answer_follow_up
from actions.turn import Turn, TurnAction
from bot.conversation import fallback_starts_handoff
from bot.places.conversation import has_location_entity
from bot.understanding.proposals import unsure_reply

HANDOFF_INTRO = "Je ne comprends toujours pas, désolé. Une personne va prendre le relais."


class ActionHandleFallback(TurnAction):
    """First misunderstanding: offer likely procedures or ask to rephrase. Second in a row: hand over to a person."""

    action_name = "action_handle_fallback"

    async def answer(self, turn: Turn) -> list[EventType]:
        if has_location_entity(turn.message):
            # "jsuis a st andré": the model is unsure, but a commune or postcode was recognised.
            return [FollowupAction("places_form")]
        follow_up = await answer_follow_up(turn)  # « et les documents ? » after a procedure answer
        if follow_up is not None:
            return follow_up
        if fallback_starts_handoff(turn.tracker.events):
            return await hand_over(turn, intro=HANDOFF_INTRO)
        # The keyword index is built on first use: off the event loop, so other conversations are not held up.
        turn.say(await asyncio.to_thread(unsure_reply, turn.message))
        return []
