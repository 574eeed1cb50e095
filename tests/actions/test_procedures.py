"""action_answer_procedure: the asked detail first, the other parts behind buttons, what was told remembered."""

from __future__ import annotations

from typing import Any

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandleFallback
from actions.procedures import ActionAnswerProcedure
from bot.gsm7 import is_gsm7
from bot.knowledge import get_knowledge_base
from bot.knowledge.contacts import short_url
from bot.knowledge.render import part_payload, requested_part, resolve, sms_text
from bot.replies import HUMAN_PAYLOAD, SMS_PAGE_BREAK
from tests.knowledge.samples import shipped_procedure
from tests.trackers import empty_domain, make_tracker


async def run(intent: str, channel: str = "rest", text: str = "question", *,
              slots: dict[str, Any] | None = None, entities: list[dict[str, Any]] | None = None,
              ) -> tuple[list[dict], list[dict]]:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker(text, intent, channel=channel, slots=slots, entities=entities)
    events = await ActionAnswerProcedure().run(dispatcher, tracker, empty_domain())
    return dispatcher.messages, events


def slot(events: list[dict], name: str) -> Any:
    return next((e["value"] for e in events if e.get("event") == "slot" and e.get("name") == name), None)


def payloads(message: dict) -> list[str]:
    return [b["payload"] for b in message["buttons"]]


async def test_first_answer_is_short_with_parts_as_buttons_and_a_person() -> None:
    messages, events = await run("procedure_identity_card")
    procedure = resolve(shipped_procedure("identity_card"))
    assert len(messages) == 1 and len(messages[0]["text"]) < 500
    assert messages[0]["text"].startswith("**Carte d'identité**\n" + procedure.summary)
    assert (f"Source : [service-public.gouv.fr]({procedure.main_link.url}), informations vérifiées le"
            in messages[0]["text"])
    assert [b["title"] for b in messages[0]["buttons"]] == [
        "Voir les étapes", "Documents à apporter", "Sans Internet", "Site officiel", "Parler à une personne"]
    assert {"event": "slot", "name": "last_procedure", "value": "identity_card", "timestamp": None} in events


@pytest.mark.parametrize(("part", "expected"), [
    ("offline", "offline"), ("links", "main_link"), ("steps", "steps"), ("documents", "documents")])
async def test_part_button_opens_that_part_only(part: str, expected: str) -> None:
    procedure = resolve(shipped_procedure("identity_card"))
    # The payload as the widget sends it; a model trained before the entity existed leaves it in the text only.
    messages, _ = await run("procedure_identity_card", "webchat", part_payload(procedure, part))
    text = messages[0]["text"]
    wanted = {"offline": procedure.offline, "main_link": procedure.main_link.url, "steps": procedure.steps[-1],
              "documents": procedure.documents[-1]}[expected]
    assert wanted in text and procedure.summary not in text and "{contact:" not in text
    assert part_payload(procedure, part) not in payloads(messages[0])  # the other parts, not this one again
    assert HUMAN_PAYLOAD in payloads(messages[-1])


def test_part_is_read_from_the_entity_or_the_payload_and_bad_ones_are_ignored() -> None:
    assert requested_part({"entities": [{"entity": "procedure_part", "value": "documents"}]}) == "documents"
    assert requested_part({"text": '/procedure_passport{"procedure_part":"steps"}'}) == "steps"
    assert requested_part({"text": '/procedure_passport{"procedure_part":"secrets"}'}) is None
    assert requested_part({"text": '/procedure_passport{"procedure_part":'}) is None
    assert requested_part({"text": "quels papiers pour un passeport"}) is None


@pytest.mark.parametrize("procedure", list(get_knowledge_base()), ids=lambda p: p.id)
async def test_every_procedure_answers_on_web_and_sms(procedure) -> None:
    web, _ = await run(procedure.intent, "webchat")
    assert procedure.title in web[0]["text"] and len(web) == 1 and len(web[0]["text"]) < 600
    sms, _ = await run(procedure.intent, "sms")
    parts = sms[0]["text"].split(SMS_PAGE_BREAK)
    assert len(sms) == 1 and all(is_gsm7(part) for part in parts)
    assert sms_text(procedure).startswith(parts[0])  # the entry's own SMS first, its link moved to the end
    assert short_url(procedure.main_link.url) in parts[-1]
    for turn in (web, sms):
        assert any(b["payload"] == HUMAN_PAYLOAD for b in turn[-1]["buttons"])


async def test_child_age_picks_the_price_for_that_age_and_is_remembered() -> None:
    web, events = await run("procedure_passport", "webchat", "combien coûte un passeport pour ma fille de 16 ans")
    assert web[0]["text"].split("\n")[1].startswith("De 15 à 17 ans, le passeport coûte 42 €")
    assert slot(events, "person_age") == 16 and slot(events, "person_minor") is True
    sms, _ = await run("procedure_passport", "sms", "passeport pour mon fils")
    assert sms[0]["text"].startswith("Passeport enfant: 17 € avant 15 ans, 42 € de 15 à 17 ans")
    later, _ = await run("procedure_passport", "webchat", "et ça coûte combien ?", slots={"person_age": 12.0})
    assert "Pour un enfant de moins de 15 ans, le passeport coûte 17 €" in later[0]["text"]


async def test_loss_told_about_another_procedure_is_not_reused() -> None:
    slots = {"lost_or_stolen": "lost", "last_procedure": "identity_card"}
    same, _ = await run("procedure_identity_card", "webchat", "combien ça coûte ?", slots=slots)
    assert "Carte perdue" in same[0]["text"]
    other, _ = await run("procedure_passport", "webchat", "combien ça coûte ?", slots=slots)
    assert "perdu" not in other[0]["text"].split("\n")[1]


async def test_short_follow_up_after_an_answer_gets_that_part_instead_of_the_fallback() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("et les documents ?", "nlu_fallback", channel="webchat",
                           slots={"last_procedure": "passport"})
    events = await ActionHandleFallback().run(dispatcher, tracker, empty_domain())
    assert dispatcher.messages[0]["text"].startswith("**Passeport**\nÀ apporter :\n- Le numéro de pré-demande")
    assert slot(events, "last_procedure") == "passport"


async def test_unrelated_unclear_message_still_goes_to_the_fallback() -> None:
    dispatcher = CollectingDispatcher()
    tracker = make_tracker("bla bla", "nlu_fallback", channel="webchat", slots={"last_procedure": "passport"})
    await ActionHandleFallback().run(dispatcher, tracker, empty_domain())
    assert "Passeport" not in (dispatcher.messages[0].get("text") or "")


async def test_unknown_procedure_intent_still_offers_a_person() -> None:
    messages, events = await run("procedure_does_not_exist")
    assert events == []
    assert any(b["payload"] == HUMAN_PAYLOAD for b in messages[0]["buttons"])
