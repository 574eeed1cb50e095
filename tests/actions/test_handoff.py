"""The handoff actions: pause and queue, honest 'nobody now' answers, two misunderstandings, the callback form."""

from __future__ import annotations

import pytest
import yaml
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandleFallback
from actions.handoff import ActionAskCallbackPhone, ActionRequestHuman, ActionSubmitCallback, ValidateCallbackForm
from bot.db import get_engine
from bot.handoff.callbacks import CallbackBook
from bot.handoff.phone_checks import PhoneChecks
from bot.handoff.store import HandoffQueue
from bot.paths import PROJECT_ROOT
from bot.replies import PHONE_HELP, PHONE_HELP_SMS
from tests.handoff.helpers import actions_database, put_an_agent_on_duty
from tests.trackers import empty_domain, make_tracker, user_event

PERSON_TEXT = "je veux parler à quelqu'un"
DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def database(tmp_path, monkeypatch) -> str:
    return actions_database(tmp_path, monkeypatch, "actions.db")


@pytest.fixture
def agent_available(database) -> None:
    put_an_agent_on_duty(database)


async def run(action, tracker) -> tuple[list, list]:
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker, {})
    return dispatcher.messages, events


async def test_request_pauses_the_bot_and_queues_transcript_channel_commune_and_topic(database, agent_available):
    history = [user_event("passeport", "procedure_passport", channel="webchat"), {"event": "bot", "text": "Fiche"}]
    tracker = make_tracker(PERSON_TEXT, "request_human", channel="webchat", history=history,
                           slots={"commune": "Roubaix"}, sender_id="web-42")
    messages, events = await run(ActionRequestHuman(), tracker)
    assert [e["event"] for e in events] == ["pause"]
    assert "n° 1 dans la file d'attente" in messages[0]["text"] and "Gardez cette page ouverte" in messages[0]["text"]
    request = HandoffQueue(get_engine(database)).waiting()[0]
    assert (request.sender_id, request.channel, request.commune, request.topic) == (
        "web-42", "webchat", "Roubaix", "procedure_passport")
    assert [m["text"] for m in request.transcript] == ["passeport", "Fiche", PERSON_TEXT]


async def test_rest_client_gets_the_address_of_its_agent_messages(database, agent_available):
    messages, _ = await run(ActionRequestHuman(), make_tracker(PERSON_TEXT, "request_human", sender_id="rest-1"))
    custom = next(m["custom"] for m in messages if m.get("custom"))
    key = HandoffQueue(get_engine(database)).waiting()[0].outbox_key
    assert custom["handoff"]["messages_url"] == f"http://portal.test/api/handoff/rest-1/messages?key={key}"


async def test_nobody_available_says_so_offers_a_callback_and_does_not_pause(database):
    messages, events = await run(ActionRequestHuman(), make_tracker(PERSON_TEXT, "request_human", channel="webchat"))
    assert events == []
    text = messages[0]["text"]
    assert "occupées ou absentes" in text and PHONE_HELP in text
    assert "/request_callback" in [b["payload"] for b in messages[0]["buttons"]]
    assert HandoffQueue(get_engine(database)).waiting() == []


async def test_out_of_hours_says_when_the_service_opens_again(database, agent_available, monkeypatch):
    monkeypatch.setenv("NUMECRIVAIN_SERVICE_HOURS", "Mo-Su off")
    messages, events = await run(ActionRequestHuman(), make_tracker(PERSON_TEXT, "request_human", channel="sms"))
    assert events == [] and "en dehors des horaires" in messages[0]["text"]
    assert PHONE_HELP_SMS in messages[0]["text"] and "Solidarit" not in messages[0]["text"]


async def test_nearest_france_services_is_given_when_the_commune_is_known(database):
    tracker = make_tracker(PERSON_TEXT, "request_human", channel="webchat", slots={"commune": "Roubaix"})
    messages, _ = await run(ActionRequestHuman(), tracker)
    assert "France Services le plus proche" in messages[0]["text"]


