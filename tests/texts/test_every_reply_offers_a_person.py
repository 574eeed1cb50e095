"""A person on every path: each turn the real actions can produce ends on « Parler à une personne » (by SMS, its
numbered line « 0 »), unless the turn has just put the conversation in a person's queue.

The turns are played the way Rasa 3.6 plays them: follow-up actions are run, and a form runs its validation
action, then the question for the next empty slot (`action_ask_<slot>`) or, once the form is done, the action
its rule runs next (data/rules/). domain.yml's own responses are checked by tests/test_human_offer.py.

When a conversation with a person ends (nobody answered in time, nobody wrote for a while, the agent closed it),
the robot's goodbye goes out through the portal's relay, not through an action: by SMS it offers « 0 » too (the
web chat keeps its own « Parler à une personne » button in view, tests/web/test_widget_page.py).

Said by the channels without the choice, on purpose: « too many messages » (a choice would be refused too), the
SMS STOP confirmation (the person asked for silence); when the service or the SMS quota is down, the phone line.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pathlib
import pkgutil
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

import pytest
import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sanic import Sanic
from sqlalchemy.exc import OperationalError

import actions
from bot.channels.inputs import TOO_LONG_TEXT, too_long_reply
from bot.channels.sms.channel import SmsInput
from bot.channels.sms.pseudonym import pseudonymise
from bot.channels.sms.render import HUMAN_LINE, render_messages, render_text
from bot.channels.sms.service import LIMIT_NOTICE
from bot.db import get_engine
from bot.gsm7 import is_gsm7, to_gsm7
from bot.handoff.config import HandoffConfig
from bot.handoff.console import HandoffDesk
from bot.handoff.phone_checks import CodeLimitError, PhoneChecks
from bot.handoff.rasa_api import RasaClient
from bot.handoff.store import HandoffQueue, utcnow
from bot.paths import PROJECT_ROOT
from bot.places import answer as places_answer
from bot.places.hours import PARIS
from bot.places.importer import DEFAULT_PLACES_CSV, parse_places_file
from bot.places.search import PlaceIndex
from bot.replies import HUMAN_BUTTON, HUMAN_PAYLOAD, PHONE_HELP
from bot.resilience import ACTION_UNAVAILABLE_BUTTONS, SERVICE_UNAVAILABLE_TEXT
from tests.channels.sms.fakes import (
    PHONE,
    RecordingSender,
    ScriptedBot,
    make_config,
    make_store,
    serving_sms_channel,
)
from tests.handoff.helpers import actions_database, put_an_agent_on_duty
from tests.trackers import make_tracker, user_event

DOMAIN = cast(DomainDict, yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8")))
CHANNELS = ("webchat", "sms")
TUESDAY_10H = datetime(2026, 12, 1, 10, 0, tzinfo=PARIS)
MOBILE = "06 12 34 56 78"


def project_actions() -> dict[str, Action]:
    """Every action class defined in the actions package, by the name Rasa knows it by."""
    found: dict[str, Action] = {}
    for info in pkgutil.iter_modules(actions.__path__):
        module = importlib.import_module(f"actions.{info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, Action) and cls.__module__ == module.__name__ and not inspect.isabstract(cls):
                action = cls()
                found[action.name()] = action
    return found


def form_done_actions() -> dict[str, str]:
    """Form -> the action its rule runs once the form is done (`action: F`, `active_loop: null`, ..., `action`)."""
    done: dict[str, str] = {}
    for path in sorted((PROJECT_ROOT / "data" / "rules").glob("*.yml")):
        for rule in yaml.safe_load(path.read_text(encoding="utf-8")).get("rules") or []:
            steps = rule.get("steps") or []
            form = steps[0].get("action") if steps else None
            if (isinstance(form, str) and form in DOMAIN["forms"] and {"active_loop": None} in steps
                    and "action" in steps[-1]):
                done[form] = steps[-1]["action"]
    return done


ACTIONS = project_actions()
FORM_DONE = form_done_actions()


@dataclass
class Turn:
    """What one user message produced: the bot's messages, the actions run, and whether the bot paused."""

    messages: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    paused: bool = False


