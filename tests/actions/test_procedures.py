"""action_answer_procedure renders the knowledge base for the user's channel."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.procedures import ActionAnswerProcedure
from bot.gsm7 import is_gsm7
from bot.knowledge import get_knowledge_base
from bot.knowledge.render import resolve, sms_text
from bot.replies import HUMAN_PAYLOAD
from tests.trackers import make_tracker


async def run(intent: str, channel: str = "rest", text: str = "question") -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    events = await ActionAnswerProcedure().run(dispatcher, make_tracker(text, intent, channel=channel), {})
    return dispatcher.messages, events


async def test_identity_card_answer_has_link_offline_way_and_person() -> None:
    messages, events = await run("procedure_identity_card")
    text = "\n".join(m["text"] for m in messages)
    procedure = resolve(get_knowledge_base().get("identity_card"))  # contacts expanded, as residents read it
    assert procedure.main_link.url in text
    assert "Sans Internet" in text and procedure.offline in text and "{contact:" not in text
    assert any(b["payload"] == HUMAN_PAYLOAD for b in messages[-1]["buttons"])
    assert {"event": "slot", "name": "last_procedure", "value": "identity_card", "timestamp": None} in events


@pytest.mark.parametrize("procedure", list(get_knowledge_base()), ids=lambda p: p.id)
async def test_every_procedure_answers_on_web_and_sms(procedure) -> None:  # type: ignore[no-untyped-def]
    web, _ = await run(procedure.intent, "webchat")
    assert procedure.title in web[0]["text"]
    sms, _ = await run(procedure.intent, "sms")
    assert len(sms) == 1 and sms[0]["text"] == sms_text(procedure) and is_gsm7(sms[0]["text"])
    for turn in (web, sms):
        assert any(b["payload"] == HUMAN_PAYLOAD for b in turn[-1]["buttons"])


async def test_question_naming_a_case_gets_that_case_first() -> None:
    web, _ = await run("procedure_passport", "webchat", "combien coûte un passeport pour ma fille de 16 ans")
    assert "De 15 à 17 ans, il coûte 42 €" in web[0]["text"].split("**Les étapes**")[0]
    sms, _ = await run("procedure_passport", "sms", "passeport pour mon fils")
    assert sms[0]["text"].startswith("Passeport enfant: 17 €")


async def test_unknown_procedure_intent_still_offers_a_person() -> None:
    messages, events = await run("procedure_does_not_exist")
    assert events == []
    assert any(b["payload"] == HUMAN_PAYLOAD for b in messages[0]["buttons"])
