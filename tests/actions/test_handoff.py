"""The handoff actions: pause and queue, honest 'nobody now' answers, two misunderstandings, the callback form."""

from __future__ import annotations

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionHandleFallback
from actions.handoff import ActionRequestHuman, ActionSubmitCallback, ValidateCallbackForm
from bot.db import get_engine
from bot.handoff.accounts import AgentDirectory
from bot.handoff.callbacks import CallbackBook
from bot.handoff.store import HandoffQueue
from tests.trackers import make_tracker, user_event

PERSON_TEXT = "je veux parler à quelqu'un"


@pytest.fixture
def database(tmp_path, monkeypatch) -> str:
    url = f"sqlite:///{tmp_path / 'actions.db'}"
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", url)
    monkeypatch.setenv("NUMECRIVAIN_SERVICE_HOURS", "24/7")
    monkeypatch.setenv("WEB_URL", "http://portal.test")
    return url


@pytest.fixture
def agent_available(database) -> None:
    directory = AgentDirectory(get_engine(database))
    directory.set_available(directory.create("alice", "correct horse battery").id, True)


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
    assert "occupées ou absentes" in text and "01 70 772 372" in text
    assert "/request_callback" in [b["payload"] for b in messages[0]["buttons"]]
    assert HandoffQueue(get_engine(database)).waiting() == []


async def test_out_of_hours_says_when_the_service_opens_again(database, agent_available, monkeypatch):
    monkeypatch.setenv("NUMECRIVAIN_SERVICE_HOURS", "Mo-Su off")
    messages, events = await run(ActionRequestHuman(), make_tracker(PERSON_TEXT, "request_human", channel="sms"))
    assert events == [] and "en dehors des horaires" in messages[0]["text"]
    assert "01 70 772 372" in messages[0]["text"]


async def test_nearest_france_services_is_given_when_the_commune_is_known(database):
    tracker = make_tracker(PERSON_TEXT, "request_human", channel="webchat", slots={"commune": "Roubaix"})
    messages, _ = await run(ActionRequestHuman(), tracker)
    assert "France Services le plus proche" in messages[0]["text"]


async def test_broken_database_gives_the_phone_line_and_never_pauses(tmp_path, monkeypatch):
    monkeypatch.setenv("NUMECRIVAIN_DB_URL", f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    messages, events = await run(ActionRequestHuman(), make_tracker(PERSON_TEXT, "request_human"))
    assert events == [] and "01 70 772 372" in messages[0]["text"]


async def test_second_misunderstanding_in_a_row_starts_the_handoff(database, agent_available):
    history = [user_event("blabla", "nlu_fallback"), {"event": "bot", "text": "Je n'ai pas bien compris."}]
    messages, events = await run(ActionHandleFallback(), make_tracker("xyz", "nlu_fallback", history=history))
    assert [e["event"] for e in events] == ["pause"]
    assert messages[0]["text"].startswith("Je ne comprends toujours pas")


async def test_first_misunderstanding_only_asks_to_rephrase(database, agent_available):
    messages, events = await run(ActionHandleFallback(), make_tracker("xyz", "nlu_fallback"))
    assert events == [] and "autrement" in messages[0]["text"]


def form_tracker(text: str, consent: bool | None = True):
    return make_tracker(text, "nlu_fallback", channel="webchat",
                        slots={"requested_slot": "callback_phone", "callback_consent": consent})


async def test_valid_number_is_stored_and_only_a_masked_copy_stays_in_the_slot(database):
    dispatcher = CollectingDispatcher()
    slots = await ValidateCallbackForm().extract_callback_phone(dispatcher, form_tracker("06 12 34 56 78"), {})
    assert slots == {"callback_phone": "•• •• •• •• 78"}
    assert [c.phone for c in CallbackBook(get_engine(database)).pending()] == ["+33612345678"]


async def test_invalid_number_is_asked_again_and_nothing_is_stored(database):
    dispatcher = CollectingDispatcher()
    slots = await ValidateCallbackForm().extract_callback_phone(dispatcher, form_tracker("12 34"), {})
    assert slots == {"callback_phone": None} and "ne semble pas valide" in dispatcher.messages[0]["text"]
    assert CallbackBook(get_engine(database)).pending() == []


async def test_cancel_ends_the_form_without_a_number(database):
    form = ValidateCallbackForm()
    slots = await form.extract_callback_phone(CollectingDispatcher(), form_tracker("annuler"), {})
    assert slots["callback_consent"] is False
    tracker = make_tracker("non", "deny", slots={"callback_consent": False})
    assert await form.required_slots(["callback_consent", "callback_phone"], CollectingDispatcher(), tracker, {}) == [
        "callback_consent"]


async def test_no_number_is_read_before_consent(database):
    slots = await ValidateCallbackForm().extract_callback_phone(
        CollectingDispatcher(), form_tracker("06 12 34 56 78", consent=None), {})
    assert slots == {} and CallbackBook(get_engine(database)).pending() == []


async def test_submit_confirms_with_the_masked_number_and_clears_the_slots(database):
    tracker = make_tracker("06", "nlu_fallback", slots={"callback_consent": True, "callback_phone": "•• •• •• •• 78"})
    messages, events = await run(ActionSubmitCallback(), tracker)
    assert "•• •• •• •• 78" in messages[0]["text"] and "effacé" in messages[0]["text"]
    assert {(e["name"], e["value"]) for e in events} == {("callback_consent", None), ("callback_phone", None)}