async def play(name: str, tracker: Tracker, turn: Turn | None = None) -> Turn:
    """Run an action, a form, and what they lead to within the same turn."""
    turn = turn or Turn()
    turn.actions.append(name)
    assert len(turn.actions) < 10, f"a turn that never ends: {turn.actions}"
    if name in DOMAIN["forms"]:
        return await play_form(name, tracker, turn)
    dispatcher = CollectingDispatcher()
    events = await ACTIONS[name].run(dispatcher, tracker, DOMAIN)
    turn.messages += dispatcher.messages
    for event in events:
        if event.get("event") == "pause":
            turn.paused = True
        elif event.get("event") == "followup":
            await play(event["name"], tracker, turn)
    return turn


async def play_form(form: str, tracker: Tracker, turn: Turn) -> Turn:
    """The validation action, then the next question, or the rule's action when no slot is left to ask."""
    turn.actions.append(f"validate_{form}")
    dispatcher = CollectingDispatcher()
    events = await ACTIONS[f"validate_{form}"].run(dispatcher, tracker, DOMAIN)  # updates tracker.slots too
    turn.messages += dispatcher.messages
    told = [event["value"] for event in events if event.get("name") == "requested_slot"]
    if told:
        requested = told[-1]
    else:  # the validation action left the choice to Rasa: the first required slot still empty
        required = DOMAIN["forms"][form]["required_slots"]
        requested = next((slot for slot in required if tracker.slots.get(slot) is None), None)
    tracker.slots["requested_slot"] = requested
    return await play(f"action_ask_{requested}" if requested else FORM_DONE[form], tracker, turn)


def in_form(text: str, intent: str, channel: str, requested: str, slots: dict[str, Any] | None = None,
            candidates: dict[str, Any] | None = None, sender_id: str = "test-user",
            entities: list[dict[str, Any]] | None = None) -> Tracker:
    """A message answering the form's question; `candidates` are the slots Rasa's own mappings just set."""
    tracker = make_tracker(text, intent, channel=channel, sender_id=sender_id, entities=entities,
                           slots={"requested_slot": requested, **(slots or {}), **(candidates or {})})
    tracker.events += [{"event": "slot", "name": name, "value": value} for name, value in (candidates or {}).items()]
    return tracker


def commune(name: str) -> list[dict[str, Any]]:
    return [{"entity": "commune", "value": name, "extractor": "RegexEntityExtractor"}]


@functools.cache
def shipped_places() -> PlaceIndex:
    """The shipped places, read once, without touching the project database."""
    return PlaceIndex(parse_places_file(DEFAULT_PLACES_CSV)[0])