async def test_broken_database_gives_the_phone_line_and_never_pauses(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    messages, events = await run(ActionRequestHuman(), make_tracker(PERSON_TEXT, "request_human"))
    assert events == [] and PHONE_HELP in messages[0]["text"]


async def test_second_misunderstanding_in_a_row_starts_the_handoff(database, agent_available):
    history = [user_event("blabla", "nlu_fallback"), {"event": "bot", "text": "Je n'ai pas bien compris."}]
    messages, events = await run(ActionHandleFallback(), make_tracker("xyz", "nlu_fallback", history=history))
    assert [e["event"] for e in events] == ["pause"]
    assert messages[0]["text"].startswith("Je ne comprends toujours pas")


async def test_first_misunderstanding_only_asks_to_rephrase(database, agent_available):
    messages, events = await run(ActionHandleFallback(), make_tracker("xyz", "nlu_fallback"))
    assert events == [] and "autrement" in messages[0]["text"]


def form_tracker(text: str, consent: bool | None = True, sender_id: str = "test-user"):
    return make_tracker(text, "nlu_fallback", channel="webchat", sender_id=sender_id,
                        slots={"requested_slot": "callback_phone", "callback_consent": consent})


async def answer_form(tracker) -> tuple[dict, list[str]]:
    """Run the form's validation as Rasa does (extract, then validate): the slots it sets and what it says."""
    dispatcher = CollectingDispatcher()
    events = await ValidateCallbackForm().run(dispatcher, tracker, DOMAIN)
    slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot" and e["name"] != "requested_slot"}
    return slots, [m["text"] for m in dispatcher.messages]


@pytest.fixture
def sent_codes(monkeypatch) -> list[tuple[str, str]]:
    """Codes the action sends by SMS, caught before the gateway."""
    sent: list[tuple[str, str]] = []

    async def fake_send(phone: str, code: str) -> bool:
        sent.append((phone, code))
        return True

    monkeypatch.setattr("bot.handoff.callback_form.send_code_sms", fake_send)
    return sent


async def test_typed_number_is_kept_only_once_the_sms_code_comes_back(database, sent_codes):
    slots, _ = await answer_form(form_tracker("06 12 34 56 78"))
    assert slots == {"callback_phone": None} and CallbackBook(get_engine(database)).pending() == []
    [(phone, code)] = sent_codes
    assert phone == "+33612345678"
    ask = CollectingDispatcher()
    await ActionAskCallbackPhone().run(ask, form_tracker(""), empty_domain())
    assert "code à 6 chiffres" in ask.messages[0]["text"] and "•• •• •• •• 78" in ask.messages[0]["text"]
    slots, _ = await answer_form(form_tracker(code))
    assert slots == {"callback_phone": "•• •• •• •• 78", "callback_stored": True}
    assert [c.phone for c in CallbackBook(get_engine(database)).pending()] == ["+33612345678"]


async def test_extracting_the_answer_writes_nothing(database, sent_codes):
    await answer_form(form_tracker("06 12 34 56 78"))
    code = sent_codes[0][1]
    extracted = await ValidateCallbackForm().extract_callback_phone(CollectingDispatcher(), form_tracker(code),
                                                                    empty_domain())
    assert extracted == {"callback_phone": code}  # only a candidate: the validation step reads it
    assert CallbackBook(get_engine(database)).pending() == []
    assert PhoneChecks(get_engine(database)).pending("test-user") is not None  # the code is still unused


async def test_three_wrong_codes_forget_the_number(database, sent_codes):
    await answer_form(form_tracker("06 12 34 56 78"))
    wrong = "000000" if sent_codes[0][1] != "000000" else "111111"
    for _ in range(3):
        slots, said = await answer_form(form_tracker(wrong))
        assert slots == {"callback_phone": None} and "ne correspond pas" in said[0]
    assert "Écrivez à nouveau votre numéro" in said[0]
    right, _ = await answer_form(form_tracker(sent_codes[0][1]))
    assert right == {"callback_phone": None} and CallbackBook(get_engine(database)).pending() == []


async def test_no_sms_gateway_means_no_callback_and_the_user_is_told(database, monkeypatch):
    async def cannot_send(phone: str, code: str) -> bool:
        return False

    monkeypatch.setattr("bot.handoff.callback_form.send_code_sms", cannot_send)
    slots, said = await answer_form(form_tracker("06 12 34 56 78"))
    assert slots == {"callback_consent": False, "callback_phone": None}
    assert "n'est pas enregistrée" in said[0]
    assert CallbackBook(get_engine(database)).pending() == []
    assert PhoneChecks(get_engine(database)).pending("test-user") is None


async def test_codes_to_one_number_are_limited(database, sent_codes):
    for sender in ("web-a", "web-b", "web-c"):
        assert (await answer_form(form_tracker("06 12 34 56 78", sender_id=sender)))[0] == {"callback_phone": None}
    slots, said = await answer_form(form_tracker("06 12 34 56 78", sender_id="web-d"))
    assert slots["callback_consent"] is False
    assert "plusieurs codes" in said[0] and len(sent_codes) == 3


async def test_sms_user_is_called_back_on_their_own_number_without_typing_it(database):
    from bot.channels.sms.store import SmsStore
    from bot.handoff.store import utcnow

    SmsStore(get_engine(database)).upsert_contact("sms-abc", "+33698765432", "android", utcnow())
    tracker = make_tracker("oui", "affirm", channel="sms", sender_id="sms-abc",
                           slots={"requested_slot": "callback_consent"})
    slots = await ValidateCallbackForm().validate_callback_consent(True, CollectingDispatcher(), tracker,
                                                                   empty_domain())
    assert slots == {"callback_consent": True, "callback_phone": "•• •• •• •• 32", "callback_stored": True}
    assert [c.phone for c in CallbackBook(get_engine(database)).pending()] == ["+33698765432"]


async def test_invalid_number_is_asked_again_and_nothing_is_stored(database):
    slots, said = await answer_form(form_tracker("12 34"))
    assert slots == {"callback_phone": None} and "ne semble pas valide" in said[0]
    assert CallbackBook(get_engine(database)).pending() == []


async def test_cancel_ends_the_form_without_a_number(database):
    slots, _ = await answer_form(form_tracker("annuler"))
    assert slots["callback_consent"] is False
    tracker = make_tracker("non", "deny", slots={"callback_consent": False})
    form = ValidateCallbackForm()
    asked = await form.required_slots(["callback_consent", "callback_phone"], CollectingDispatcher(), tracker,
                                      empty_domain())
    assert asked == ["callback_consent"]


async def test_no_number_is_read_before_consent(database):
    slots, _ = await answer_form(form_tracker("06 12 34 56 78", consent=None))
    assert "callback_phone" not in slots and CallbackBook(get_engine(database)).pending() == []


async def test_submit_confirms_with_the_masked_number_and_clears_the_slots(database):
    tracker = make_tracker("06", "nlu_fallback", slots={"callback_consent": True, "callback_phone": "•• •• •• •• 78",
                                                        "callback_stored": True})
    messages, events = await run(ActionSubmitCallback(), tracker)
    assert "•• •• •• •• 78" in messages[0]["text"] and "effacé" in messages[0]["text"]
    assert {(e["name"], e["value"]) for e in events} == {
        ("callback_consent", None), ("callback_phone", None), ("callback_stored", None)}


async def test_submit_without_a_stored_callback_says_no_number_was_kept(database):
    tracker = make_tracker("06", "nlu_fallback", slots={"callback_consent": True, "callback_phone": "•• •• •• •• 78"})
    messages, _ = await run(ActionSubmitCallback(), tracker)
    assert "aucun numéro" in messages[0]["text"] and PHONE_HELP in messages[0]["text"]
