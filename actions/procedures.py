"""Answer a procedure question from the knowledge base: what was asked first, the other parts on demand."""

from __future__ import annotations

import json
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.knowledge import get_knowledge_base
from bot.knowledge.answer import ALL_PARTS
from bot.knowledge.model import Procedure
from bot.knowledge.question import Question, read_question, with_remembered
from bot.knowledge.render import PART_ENTITY, render_for_channel
from bot.replies import MENU_BUTTON, Reply

# Slots that keep what the person told (age, child, loss or theft) for the next questions.
AGE_SLOT = "person_age"
MINOR_SLOT = "person_minor"
LOSS_SLOT = "lost_or_stolen"
MAX_PAYLOAD_CHARS = 200


def requested_part(message: dict[str, Any]) -> str | None:
    """The part a button asked for: the `procedure_part` entity, or read from the payload itself.

    The payload is read too because a model trained before the entity existed drops unknown entities.
    """
    for entity in message.get("entities") or []:
        if entity.get("entity") == PART_ENTITY and entity.get("value") in ALL_PARTS:
            return str(entity["value"])
    text = (message.get("text") or "")[:MAX_PAYLOAD_CHARS]
    if text.startswith("/procedure_") and "{" in text:
        try:
            value = json.loads(text[text.index("{"):]).get(PART_ENTITY)
        except (ValueError, AttributeError):
            return None
        return value if value in ALL_PARTS else None
    return None


def remembered_question(text: str, tracker: Tracker, procedure: Procedure) -> Question:
    """The question of this message, completed by the age and child told earlier, and by a loss or theft told
    about this same procedure (a lost identity card says nothing about the passport asked next)."""
    same = tracker.get_slot("last_procedure") == procedure.id
    return with_remembered(read_question(text), age=tracker.get_slot(AGE_SLOT), minor=tracker.get_slot(MINOR_SLOT),
                           lost_or_stolen=tracker.get_slot(LOSS_SLOT) if same else None)


def told_slots(told: Question) -> list[dict[str, Any]]:
    """Slot events for what this message told (nothing is forgotten when a message says nothing)."""
    events: list[dict[str, Any]] = []
    if told.age is not None:
        events.append(SlotSet(AGE_SLOT, float(told.age)))
    if told.minor is not None:
        events.append(SlotSet(MINOR_SLOT, told.minor))
    if told.lost_or_stolen is not None:
        events.append(SlotSet(LOSS_SLOT, told.lost_or_stolen))
    return events


def answer_procedure(dispatcher: CollectingDispatcher, tracker: Tracker, procedure: Procedure,
                     part: str | None = None) -> list[dict[str, Any]]:
    """Send the answer (or one part of it) for the user's channel, ending on the offer of a person."""
    events: list[dict[str, Any]] = []
    question = None if part else (tracker.latest_message.get("text") or "")
    told = None
    if question is not None:
        told = remembered_question(question, tracker, procedure)
        events += told_slots(read_question(question))
    replies = render_for_channel(procedure, tracker.get_latest_input_channel(), question, told=told, part=part)
    replies[-1] = replies[-1].with_human_offer()  # the turn ends on the offer of a person
    for reply in replies:
        dispatcher.utter_message(**reply.as_dispatch_kwargs())
    return [SlotSet("last_procedure", procedure.id), *events]


MAX_FOLLOW_UP_CHARS = 80


def answer_follow_up(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[dict[str, Any]] | None:
    """« et les documents ? », « et pour mon fils de 12 ans ? » after a procedure answer: answer it for that
    procedure. None when the message is not such a short follow-up (the caller falls back as usual)."""
    procedure = get_knowledge_base().get(tracker.get_slot("last_procedure") or "")
    text = tracker.latest_message.get("text") or ""
    if procedure is None or not text or len(text) > MAX_FOLLOW_UP_CHARS:
        return None
    told = read_question(text)
    if told.aspect is None and not told.situations:
        return None
    return answer_procedure(dispatcher, tracker, procedure)


class ActionAnswerProcedure(Action):
    """Renders the procedure the last intent asked for: the asked detail first, or the part a button asked."""

    def name(self) -> str:
        return "action_answer_procedure"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[dict[str, Any]]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        procedure = get_knowledge_base().by_intent(intent)
        if procedure is None:
            reply = Reply("Je n'ai pas encore de fiche sur ce sujet. Une personne peut vous aider.", [MENU_BUTTON])
            dispatcher.utter_message(**reply.with_human_offer().as_dispatch_kwargs())
            return []
        return answer_procedure(dispatcher, tracker, procedure, requested_part(tracker.latest_message))
