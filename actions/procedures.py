"""Answer a procedure question from the knowledge base: what was asked first, the other parts on demand."""

from __future__ import annotations

import asyncio

from rasa_sdk.events import EventType, SlotSet

from actions.turn import Turn, TurnAction
from bot.knowledge import get_knowledge_base
from bot.knowledge.loader import KnowledgeBase
from bot.knowledge.model import Procedure
from bot.knowledge.question import PROCEDURE_SLOT, read_question, remembered_question, told_slot_values
from bot.knowledge.render import render_for_channel, requested_part
from bot.replies import MENU_BUTTON, Reply


def answer_procedure(turn: Turn, procedure: Procedure, part: str | None = None) -> list[EventType]:
    """Send the answer (or one part of it) for the user's channel, ending on the offer of a person."""
    events: list[EventType] = []
    question = None if part else (turn.message.get("text") or "")
    told = None
    if question is not None:
        told = remembered_question(question, turn.slot, procedure.id)
        events += [SlotSet(name, value) for name, value in told_slot_values(read_question(question)).items()]
    replies = render_for_channel(procedure, turn.channel, question, told=told, part=part)
    replies[-1] = replies[-1].with_human_offer()  # the turn ends on the offer of a person
    turn.say(*replies)
    return [SlotSet(PROCEDURE_SLOT, procedure.id), *events]


MAX_FOLLOW_UP_CHARS = 80


async def knowledge_base() -> KnowledgeBase:
    """The knowledge base; its first load reads every entry from disk, off the event loop."""
    return await asyncio.to_thread(get_knowledge_base)


async def answer_follow_up(turn: Turn) -> list[EventType] | None:
    """« et les documents ? », « et pour mon fils de 12 ans ? » after a procedure answer: answer it for that
    procedure. None when the message is not such a short follow-up (the caller falls back as usual)."""
    procedure = (await knowledge_base()).get(turn.slot("last_procedure") or "")
    text = turn.message.get("text") or ""
    if procedure is None or not text or len(text) > MAX_FOLLOW_UP_CHARS:
        return None
    told = read_question(text)
    if told.aspect is None and not told.situations:
        return None
    return answer_procedure(turn, procedure)


NO_ENTRY = Reply("Je n'ai pas encore de fiche sur ce sujet. Une personne peut vous aider.", [MENU_BUTTON])


class ActionAnswerProcedure(TurnAction):
    """Renders the procedure the last intent asked for: the asked detail first, or the part a button asked."""

    action_name = "action_answer_procedure"

    async def answer(self, turn: Turn) -> list[EventType]:
        procedure = (await knowledge_base()).by_intent((turn.message.get("intent") or {}).get("name"))
        if procedure is None:
            turn.say(NO_ENTRY.with_human_offer())
            return []
        return answer_procedure(turn, procedure, requested_part(turn.message))