class World:
    """The conditions of a path: a database, an agent or not, a failing service."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, database: str) -> None:
        self.monkeypatch = monkeypatch
        self.database = database
        self.sent_codes: list[str] = []

    def agent_available(self) -> None:
        put_an_agent_on_duty(self.database)

    def sms_gateway(self, works: bool = True) -> None:
        async def send(phone: str, code: str) -> bool:
            self.sent_codes.append(code)
            return works

        self.monkeypatch.setattr("bot.handoff.callback_form.send_code_sms", send)

    def broken(self, target: str) -> None:
        def fail(*args: Any, **kwargs: Any) -> Any:
            raise OperationalError("SELECT 1", {}, Exception("database is locked"))

        self.monkeypatch.setattr(target, fail)


@pytest.fixture
def world(tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> World:
    url = actions_database(tmp_path, monkeypatch, "offer.db")
    monkeypatch.setattr(places_answer, "get_place_index", shipped_places)
    monkeypatch.setattr(places_answer, "paris_now", lambda: TUESDAY_10H)
    return World(monkeypatch, url)


PlayPath = Callable[[World, str], Awaitable[Turn]]


@dataclass(frozen=True)
class Scenario:
    """A path through the actions: where it starts, and words that show the turn went that way (web|SMS)."""

    start: str
    says: str
    play: PlayPath


PATHS: dict[str, Scenario] = {}


def path(start: str, says: str) -> Callable[[PlayPath], PlayPath]:
    def register(function: PlayPath) -> PlayPath:
        PATHS[function.__name__] = Scenario(start, says, function)
        return function
    return register


# --- procedures ---------------------------------------------------------------------------------------------


@path("action_answer_procedure", says="Timbre fiscal")
async def procedure_answer(world: World, channel: str) -> Turn:
    return await play("action_answer_procedure",
                      make_tracker("Combien coûte un passeport ?", "procedure_passport", channel=channel))


@path("action_answer_procedure", says="apporter")
async def procedure_part_asked_by_a_button(world: World, channel: str) -> Turn:
    tracker = make_tracker('/procedure_passport{"procedure_part": "documents"}', "procedure_passport",
                           channel=channel, entities=[{"entity": "procedure_part", "value": "documents"}])
    return await play("action_answer_procedure", tracker)


@path("action_answer_procedure", says="pas encore de fiche")
async def procedure_without_an_entry(world: World, channel: str) -> Turn:
    return await play("action_answer_procedure", make_tracker("question", "procedure_not_written", channel=channel))


# --- misunderstandings ---------------------------------------------------------------------------------------


@path("action_handle_fallback", says="l'une de ces démarches")
async def fallback_proposes_procedures(world: World, channel: str) -> Turn:
    return await play("action_handle_fallback", make_tracker("carte d'identité perdue", "nlu_fallback",
                                                             channel=channel))


@path("action_handle_fallback", says="le dire autrement")
async def fallback_asks_to_rephrase(world: World, channel: str) -> Turn:
    return await play("action_handle_fallback", make_tracker("xyz", "nlu_fallback", channel=channel))


@path("action_handle_fallback", says="le dire autrement")
async def fallback_when_the_proposals_fail(world: World, channel: str) -> Turn:
    def fail(*args: Any) -> list[str]:
        raise RuntimeError("index broken")

    world.monkeypatch.setattr("bot.understanding.proposals.propose_procedures", fail)
    return await play("action_handle_fallback", make_tracker("carte d'identité perdue", "nlu_fallback",
                                                             channel=channel))


@path("action_handle_fallback", says="apporter")
async def fallback_follow_up_on_a_procedure(world: World, channel: str) -> Turn:
    tracker = make_tracker("et les documents ?", "nlu_fallback", channel=channel,
                           slots={"last_procedure": "passport"})
    return await play("action_handle_fallback", tracker)


@path("action_handle_fallback", says="les plus proches à Roubaix")
async def fallback_naming_a_commune(world: World, channel: str) -> Turn:
    tracker = make_tracker("jsuis a roubaix", "nlu_fallback", channel=channel, entities=commune("Roubaix"))
    return await play("action_handle_fallback", tracker)


@path("action_handle_fallback", says="occupées ou absentes")
async def second_fallback_nobody_available(world: World, channel: str) -> Turn:
    history = [user_event("blabla", "nlu_fallback", channel=channel), {"event": "bot", "text": "Pas compris."}]
    return await play("action_handle_fallback", make_tracker("xyz", "nlu_fallback", channel=channel,
                                                             history=history))


@path("action_handle_fallback", says="file d'attente")
async def second_fallback_queued(world: World, channel: str) -> Turn:
    world.agent_available()
    history = [user_event("blabla", "nlu_fallback", channel=channel), {"event": "bot", "text": "Pas compris."}]
    return await play("action_handle_fallback", make_tracker("xyz", "nlu_fallback", channel=channel,
                                                             history=history))


# --- a person ----------------------------------------------------------------------------------------------


def asks_for_a_person(channel: str, **slots: Any) -> Tracker:
    return make_tracker("je veux parler à quelqu'un", "request_human", channel=channel, slots=slots,
                        sender_id=f"{channel}-person")


@path("action_request_human", says="file d'attente")
async def person_queued(world: World, channel: str) -> Turn:
    world.agent_available()
    return await play("action_request_human", asks_for_a_person(channel))


@path("action_request_human", says="occupées ou absentes")
async def person_nobody_available(world: World, channel: str) -> Turn:
    return await play("action_request_human", asks_for_a_person(channel, commune="Roubaix"))


@path("action_request_human", says="en dehors des horaires")
async def person_out_of_hours(world: World, channel: str) -> Turn:
    world.agent_available()
    world.monkeypatch.setenv("NUMECRIVAIN_SERVICE_HOURS", "Mo-Su off")
    return await play("action_request_human", asks_for_a_person(channel))


@path("action_request_human", says="plusieurs fois en peu de temps")
async def person_asked_too_often(world: World, channel: str) -> Turn:
    world.agent_available()
    world.monkeypatch.setattr("bot.handoff.service.within_request_limits", lambda ticket: False)
    return await play("action_request_human", asks_for_a_person(channel))


@path("action_request_human", says="joindre l'équipe")
async def person_database_down(world: World, channel: str) -> Turn:
    world.broken("bot.handoff.person_request.get_target")
    return await play("action_request_human", asks_for_a_person(channel))


# --- the callback form -------------------------------------------------------------------------------------


@path("callback_form", says="Pour vous rappeler|être rappel")
async def callback_form_starts(world: World, channel: str) -> Turn:
    return await play("callback_form", make_tracker("rappelez-moi", "request_callback", channel=channel))


@path("callback_form", says="aucun numéro")
async def callback_refused(world: World, channel: str) -> Turn:
    return await play("callback_form", in_form("non", "deny", channel, "callback_consent",
                                               candidates={"callback_consent": False}))


@path("callback_form", says="Quel numéro|Une personne vous appellera")
async def callback_accepted(world: World, channel: str) -> Turn:
    """On the web: the number is asked next. By SMS: the number that writes, when the SMS channel knows it."""
    if channel == "sms":
        from bot.channels.sms.store import SmsStore
        from bot.handoff.store import utcnow

        SmsStore(get_engine(world.database)).upsert_contact("sms-known", "+33698765432", "android", utcnow())
    return await play("callback_form", in_form("oui", "affirm", channel, "callback_consent",
                                               candidates={"callback_consent": True}, sender_id="sms-known"))


@path("callback_form", says="Quel numéro|ne retrouve pas votre numéro")
async def callback_accepted_number_unknown(world: World, channel: str) -> Turn:
    return await play("callback_form", in_form("oui", "affirm", channel, "callback_consent",
                                               candidates={"callback_consent": True}, sender_id="sms-unknown"))


@path("callback_form", says="Quel numéro|enregistrer votre demande")
async def callback_accepted_database_down(world: World, channel: str) -> Turn:
    world.broken("bot.handoff.callback_form.sms_sender_number")
    return await play("callback_form", in_form("oui", "affirm", channel, "callback_consent",
                                               candidates={"callback_consent": True}))


def phone_answer(text: str, channel: str) -> Tracker:
    return in_form(text, "nlu_fallback", channel, "callback_phone", slots={"callback_consent": True})


@path("callback_form", says="ne semble pas valide")
async def callback_number_invalid(world: World, channel: str) -> Turn:
    return await play("callback_form", phone_answer("12 34", channel))


@path("callback_form", says="code à 6 chiffres")
async def callback_code_sent(world: World, channel: str) -> Turn:
    world.sms_gateway()
    return await play("callback_form", phone_answer(MOBILE, channel))


@path("callback_form", says="plusieurs codes")
async def callback_too_many_codes(world: World, channel: str) -> Turn:
    def refuse(*args: Any) -> str:
        raise CodeLimitError("limit")

    world.monkeypatch.setattr(PhoneChecks, "start", refuse)
    return await play("callback_form", phone_answer(MOBILE, channel))


@path("callback_form", says="envoyer de SMS")
async def callback_no_sms_gateway(world: World, channel: str) -> Turn:
    world.sms_gateway(works=False)
    return await play("callback_form", phone_answer(MOBILE, channel))


@path("callback_form", says="enregistrer votre demande")
async def callback_database_down(world: World, channel: str) -> Turn:
    world.broken("bot.handoff.phone_checks.PhoneChecks.pending")
    return await play("callback_form", phone_answer(MOBILE, channel))


@path("callback_form", says="ne correspond pas")
async def callback_wrong_code(world: World, channel: str) -> Turn:
    world.sms_gateway()
    await play("callback_form", phone_answer(MOBILE, channel))
    wrong = "000000" if world.sent_codes[0] != "000000" else "111111"
    return await play("callback_form", phone_answer(wrong, channel))


@path("callback_form", says="Une personne vous appellera")
async def callback_right_code(world: World, channel: str) -> Turn:
    world.sms_gateway()
    await play("callback_form", phone_answer(MOBILE, channel))
    return await play("callback_form", phone_answer(world.sent_codes[0], channel))


@path("callback_form", says="aucun numéro")
async def callback_cancelled(world: World, channel: str) -> Turn:
    return await play("callback_form", phone_answer("annuler", channel))


# --- places ------------------------------------------------------------------------------------------------


@path("places_form", says="les plus proches à Roubaix")
async def places_found(world: World, channel: str) -> Turn:
    return await play("places_form", make_tracker("un lieu à Roubaix", "find_help_nearby", channel=channel,
                                                  entities=commune("Roubaix")))


@path("places_form", says="Dans quelle commune")
async def places_commune_asked(world: World, channel: str) -> Turn:
    return await play("places_form", make_tracker("de l'aide près de chez moi", "find_help_nearby",
                                                  channel=channel))


@path("places_form", says="plusieurs communes")
async def places_commune_ambiguous(world: World, channel: str) -> Turn:
    return await play("places_form", in_form("Sainghin", "inform_location", channel, "commune"))


@path("places_form", says="Paris")
async def places_commune_outside(world: World, channel: str) -> Turn:
    return await play("places_form", in_form("Paris", "inform_location", channel, "commune"))


@path("action_find_places", says="Arras")
async def places_outside_with_nothing_remembered(world: World, channel: str) -> Turn:
    return await play("action_find_places", make_tracker("Arras", "inform_location", channel=channel))


# --- the checks --------------------------------------------------------------------------------------------


def human_choice(message: dict[str, Any]) -> bool:
    return any(button.get("payload") == HUMAN_PAYLOAD for button in message.get("buttons") or [])


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("name", sorted(PATHS))
async def test_every_turn_ends_on_the_choice_of_a_person(world: World, name: str, channel: str) -> None:
    scenario = PATHS[name]
    turn = await scenario.play(world, channel)
    said = [message for message in turn.messages if message.get("text")]
    assert said, f"{name}: the person gets no answer ({turn.actions})"
    web_words, _, sms_words = scenario.says.partition("|")
    words = to_gsm7(sms_words or web_words) if channel == "sms" else web_words
    assert any(words in to_gsm7(m["text"]) if channel == "sms" else words in m["text"] for m in said), (
        f"{name} took another path: {[m['text'][:60] for m in said]}")
    if turn.paused:  # queued: a person is already on the way, the choice would ask again
        assert "file d'attente" in said[-1]["text"] or "une personne va vous répondre" in said[-1]["text"]
        return
    assert human_choice(said[-1]), f"{name}: {turn.actions} ends on {said[-1]['text'][:80]!r} without a person"
    if channel == "sms":  # the channel itself adds « 0 »: render without it, the actions must bring it
        pages = render_messages(turn.messages, offer_human=False).pages
        assert pages and all(to_gsm7(HUMAN_LINE) in page for page in pages), pages


# --- after a person: the robot's goodbye, relayed by the portal ----------------------------------------------


class RelayOnlyRasa(RasaClient):
    """The portal's Rasa client: the real relay to the channel; the tracker is not needed here (resume succeeds)."""

    async def append_events(self, sender_id: str, events: list[dict[str, Any]]) -> None:
        return None


async def waited_too_long(desk: HandoffDesk, sender_id: str) -> None:
    desk.queue.enqueue(sender_id, "sms", [], now=utcnow() - timedelta(minutes=16))
    await desk.watchdog_tick()


async def nobody_wrote_for_a_while(desk: HandoffDesk, sender_id: str) -> None:
    request = desk.queue.enqueue(sender_id, "sms", [], now=utcnow() - timedelta(minutes=30))
    desk.queue.take(request.id, "alice", now=utcnow() - timedelta(minutes=20))
    await desk.watchdog_tick()


async def agent_closed(desk: HandoffDesk, sender_id: str) -> None:
    request = desk.queue.enqueue(sender_id, "sms", [])
    desk.queue.take(request.id, "alice")
    await desk.close(request.id, "alice")


HANDOFF_ENDINGS: dict[str, tuple[Callable[[HandoffDesk, str], Awaitable[None]], str]] = {
    "wait_timeout": (waited_too_long, "personne n'a pu vous répondre à temps"),
    "idle_timeout": (nobody_wrote_for_a_while, "il n'y a pas eu de message depuis un moment"),
    "closed_by_agent": (agent_closed, "a terminé la conversation"),
}


@pytest.mark.parametrize("ending", sorted(HANDOFF_ENDINGS))
async def test_sms_goodbye_after_a_person_offers_a_person_again(
        ending: str, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Sanic, "test_mode", True)
    end_handoff, says = HANDOFF_ENDINGS[ending]
    token = "internal-token-for-the-relay"
    bot, sender, store = ScriptedBot(), RecordingSender(), make_store(tmp_path)
    channel = SmsInput(make_config(), store=store, senders={"android": sender}, internal_token=token)
    async with serving_sms_channel(channel, bot) as served:
        await served.resident_writes("bonjour")  # the channel knows the number from now on
        desk = HandoffDesk(HandoffQueue(store.engine), RelayOnlyRasa(served.session, served.url, "unused", token),
                           HandoffConfig(wait_timeout_minutes=15, idle_timeout_minutes=15))
        sent_before = len(sender.texts)
        await end_handoff(desk, pseudonymise(PHONE, make_config().pepper))
        [goodbye] = sender.texts[sent_before:]
        assert goodbye.startswith("Numécrivain (robot) : ") and to_gsm7(says) in goodbye, goodbye
        assert goodbye.endswith(to_gsm7(HUMAN_LINE)) and is_gsm7(goodbye), goodbye
        await served.resident_writes("0")
    assert bot.texts == ["bonjour", HUMAN_PAYLOAD]


def test_every_action_of_the_project_is_driven_by_a_path_here() -> None:
    started = {scenario.start for scenario in PATHS.values()}
    reached = set(started)
    for form in started & set(DOMAIN["forms"]):
        reached |= {f"validate_{form}", FORM_DONE[form]}
        reached |= {f"action_ask_{slot}" for slot in DOMAIN["forms"][form]["required_slots"]}
    assert set(ACTIONS) <= reached, f"actions no path here drives: {sorted(set(ACTIONS) - reached)}"
    assert set(FORM_DONE) == set(DOMAIN["forms"])


def test_channel_replies_offer_a_person_or_the_phone_line() -> None:
    assert human_choice(too_long_reply().as_dispatch_kwargs())
    assert all(to_gsm7(HUMAN_LINE) in page for page in render_text(TOO_LONG_TEXT).pages)
    assert HUMAN_BUTTON.as_dict() in ACTION_UNAVAILABLE_BUTTONS  # an action failed or was too slow
    assert PHONE_HELP in SERVICE_UNAVAILABLE_TEXT and PHONE_HELP in LIMIT_NOTICE
